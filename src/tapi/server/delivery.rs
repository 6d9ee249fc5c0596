//! Getting answers and TAPI messages out: function responses, pushed messages (modes 1 and 3),
//! the event queue with lineGetMessage (mode 2). All go through one output queue, so the order
//! in which TAPISRV produces them is the order on each connection. Every message is numbered
//! with its app's next `seq` here; resumable apps keep what was written for a replay
//! (`sessions`).

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use crate::tapi::{
    Answer, ConnId, HLineApp, LineMessage, NotifyMode, Output, ReplyTag, Stamp, TapiErr,
    LINEERR_INVALAPPHANDLE, LINEERR_OPERATIONFAILED, PHONEERR_INVALAPPHANDLE,
    PHONEERR_OPERATIONFAILED,
};

use super::state::{App, Numbered, Waiter};
use super::Tapisrv;

/// lineGetMessage's INFINITE.
const INFINITE: u32 = 0xFFFF_FFFF;

impl Tapisrv {
    pub(super) fn respond<E: Into<TapiErr>>(
        &mut self,
        conn: ConnId,
        tag: ReplyTag,
        result: Result<Answer, E>,
    ) {
        let result = result.map_err(Into::into);
        self.outputs
            .push_back(Output::Response { conn, tag, result });
    }

    /// Delivers one TAPI message to an app by its notification mode, numbered with the app's
    /// next seq. While a function is being served, what it causes waits until its response is
    /// queued (ordering promise 1). Resumable apps keep what was written for a replay, and a
    /// kept (detached) app queues its pushed messages until it is resumed.
    pub(super) fn deliver(&mut self, app: HLineApp, message: LineMessage) {
        if self.deferring {
            self.deferred.push((app, message));
            return;
        }
        let Some(a) = self.apps.get_mut(&app) else {
            return;
        };
        a.last_seq += 1;
        let numbered = Numbered {
            seq: a.last_seq,
            message,
        };
        match a.mode {
            NotifyMode::Event => self.deliver_event(app, numbered),
            NotifyMode::HiddenWindow | NotifyMode::CompletionPort => {
                self.deliver_pushed(app, numbered)
            }
        }
    }

    /// Modes 1 and 3: pushed on the app's connection, or kept while it has none.
    fn deliver_pushed(&mut self, app: HLineApp, numbered: Numbered) {
        let max = self.config.max_event_queue;
        let Some(a) = self.apps.get_mut(&app) else {
            return;
        };
        let Some(conn) = a.conn else {
            if a.unsent >= max {
                return self.overflow(app, "messages of a kept app");
            }
            a.unsent += 1;
            keep_written(a, numbered, max);
            return;
        };
        if a.resumable {
            keep_written(a, numbered, max);
        }
        let output = pushed(a, conn, numbered);
        self.outputs.push_back(output);
    }

    /// Mode 2: a waiting lineGetMessage gets it, else it queues (bounded).
    fn deliver_event(&mut self, app: HLineApp, numbered: Numbered) {
        let max = self.config.max_event_queue;
        let Some(a) = self.apps.get_mut(&app) else {
            return;
        };
        if let Some(waiter) = a.waiters.pop_front() {
            let answer = handed_out(a, numbered, max);
            self.respond::<TapiErr>(waiter.conn, waiter.tag, Ok(answer));
        } else if a.queue.len() >= max {
            self.overflow(app, "event queue (the app does not call lineGetMessage)");
        } else {
            a.queue.push_back(numbered);
        }
    }

    /// More messages than `api.max_event_queue` wait for an app: it is shut down once the
    /// current input is handled (TAPI cannot tell an app that messages were lost).
    fn overflow(&mut self, app: HLineApp, what: &str) {
        if self.pending_shutdowns.contains(&app) {
            return;
        }
        if let Some(a) = self.apps.get(&app) {
            tracing::warn!(
                app = %a.name,
                handle = app.0,
                limit = self.config.max_event_queue,
                "{what} full: shutting the app down"
            );
        }
        self.counters.event_queue_overflows += 1;
        self.pending_shutdowns.push(app);
    }

