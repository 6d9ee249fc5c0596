//! What tells the core task to stop or reload: SIGTERM, SIGINT, SIGHUP and an in-process
//! owner's shutdown future, watched by a task of their own that sends one [`Control`] per event.
//!
//! The core's loop then polls one channel for them instead of three signal streams and the
//! future on every turn: tokio's `Signal::recv` builds and drops a boxed future each time it is
//! polled from a `select!`, which callgrind counted at about 280 instructions a poll, some 80
//! polls per call at low load (docs/performance.md, "The core loop's turn").

use std::future::Future;

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// An order for the core task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Control {
    /// Stop gracefully; the cause, for the log ("SIGTERM", "SIGINT", "shutdown request").
    Stop(&'static str),
    /// SIGHUP: read the configuration file again.
    Reload,
}

/// SIGTERM, SIGINT and SIGHUP streams (each absent if it could not be installed).
pub(super) struct Signals {
    term: Option<Signal>,
    int: Option<Signal>,
    hup: Option<Signal>,
}

impl Signals {
    /// Installs the handlers (before anything listens, so a SIGTERM right after "listening"
    /// is already a graceful stop).
    pub(super) fn install() -> Signals {
        Signals {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
        }
    }

    /// Spawns the watcher: every SIGHUP is a [`Control::Reload`]; the first SIGTERM, SIGINT or
    /// completion of `shutdown` is a [`Control::Stop`], after which the watcher ends (a stop is
    /// not undone, and a reload during the stop is not wanted).
    pub(super) fn watch(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> (mpsc::Receiver<Control>, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4);
        (rx, tokio::spawn(self.forward(shutdown, tx)))
    }

    async fn forward(
        mut self,
        shutdown: impl Future<Output = ()> + Send,
        tx: mpsc::Sender<Control>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let order = tokio::select! {
                biased;
                _ = recv(&mut self.term) => Control::Stop("SIGTERM"),
                _ = recv(&mut self.int) => Control::Stop("SIGINT"),
                _ = &mut shutdown => Control::Stop("shutdown request"),
                _ = recv(&mut self.hup) => Control::Reload,
            };
            if tx.send(order).await.is_err() || order != Control::Reload {
                return;
            }
        }
    }
}

/// The next delivery of `signal`; never, if its handler could not be installed.
async fn recv(signal: &mut Option<Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_signals() -> Signals {
        Signals {
            term: None,
            int: None,
            hup: None,
        }
    }

    #[tokio::test]
    async fn the_shutdown_future_is_one_stop_then_the_watcher_ends() {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let (mut rx, task) = no_signals().watch(async {
            let _ = done_rx.await;
        });
        assert!(rx.try_recv().is_err(), "nothing before the owner asks");
        done_tx.send(()).unwrap();
        assert_eq!(rx.recv().await, Some(Control::Stop("shutdown request")));
        task.await.unwrap();
        assert_eq!(rx.recv().await, None, "the watcher ended after the stop");
    }

    #[tokio::test]
    async fn sighup_is_a_reload_each_time_and_sigterm_a_stop() {
        let (mut rx, task) = Signals::install().watch(std::future::pending());
        for _ in 0..2 {
            // SAFETY: raise() only sends a signal to this process; tokio's handler is installed.
            assert_eq!(unsafe { libc::raise(libc::SIGHUP) }, 0);
            assert_eq!(rx.recv().await, Some(Control::Reload));
        }
        assert_eq!(unsafe { libc::raise(libc::SIGTERM) }, 0);
        assert_eq!(rx.recv().await, Some(Control::Stop("SIGTERM")));
        task.await.unwrap();
    }
}
