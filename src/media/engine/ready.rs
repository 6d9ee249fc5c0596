//! Socket readiness for a shard without a task per socket: each socket of a shard gets a waker
//! that, when tokio reports the socket readable, queues the socket's key and notifies the
//! shard's task, which then drains only the sockets that are ready.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};

use tokio::sync::Notify;

/// Sockets that became readable since the shard last looked.
#[derive(Default)]
pub struct ReadyQueue {
    keys: Mutex<Vec<u32>>,
    pub notify: Notify,
}

impl ReadyQueue {
    pub fn push(&self, key: u32) {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(key);
        self.notify.notify_one();
    }

    /// Moves the queued keys into `into` (which keeps its allocation between calls).
    pub fn take(&self, into: &mut Vec<u32>) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::swap(&mut *keys, into);
    }
}

/// The waker of one socket: key = slot index << 1 | (1 for RTCP).
pub struct SocketWaker {
    key: u32,
    queued: AtomicBool,
    queue: Arc<ReadyQueue>,
}

impl SocketWaker {
    pub fn new(key: u32, queue: Arc<ReadyQueue>) -> Arc<Self> {
        Arc::new(SocketWaker {
            key,
            queued: AtomicBool::new(false),
            queue,
        })
    }

    /// The shard is about to drain the socket: a readiness from now on queues it again.
    pub fn clear(&self) {
        self.queued.store(false, Ordering::Release);
    }

    /// Queues the key unless it is already queued.
    pub fn queue(&self) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.queue.push(self.key);
        }
    }

    pub fn waker(self: &Arc<Self>) -> Waker {
        Waker::from(self.clone())
    }
}

impl Wake for SocketWaker {
    fn wake(self: Arc<Self>) {
        self.queue();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.queue();
    }
}
