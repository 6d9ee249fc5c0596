//! Getting answers and TAPI messages out: function responses, pushed messages (modes 1 and 3),
//! the event queue with lineGetMessage (mode 2). All go through one output queue, so the order
//! in which TAPISRV produces them is the order on each connection.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use crate::tapi::{
    Answer, ConnId, HLineApp, LineErr, LineMessage, NotifyMode, Output, ReplyTag,
    LINEERR_INVALAPPHANDLE, LINEERR_OPERATIONFAILED,
};

use super::state::Waiter;
use super::{FnResult, Tapisrv};

/// lineGetMessage's INFINITE.
const INFINITE: u32 = 0xFFFF_FFFF;

impl Tapisrv {
    pub(super) fn respond(&mut self, conn: ConnId, tag: ReplyTag, result: FnResult) {
        self.outputs
            .push_back(Output::Response { conn, tag, result });
    }

    /// Delivers one TAPI message to an app by its notification mode.
    pub(super) fn deliver(&mut self, app: HLineApp, message: LineMessage) {
        let Some(a) = self.apps.get_mut(&app) else {
            return;
        };
        let conn = a.conn;
        match a.mode {
            NotifyMode::HiddenWindow => self.outputs.push_back(Output::Message {
                conn,
                message,
                completion_key: None,
            }),
            NotifyMode::CompletionPort => {
                let key = a.completion_key;
                self.outputs.push_back(Output::Message {
                    conn,
                    message,
                    completion_key: Some(key),
                });
            }
            NotifyMode::Event => {
                if let Some(waiter) = a.waiters.pop_front() {
                    self.respond(waiter.conn, waiter.tag, Ok(Answer::Message(message)));
                } else if a.queue.len() >= self.config.max_event_queue {
                    tracing::warn!(
                        app = %a.name,
                        queued = a.queue.len(),
                        "event queue full (the app does not call lineGetMessage): shutting it down"
                    );
                    self.pending_shutdowns.push(app);
                } else {
                    a.queue.push_back(message);
                }
            }
        }
    }

    /// lineGetMessage: a queued message at once, or wait up to `timeout` ms.
    pub(super) fn line_get_message(
        &mut self,
        now: Instant,
        conn: ConnId,
        tag: ReplyTag,
        app: HLineApp,
        timeout: u32,
    ) {
        let Some(a) = self.apps.get_mut(&app).filter(|a| a.conn == conn) else {
            self.respond(conn, tag, Err(LINEERR_INVALAPPHANDLE));
            return;
        };
        if a.mode != NotifyMode::Event {
            // Only event-mode apps have a queue (tapi.md §3).
            self.respond(conn, tag, Err(LINEERR_INVALAPPHANDLE));
            return;
        }
        if let Some(message) = a.queue.pop_front() {
            self.respond(conn, tag, Ok(Answer::Message(message)));
            return;
        }
        if timeout == 0 {
            self.respond(conn, tag, Err(LINEERR_OPERATIONFAILED));
            return;
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

    /// Answers every lineGetMessage whose timeout has passed with LINEERR_OPERATIONFAILED.
    pub(super) fn expire_waiters(&mut self, now: Instant) {
        while let Some(&Reverse((at, app))) = self.waiter_deadlines.peek() {
            if at > now {
                break;
            }
            self.waiter_deadlines.pop();
            let Some(a) = self.apps.get_mut(&app) else {
                continue;
            };
            let (due, keep): (Vec<Waiter>, Vec<Waiter>) = a
                .waiters
                .drain(..)
                .partition(|w| w.deadline.is_some_and(|d| d <= now));
            a.waiters = keep.into();
            for w in due {
                self.respond(w.conn, w.tag, Err(LINEERR_OPERATIONFAILED));
            }
        }
    }

    /// Answers every waiting lineGetMessage of a shut-down app with `err`.
    pub(super) fn wake_waiters(&mut self, waiters: impl IntoIterator<Item = Waiter>, err: LineErr) {
        for w in waiters {
            self.respond(w.conn, w.tag, Err(err));
        }
    }
}
