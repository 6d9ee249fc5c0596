//! The media engine: the tokio driver of the media sessions, beside the signalling core. The
//! core sends [`MediaCommand`]s through a [`MediaHandle`] (bounded queue, `try_send`: the core
//! never blocks) and receives [`MediaEvent`]s on the channel it gave to [`MediaEngine::start`].
//! RTP never passes through the core's queue.
//!
//! Layout: a router task owns the call -> shard map and forwards commands; a small fixed number
//! of shard tasks each own their calls' sockets and sessions. A shard wakes every 20 ms and, in
//! one pass, reads every socket until it would block (kernel arrival timestamps keep the
//! timing exact), mixes its conferences and sends every due packet of all its sessions: one
//! wake-up per tick, no task per call or packet. A conference's members are moved onto one
//! shard so it can mix them in the same pass. Files are read and written on tokio's blocking
//! threads.

mod router;
mod shard;
pub(crate) mod socket;

pub use socket::MediaSocket;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::allocator::MediaError;
use super::rtp::PACKET_INTERVAL;
use super::session::StreamParams;
use super::tones::Tone;

/// What the core asks of the engine.
#[derive(Debug)]
pub enum MediaCommand {
    /// Start the call's RTP session on these sockets (bound and prepared by the port
    /// allocator, RTCP = RTP + 1) with what SDP negotiated. An open session of the same call is
    /// closed first.
    Open {
        call: u64,
        rtp: MediaSocket,
        rtcp: MediaSocket,
        stream: StreamParams,
    },
    /// A re-INVITE/UPDATE changed the remote address, codec or direction (hold).
    Update { call: u64, stream: StreamParams },
    /// Ends the session: play/record/generate end as stopped/cancelled, RTCP BYE, sockets
    /// closed.
    Close { call: u64 },
    /// RFC 4733 digits ("0-9*#A-D", ',' = 1 s pause), each `duration_ms` long (0 = 100) with
    /// as long a gap; a generate in progress is cancelled. Check with
    /// [`crate::media::dtmf::validate_digits`] first. Without a negotiated telephone-event the
    /// engine answers GenerateDone{cancelled: true} (use SIP INFO).
    GenerateDigits {
        call: u64,
        digits: String,
        duration_ms: u32,
    },
    /// A tone; `duration_ms` 0 = until cancelled (BEEP: 400 ms).
    GenerateTone {
        call: u64,
        tone: Tone,
        duration_ms: u32,
    },
    /// Cancels digits/tone in progress (GenerateDone{cancelled: true}).
    CancelGenerate { call: u64 },
    /// Plays a WAV file; a play in progress ends with PlayDone{stopped: true}. With `within`,
    /// the engine first resolves `file`'s symlinks ([`crate::media::files::resolve_within`]) and
    /// answers FileRefused if they lead out of that directory.
    Play {
        call: u64,
        op: u64,
        file: PathBuf,
        within: Option<PathBuf>,
        looped: bool,
    },
    /// Records the peer into a WAV file (16-bit PCM, 8 kHz, mono); `within` as for Play.
    Record {
        call: u64,
        op: u64,
        file: PathBuf,
        within: Option<PathBuf>,
        max_ms: u32,
        silence_ms: Option<u32>,
    },
    /// Stops play and record on the call (PlayDone/RecordDone with stopped = true).
    StopMedia { call: u64 },
    /// Sets the members of conference `conf` (each hears the mix of the others); empty =
    /// dissolve. A call is in one conference at a time.
    Conference { conf: u64, members: Vec<u64> },
}

impl MediaCommand {
    /// The call a command is about (`None` for Conference).
    fn call(&self) -> Option<u64> {
        match self {
            MediaCommand::Open { call, .. }
            | MediaCommand::Update { call, .. }
            | MediaCommand::Close { call }
            | MediaCommand::GenerateDigits { call, .. }
            | MediaCommand::GenerateTone { call, .. }
            | MediaCommand::CancelGenerate { call }
            | MediaCommand::Play { call, .. }
            | MediaCommand::Record { call, .. }
            | MediaCommand::StopMedia { call } => Some(*call),
            MediaCommand::Conference { .. } => None,
        }
    }
}

