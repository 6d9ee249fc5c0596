//! Getting answers and TAPI messages out: function responses, pushed messages (modes 1 and 3),
//! the event queue with lineGetMessage (mode 2). All go through one output queue, so the order
//! in which TAPISRV produces them is the order on each connection.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use crate::tapi::{
    Answer, ConnId, HLineApp, LineMessage, NotifyMode, Output, ReplyTag, TapiErr,
    LINEERR_INVALAPPHANDLE, LINEERR_OPERATIONFAILED, PHONEERR_INVALAPPHANDLE,
    PHONEERR_OPERATIONFAILED,
};

use super::state::Waiter;
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

    /// Delivers one TAPI message to an app by its notification mode. While a function is being
    /// served, what it causes waits until its response is queued (ordering promise 1).
    pub(super) fn deliver(&mut self, app: HLineApp, message: LineMessage) {
        if self.deferring {
            self.deferred.push((app, message));
            return;
        }
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
                    self.respond::<TapiErr>(waiter.conn, waiter.tag, Ok(Answer::Message(message)));
                } else if a.queue.len() >= self.config.max_event_queue {
                    tracing::warn!(
                        app = %a.name,
                        queued = a.queue.len(),
                        "event queue full (the app does not call lineGetMessage): shutting it down"
                    );
                    self.counters.event_queue_overflows += 1;
                    self.pending_shutdowns.push(app);
                } else {
                    a.queue.push_back(message);
                }
            }
        }
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
        let Some(a) = self
            .apps
            .get_mut(&app)
            .filter(|a| a.conn == conn && a.phone == phone)
        else {
            return self.respond(conn, tag, Err(invalid));
        };
        if a.mode != NotifyMode::Event {
            // Only event-mode apps have a queue (tapi.md §3).
            return self.respond(conn, tag, Err(invalid));
        }
        if let Some(message) = a.queue.pop_front() {
            return self.respond::<TapiErr>(conn, tag, Ok(Answer::Message(message)));
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