    /// lineGetMessage / phoneGetMessage: a queued message at once, or wait up to `timeout` ms.
    pub(super) fn get_message(
        &mut self,
        now: Instant,
        conn: ConnId,
        tag: ReplyTag,
        app: HLineApp,
        timeout: u32,
        phone: bool,
    ) {
        let (invalid, failed): (TapiErr, TapiErr) = if phone {
            (
                PHONEERR_INVALAPPHANDLE.into(),
                PHONEERR_OPERATIONFAILED.into(),
            )
        } else {
            (
                LINEERR_INVALAPPHANDLE.into(),
                LINEERR_OPERATIONFAILED.into(),
            )
        };
        let max = self.config.max_event_queue;
        let Some(a) = self
            .apps
            .get_mut(&app)
            .filter(|a| a.on(conn) && a.phone == phone)
        else {
            return self.respond(conn, tag, Err(invalid));
        };
        if a.mode != NotifyMode::Event {
            // Only event-mode apps have a queue (tapi.md §3).
            return self.respond(conn, tag, Err(invalid));
        }
        if let Some(numbered) = a.queue.pop_front() {
            let answer = handed_out(a, numbered, max);
            return self.respond::<TapiErr>(conn, tag, Ok(answer));
        }
        if timeout == 0 {
            return self.respond(conn, tag, Err(failed));
        }
        let deadline =
            (timeout != INFINITE).then(|| now + Duration::from_millis(u64::from(timeout)));
        a.waiters.push_back(Waiter {
            conn,
            tag,
            deadline,
        });
        if let Some(at) = deadline {
            self.waiter_deadlines.push(Reverse((at, app)));
        }
    }

    /// Answers every lineGetMessage (phoneGetMessage) whose timeout has passed with
    /// LINEERR_OPERATIONFAILED (PHONEERR_OPERATIONFAILED).
    pub(super) fn expire_waiters(&mut self, now: Instant) {
        self.expire_gathers(now);
        while let Some(&Reverse((at, app))) = self.waiter_deadlines.peek() {
            if at > now {
                break;
            }
            self.waiter_deadlines.pop();
            let Some(a) = self.apps.get_mut(&app) else {
                continue;
            };
            let failed: TapiErr = if a.phone {
                PHONEERR_OPERATIONFAILED.into()
            } else {
                LINEERR_OPERATIONFAILED.into()
            };
            let (due, keep): (Vec<Waiter>, Vec<Waiter>) = a
                .waiters
                .drain(..)
                .partition(|w| w.deadline.is_some_and(|d| d <= now));
            a.waiters = keep.into();
            for w in due {
                self.respond(w.conn, w.tag, Err(failed));
            }
        }
    }

    /// Answers every waiting lineGetMessage of a shut-down app with `err`.
    pub(super) fn wake_waiters(&mut self, waiters: impl IntoIterator<Item = Waiter>, err: TapiErr) {
        for w in waiters {
            self.respond(w.conn, w.tag, Err(err));
        }
    }
}

/// The stamp of an app's message.
pub(super) fn stamp(a: &App, seq: u64) -> Stamp {
    Stamp {
        app: a.handle.0,
        phone: a.phone,
        seq,
    }
}

/// A pushed message for the app's connection (with the completion key in mode 3).
pub(super) fn pushed(a: &App, conn: ConnId, numbered: Numbered) -> Output {
    Output::Message {
        conn,
        message: numbered.message,
        completion_key: (a.mode == NotifyMode::CompletionPort).then_some(a.completion_key),
        stamp: stamp(a, numbered.seq),
    }
}

/// lineGetMessage's answer; a resumable app keeps the message for a replay.
fn handed_out(a: &mut App, numbered: Numbered, max: usize) -> Answer {
    if a.resumable {
        keep_written(a, numbered, max);
    }
    Answer::Message(numbered.message, stamp(a, numbered.seq))
}

/// Keeps a message for a replay, the oldest dropped beyond `max`.
fn keep_written(a: &mut App, numbered: Numbered, max: usize) {
    a.replay.push_back(numbered);
    while a.replay.len() > max {
        a.replay.pop_front();
    }
}
