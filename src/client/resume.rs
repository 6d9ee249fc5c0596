//! Sessions on the client side (api.md, "Sessions that survive a dropped connection"): which
//! apps are resumable (learnt from the answers to `lineInitializeEx`/`phoneInitializeEx` with
//! `resumable: true`, and to a `lineResume` made by hand), the last `seq` delivered per app
//! (so replayed duplicates are dropped), and, in reconnecting mode, the reconnection: backoff
//! with jitter, `authenticate` when a token is set, `lineResume`/`phoneResume` with each app's
//! last seq, then the replayed and live messages go on through the same routing.

use std::collections::HashMap;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::link::{answer, Driver, Link};
use super::{LostSession, Reconnect, SessionInfo, TapiMessage};

/// JSON-RPC "method not found": a gateway without `authenticate`.
const METHOD_NOT_FOUND: i32 = -32601;
/// Ids of the driver's own requests (resume handshake), far above the client's.
const INTERNAL_IDS: u64 = 1 << 62;
/// How long one handshake answer may take before the attempt counts as failed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a request means for the sessions, decided when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Track {
    Nothing,
    /// lineInitializeEx / phoneInitializeEx with `resumable: true`.
    Init {
        phone: bool,
    },
    /// lineShutdown / phoneShutdown of this app.
    Shutdown {
        phone: bool,
        app: u32,
    },
    /// A lineResume / phoneResume made by the app itself.
    Resume {
        session: String,
    },
}

impl Track {
    /// What `method` with `params` means for the sessions.
    pub fn of(method: &str, params: &Value) -> Track {
        let handle = |key: &str| params.get(key).and_then(Value::as_u64).map(|h| h as u32);
        match method {
            "lineInitializeEx" | "phoneInitializeEx"
                if params.get("resumable") == Some(&Value::Bool(true)) =>
            {
                Track::Init {
                    phone: method == "phoneInitializeEx",
                }
            }
            "lineShutdown" => handle("hLineApp")
                .map_or(Track::Nothing, |app| Track::Shutdown { phone: false, app }),
            "phoneShutdown" => handle("hPhoneApp")
                .map_or(Track::Nothing, |app| Track::Shutdown { phone: true, app }),
            "lineResume" | "phoneResume" => {
                params
                    .get("sessionId")
                    .and_then(Value::as_str)
                    .map_or(Track::Nothing, |s| Track::Resume {
                        session: s.to_string(),
                    })
            }
            _ => Track::Nothing,
        }
    }
}

/// A resumable app of this client.
#[derive(Debug, Clone)]
struct Resumable {
    app: u32,
    phone: bool,
    session: String,
}

/// The apps to resume and the last seq delivered per app.
#[derive(Default)]
pub(super) struct Sessions {
    apps: Vec<Resumable>,
    last_seq: HashMap<(bool, u32), u64>,
    lost: Vec<LostSession>,
    next_internal: u64,
}

impl Sessions {
    /// Learns from a successful answer.
    pub fn learn(&mut self, track: &Track, result: &Value) {
        let session = result.get("sessionId").and_then(Value::as_str);
        match track {
            Track::Nothing => {}
            Track::Init { phone } => {
                if let (Some(app), Some(session)) = (app_handle(result, *phone), session) {
                    self.add(app, *phone, session);
                }
            }
            Track::Shutdown { phone, app } => {
                self.apps.retain(|a| !(a.phone == *phone && a.app == *app));
                self.last_seq.remove(&(*phone, *app));
            }
            Track::Resume { session } => {
                for phone in [false, true] {
                    if let Some(app) = app_handle(result, phone) {
                        self.add(app, phone, session);
                    }
                }
            }
        }
    }

    fn add(&mut self, app: u32, phone: bool, session: &str) {
        if !self.apps.iter().any(|a| a.phone == phone && a.app == app) {
            self.apps.push(Resumable {
                app,
                phone,
                session: session.to_string(),
            });
        }
    }

    /// Records a message; false for a duplicate (its seq is not above the last delivered).
    pub fn accept(&mut self, m: &TapiMessage) -> bool {
        let (Some(app), Some(seq)) = (m.app, m.seq) else {
            return true;
        };
        let last = self.last_seq.entry((m.phone, app)).or_insert(0);
        if seq <= *last {
            return false;
        }
        if *last != 0 && seq != *last + 1 {
            tracing::warn!(app, last = *last, seq, "seq jumped: messages missing");
        }
        *last = seq;
        true
    }