/// What the engine tells the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    DigitStart {
        call: u64,
        digit: char,
    },
    DigitEnd {
        call: u64,
        digit: char,
        duration_ms: u32,
    },
    GenerateDone {
        call: u64,
        cancelled: bool,
    },
    /// `stopped`: by StopMedia, a newer Play, or the call's end.
    PlayDone {
        call: u64,
        op: u64,
        result: Result<(), String>,
        stopped: bool,
    },
    /// `Ok(ms recorded)`; `stopped`: by StopMedia, a newer Record, or the call's end.
    RecordDone {
        call: u64,
        op: u64,
        result: Result<u32, String>,
        stopped: bool,
    },
    /// A Play or Record whose file symlinks lead out of its `within` directory: not started.
    FileRefused {
        call: u64,
        op: u64,
        reason: String,
    },
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct MediaEngineConfig {
    /// Shard tasks (default: twice the number of CPUs, 2 to 8). Their ticks are spread over
    /// the 20 ms, so more shards means shorter bursts.
    pub shards: usize,
    /// Worker threads of [`MediaEngine::start_on_own_threads`]'s runtime (1: a current-thread
    /// runtime on the engine's one thread). Default: half the CPUs, 1 to 4, so on 2 CPUs one
    /// thread, whose router and shards hand commands on without waking another worker (-30 %
    /// engine CPU per call set-up, docs/performance.md "RTP mode, round 3").
    pub threads: usize,
    /// Capacity of the command queue.
    pub command_capacity: usize,
}

impl Default for MediaEngineConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        MediaEngineConfig {
            shards: cpus.clamp(1, 4),
            threads: (cpus / 2).clamp(1, 4),
            command_capacity: 8192,
        }
    }
}

/// Running totals, updated by each shard once per tick.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    sessions: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
    send_errors: AtomicU64,
    events_dropped: AtomicU64,
}

/// A snapshot of the engine's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineCounters {
    pub sessions: u64,
    /// Datagrams sent (RTP and RTCP).
    pub sent: u64,
    /// Datagrams received.
    pub received: u64,
    /// Datagrams the socket refused (buffer full, unreachable).
    pub send_errors: u64,
    /// Events lost because the core's channel was closed or the backlog overflowed.
    pub events_dropped: u64,
}

impl Counters {
    fn snapshot(&self) -> EngineCounters {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        EngineCounters {
            sessions: get(&self.sessions),
            sent: get(&self.sent),
            received: get(&self.received),
            send_errors: get(&self.send_errors),
            events_dropped: get(&self.events_dropped),
        }
    }
}

/// The core's side of the engine. Cloneable; dropping every clone stops the engine (sessions
/// are closed with BYE).
#[derive(Debug, Clone)]
pub struct MediaHandle {
    tx: mpsc::Sender<MediaCommand>,
    counters: Arc<Counters>,
}

impl MediaHandle {
    /// Queues a command without blocking.
    pub fn send(&self, cmd: MediaCommand) -> Result<(), MediaError> {
        self.tx.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => MediaError::Busy,
            mpsc::error::TrySendError::Closed(_) => MediaError::Stopped,
        })
    }

    pub fn counters(&self) -> EngineCounters {
        self.counters.snapshot()
    }

    /// Queues a command without blocking; a full queue hands it back (to send again later).
    pub fn send_or_return(&self, cmd: MediaCommand) -> Result<(), Refused> {
        self.tx.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(cmd) => Refused::Full(cmd),
            mpsc::error::TrySendError::Closed(_) => Refused::Stopped,
        })
    }

    /// Resolves once the command queue has room again (or the engine stopped); the room is not
    /// held, so the one sender that waited can [`Self::send`] straight after.
    pub async fn ready(&self) {
        let _ = self.tx.reserve().await;
    }
}

/// Why [`MediaHandle::send_or_return`] did not queue a command.
#[derive(Debug)]
pub enum Refused {
    /// The queue is full: the command, back.
    Full(MediaCommand),
    /// The engine has stopped.
    Stopped,
}

