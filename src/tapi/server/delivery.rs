//! Getting answers and TAPI messages out: function responses, pushed notifications (modes 1
//! and 3), the event queue with lineGetMessage (mode 2). All go through one output queue, so
//! the order in which TAPISRV produces them is the order on each connection.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::api::protocol::{lineerr_line, message_fields, notification_line, result_line};
use crate::api::{ApiOutput, ConnId, GetMessageParams};
use crate::tapi::{
    HLineApp, LineErr, LineMessage, LINEERR_INVALAPPHANDLE, LINEERR_OPERATIONFAILED,
};

use super::state::{NotifyMode, Waiter};
use super::{FnResult, Tapisrv};

/// lineGetMessage's INFINITE.
const INFINITE: u32 = 0xFFFF_FFFF;

impl Tapisrv {
    pub(super) fn respond(&mut self, conn: ConnId, id: &Value, result: FnResult) {
        let line = match result {
            Ok(value) => result_line(id, value),
            Err(err) => lineerr_line(id, err),
        };
        self.send(conn, line);
    }

    pub(super) fn send(&mut self, conn: ConnId, line: String) {
        self.outputs.push_back(ApiOutput::Send { conn, line });
    }

    /// Delivers one TAPI message to an app by its notification mode.
    pub(super) fn deliver(&mut self, app: HLineApp, msg: LineMessage) {
        let Some(a) = self.apps.get_mut(&app) else {
            return;
        };
        let conn = a.conn;
        match a.mode {
            NotifyMode::Callback => self.send(conn, notification_line(&msg, None)),
            NotifyMode::CompletionPort => {
                let key = a.completion_key;
                self.send(conn, notification_line(&msg, Some(key)));
            }
            NotifyMode::Event => {
                if let Some(waiter) = a.waiters.pop_front() {
                    let line = result_line(&waiter.id, message_fields(&msg, None));
                    self.send(waiter.conn, line);
                } else if a.queue.len() >= self.config.max_event_queue {
                    tracing::warn!(
                        app = %a.name,
                        queued = a.queue.len(),
                        "event queue full (the app does not call lineGetMessage): shutting it down"
                    );
                    self.pending_shutdowns.push(app);
                } else {
                    a.queue.push_back(msg);
                }
            }
        }
    }

    /// lineGetMessage: a queued message at once, or wait up to `timeout` ms.
    pub(super) fn line_get_message(
        &mut self,
        now: Instant,
        conn: ConnId,
        id: Value,
        p: GetMessageParams,
    ) {
        let app = HLineApp(p.h_line_app);
        let Some(a) = self.apps.get_mut(&app).filter(|a| a.conn == conn) else {
            self.respond(conn, &id, Err(LINEERR_INVALAPPHANDLE));
            return;
        };
        if a.mode != NotifyMode::Event {
            // Only event-mode apps have a queue (tapi.md §3).
            self.respond(conn, &id, Err(LINEERR_INVALAPPHANDLE));
            return;
        }
        if let Some(msg) = a.queue.pop_front() {
            self.respond(conn, &id, Ok(message_fields(&msg, None)));
            return;
        }
        if p.timeout == 0 {
            self.respond(conn, &id, Err(LINEERR_OPERATIONFAILED));
            return;
        }
        let deadline =
            (p.timeout != INFINITE).then(|| now + Duration::from_millis(u64::from(p.timeout)));
        a.waiters.push_back(Waiter { conn, id, deadline });
    }

    pub(super) fn expire_waiters(&mut self, now: Instant) {
        let mut expired = Vec::new();
        for a in self.apps.values_mut() {
            let (due, keep): (Vec<Waiter>, Vec<Waiter>) = a
                .waiters
                .drain(..)
                .partition(|w| w.deadline.is_some_and(|d| d <= now));
            a.waiters = keep.into();
            expired.extend(due);
        }
        for w in expired {
            self.respond(w.conn, &w.id, Err(LINEERR_OPERATIONFAILED));
        }
    }

    /// Answers every waiting lineGetMessage of a shut-down app with `err`.
    pub(super) fn wake_waiters(&mut self, waiters: impl IntoIterator<Item = Waiter>, err: LineErr) {
        for w in waiters {
            self.respond(w.conn, &w.id, Err(err));
        }
    }
}

/// `{}` as a result.
pub(super) fn empty() -> Value {
    json!({})
}