    /// The gateway says another connection resumed one of our apps.
    pub fn taken_over(&mut self, params: &Value) {
        for phone in [false, true] {
            if let Some(app) = app_handle(params, phone) {
                self.lose(app, phone, "taken over by another connection".into());
            }
        }
    }

    fn lose(&mut self, app: u32, phone: bool, reason: String) {
        let before = self.apps.len();
        self.apps.retain(|a| !(a.phone == phone && a.app == app));
        if self.apps.len() != before {
            tracing::warn!(app, phone, %reason, "session lost");
            self.lost.push(LostSession { app, phone, reason });
        }
    }

    fn lose_all(&mut self, reason: &str) {
        let apps: Vec<(u32, bool)> = self.apps.iter().map(|a| (a.app, a.phone)).collect();
        for (app, phone) in apps {
            self.lose(app, phone, reason.to_string());
        }
    }

    pub fn any_resumable(&self) -> bool {
        !self.apps.is_empty()
    }

    pub fn infos(&self) -> Vec<SessionInfo> {
        self.apps
            .iter()
            .map(|a| SessionInfo {
                app: a.app,
                phone: a.phone,
                session_id: a.session.clone(),
                last_seq: self.last_seq.get(&(a.phone, a.app)).copied().unwrap_or(0),
            })
            .collect()
    }

    pub fn lost(&self) -> &[LostSession] {
        &self.lost
    }

    fn internal_id(&mut self) -> u64 {
        self.next_internal += 1;
        INTERNAL_IDS + self.next_internal
    }
}

/// hLineApp (or hPhoneApp) in a result or params.
fn app_handle(v: &Value, phone: bool) -> Option<u32> {
    let key = if phone { "hPhoneApp" } else { "hLineApp" };
    v.get(key).and_then(Value::as_u64).map(|h| h as u32)
}

/// Why a reconnection attempt did not resume.
enum Attempt {
    /// Try again after the next delay.
    Retry,
    /// No point trying again (the token was refused).
    GiveUp(String),
}

/// One internal request of a handshake.
enum Internal {
    Authenticate,
    Resume(Resumable),
}

impl Driver {
    /// Reconnects with backoff within `o.window` and resumes every resumable app. True when
    /// connected again (apps whose resume was refused are reported lost); false when it gave up.
    pub(super) async fn reconnect_and_resume(&mut self, o: &Reconnect) -> bool {
        tracing::warn!(addr = %self.dial.addr(), "connection to the gateway lost: reconnecting");
        let deadline = Instant::now() + o.window;
        let mut rng = SmallRng::from_os_rng();
        let mut delay = o.initial_backoff;
        loop {
            // Equal jitter: a delay drawn in [d/2, d], so that many clients do not come back in
            // step.
            let wait = rng.random_range(delay / 2..=delay.max(Duration::from_millis(1)));
            tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
            match self.try_resume(o).await {
                Ok(()) => {
                    self.state.send_modify(|s| s.reconnects += 1);
                    self.publish();
                    return true;
                }
                Err(Attempt::GiveUp(reason)) => {
                    self.sessions.lose_all(&reason);
                    self.publish();
                    return false;
                }
                Err(Attempt::Retry) => {}
            }
            if self.controls.is_closed() {
                return false; // the client was dropped
            }
            if Instant::now() >= deadline {
                let reason = format!("not reconnected within {:?}", o.window);
                self.sessions.lose_all(&reason);
                self.publish();
                return false;
            }
            delay = (delay * 2).min(o.max_backoff);
        }
    }

    /// One attempt: connect, authenticate, resume every app; the replayed messages that
    /// follow the answers are routed as they come.
    async fn try_resume(&mut self, o: &Reconnect) -> Result<(), Attempt> {
        let mut link = Link::open(&self.dial).await.map_err(|_| Attempt::Retry)?;
        let mut pending: HashMap<u64, Internal> = HashMap::new();
        if let Some(token) = &o.token {
            let id = self.sessions.internal_id();
            write(&mut link, id, "authenticate", json!({ "token": token })).await?;
            pending.insert(id, Internal::Authenticate);
        }
        for app in self.sessions.apps.clone() {
            let id = self.sessions.internal_id();
            let method = if app.phone {
                "phoneResume"
            } else {
                "lineResume"
            };
            let last_seq = self
                .sessions
                .last_seq
                .get(&(app.phone, app.app))
                .copied()
                .unwrap_or(0);
            let params = json!({ "sessionId": app.session, "lastSeq": last_seq });
            write(&mut link, id, method, params).await?;
            pending.insert(id, Internal::Resume(app));
        }
        while !pending.is_empty() {
            let line = tokio::time::timeout(HANDSHAKE_TIMEOUT, link.lines.recv())
                .await
                .ok()
                .flatten()
                .ok_or(Attempt::Retry)?;
            let Some(internal) = internal_answer(&line).and_then(|id| pending.remove(&id)) else {
                // A replayed message (it follows its app's answer) or a stray line.
                self.route(&line);
                continue;
            };
            self.on_handshake_answer(internal, &line)?;
        }
        self.link = Some(link);
        Ok(())
    }