pub struct MediaEngine;

impl MediaEngine {
    /// Starts the router and shard tasks on the current tokio runtime.
    pub fn start(config: MediaEngineConfig, events: mpsc::Sender<MediaEvent>) -> MediaHandle {
        Self::launch(config, events).0
    }

    /// Starts the engine on a runtime and threads of its own (`threads` workers), so its
    /// ticks never wait for the signalling core, whatever runtime that runs on. The thread
    /// ends once every [`MediaHandle`] is dropped and the shards have closed their sessions.
    pub fn start_on_own_threads(
        config: MediaEngineConfig,
        events: mpsc::Sender<MediaEvent>,
    ) -> std::io::Result<(MediaHandle, std::thread::JoinHandle<()>)> {
        let runtime = engine_runtime(config.threads)?;
        let (handle_tx, handle_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("tapigw-media".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let (handle, tasks) = Self::launch(config, events);
                    let _ = handle_tx.send(handle);
                    for task in tasks {
                        let _ = task.await;
                    }
                });
                // File reads and writes still running are not waited for.
                runtime.shutdown_background();
            })?;
        let handle = handle_rx
            .recv()
            .map_err(|_| std::io::Error::other("the media thread ended at start"))?;
        Ok((handle, thread))
    }

    /// The engine's tasks: the router first, then the shards (which end after it).
    fn launch(
        config: MediaEngineConfig,
        events: mpsc::Sender<MediaEvent>,
    ) -> (MediaHandle, Vec<tokio::task::JoinHandle<()>>) {
        let (tx, rx) = mpsc::channel(config.command_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let count = config.shards.max(1);
        let origin = std::time::Instant::now();
        let (shards, mut tasks): (Vec<_>, Vec<_>) = (0..count)
            .map(|id| {
                let phase = PACKET_INTERVAL * id as u32 / count as u32;
                shard::spawn(id, origin + phase, events.clone(), counters.clone())
            })
            .unzip();
        tasks.insert(0, tokio::spawn(router::Router::new(shards).run(rx)));
        (MediaHandle { tx, counters }, tasks)
    }
}

/// A current-thread runtime for one thread, else a multi-thread one with `threads` workers.
fn engine_runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder.thread_name("tapigw-media").enable_all().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn send_never_blocks_full_is_busy_and_a_stopped_engine_says_so() {
        let (tx, _events) = mpsc::channel(8);
        let config = MediaEngineConfig {
            shards: 1,
            threads: 1,
            command_capacity: 2,
        };
        let handle = MediaEngine::start(config, tx);
        // On a current-thread runtime the router cannot run before we yield.
        let stop = || MediaCommand::StopMedia { call: 1 };
        assert_eq!(handle.send(stop()), Ok(()));
        assert_eq!(handle.send(stop()), Ok(()));
        assert_eq!(handle.send(stop()), Err(MediaError::Busy));
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(handle.send(stop()), Ok(()), "drained once the router ran");
        let (tx, rx) = mpsc::channel(1);
        let stopped = MediaHandle {
            tx,
            counters: Arc::default(),
        };
        drop(rx);
        assert_eq!(stopped.send(stop()), Err(MediaError::Stopped));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_full_queue_hands_the_command_back_and_ready_waits_for_room() {
        let (tx, _events) = mpsc::channel(8);
        let config = MediaEngineConfig {
            shards: 1,
            threads: 1,
            command_capacity: 1,
        };
        let handle = MediaEngine::start(config, tx);
        assert!(handle
            .send_or_return(MediaCommand::StopMedia { call: 1 })
            .is_ok());
        match handle.send_or_return(MediaCommand::Close { call: 7 }) {
            Err(Refused::Full(MediaCommand::Close { call: 7 })) => {}
            other => panic!("expected the Close back, got {other:?}"),
        }
        // The router takes the first command once we yield; then there is room again.
        tokio::time::timeout(std::time::Duration::from_secs(5), handle.ready())
            .await
            .expect("room within 5 s");
        assert!(handle
            .send_or_return(MediaCommand::Close { call: 7 })
            .is_ok());
    }
}