    fn on_handshake_answer(&mut self, internal: Internal, line: &str) -> Result<(), Attempt> {
        let v: Value = serde_json::from_str(line).map_err(|_| Attempt::Retry)?;
        match (internal, answer(&v)) {
            (Internal::Authenticate, Err(super::ClientError::Rpc { code, .. }))
                if code == METHOD_NOT_FOUND =>
            {
                Ok(())
            }
            (Internal::Authenticate, Err(e)) => Err(Attempt::GiveUp(format!("authenticate: {e}"))),
            (Internal::Authenticate, Ok(_)) => Ok(()),
            (Internal::Resume(app), Ok(_)) => {
                tracing::info!(app = app.app, phone = app.phone, "session resumed");
                Ok(())
            }
            (Internal::Resume(app), Err(e)) => {
                self.sessions
                    .lose(app.app, app.phone, format!("resume refused: {e}"));
                Ok(())
            }
        }
    }
}

/// The id of a response, if it is one of the driver's own.
fn internal_answer(line: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(line).ok()?;
    v.get("id")
        .and_then(Value::as_u64)
        .filter(|id| *id > INTERNAL_IDS)
}

async fn write(link: &mut Link, id: u64, method: &str, params: Value) -> Result<(), Attempt> {
    let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    link.write_line(&line.to_string())
        .await
        .map_err(|_| Attempt::Retry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tapi::LineMessage;

    fn message(app: u32, phone: bool, seq: u64) -> TapiMessage {
        TapiMessage {
            msg: LineMessage {
                h_device: 0,
                dw_message_id: 2,
                dw_callback_instance: 0,
                dw_param1: 0,
                dw_param2: 0,
                dw_param3: 0,
                digits: Default::default(),
            },
            completion_key: None,
            app: Some(app),
            phone,
            seq: Some(seq),
        }
    }

    #[test]
    fn requests_are_tracked_by_what_they_mean_for_sessions() {
        let init = json!({"appName": "a", "resumable": true});
        assert_eq!(
            Track::of("phoneInitializeEx", &init),
            Track::Init { phone: true }
        );
        assert_eq!(
            Track::of("lineInitializeEx", &json!({"appName": "a"})),
            Track::Nothing
        );
        assert_eq!(
            Track::of("lineShutdown", &json!({"hLineApp": 5})),
            Track::Shutdown {
                phone: false,
                app: 5
            }
        );
        assert_eq!(
            Track::of("lineResume", &json!({"sessionId": "ab", "lastSeq": 2})),
            Track::Resume {
                session: "ab".into()
            }
        );
    }

    #[test]
    fn duplicates_are_dropped_per_app_and_shutdown_forgets_the_app() {
        let mut s = Sessions::default();
        s.learn(
            &Track::Init { phone: false },
            &json!({"hLineApp": 5, "sessionId": "x"}),
        );
        s.learn(
            &Track::Init { phone: true },
            &json!({"hPhoneApp": 5, "sessionId": "y"}),
        );
        assert_eq!(s.infos().len(), 2);
        assert!(s.accept(&message(5, false, 1)));
        assert!(
            s.accept(&message(5, true, 1)),
            "a phone app numbers its own"
        );
        assert!(s.accept(&message(5, false, 2)));
        assert!(!s.accept(&message(5, false, 2)), "a replayed duplicate");
        assert!(!s.accept(&message(5, false, 1)));
        assert_eq!(s.infos()[0].last_seq, 2);
        s.learn(
            &Track::Shutdown {
                phone: false,
                app: 5,
            },
            &json!({}),
        );
        assert_eq!(s.infos().len(), 1);
        assert!(s.accept(&message(5, false, 1)), "forgotten with the app");
        s.taken_over(&json!({"hPhoneApp": 5}));
        assert!(!s.any_resumable());
        assert_eq!(s.lost()[0].reason, "taken over by another connection");
    }
}
