//! RFC 4028 session timers for one call, in both roles.
//!
//! As UAC (our INVITE, and every re-INVITE or UPDATE we send) we say `Supported: timer` (the
//! line's `SUPPORTED` list), ask for `lines.session_expires` with our `Min-SE` (§7.1; nothing
//! when it is 0), retry a 422 with the interval it asks for (§7.3), and take the interval and
//! refresher from the 2xx (§7.2). As UAS (an INVITE, re-INVITE or UPDATE from the peer) we
//! refuse an interval below our `Min-SE` with 422 when the caller supports the extension
//! (§9), otherwise copy it, choose the refresher by §9's table and put `Session-Expires` (and
//! `Require: timer` when the peer refreshes) in our 2xx.
//!
//! Once a 2xx settles the interval I, the refresher sends a refresh at I/2 (§10): UPDATE
//! without a body when the peer allows UPDATE, else a re-INVITE with our current SDP (the
//! hold code's re-INVITE machine, `Goal::Refresh`). Either side that sees no refresh sends BYE
//! at I - min(32 s, I/3) (§10) and the call goes DISCONNECTED(TEMPFAILURE), IDLE: the session
//! was lost in the network or at the peer, and calling again may well work.

use std::time::{Duration, Instant};

use crate::sip::message::{Headers, Request, Response};
use crate::tapi::DisconnectMode;

use super::hold::Goal;
use super::{Call, CallEnv, Leg, Phase};

/// RFC 4028 §5: no interval below this, whatever anybody says.
pub const FLOOR_SECS: u32 = 90;

/// The `refresher` parameter: relative to the transaction that negotiated it (`uac` is the
/// side that sent the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    Uac,
    Uas,
}

impl Refresher {
    fn as_str(self) -> &'static str {
        match self {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        }
    }
}

/// A `Session-Expires` value (§4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionExpires {
    pub secs: u32,
    pub refresher: Option<Refresher>,
}

impl SessionExpires {
    /// Parses `delta-seconds *(;param)`; `None` when there is no such header or it is garbage.
    pub fn of(headers: &Headers) -> Option<SessionExpires> {
        let value = headers.get("Session-Expires")?;
        let mut parts = value.split(';');
        let secs = parts.next()?.trim().parse().ok()?;
        let refresher = parts
            .filter_map(|p| p.split_once('='))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case("refresher"))
            .and_then(|(_, v)| match v.trim().to_ascii_lowercase().as_str() {
                "uac" => Some(Refresher::Uac),
                "uas" => Some(Refresher::Uas),
                _ => None,
            });
        Some(SessionExpires { secs, refresher })
    }

    fn header_value(self) -> String {
        match self.refresher {
            Some(r) => format!("{};refresher={}", self.secs, r.as_str()),
            None => self.secs.to_string(),
        }
    }
}

/// The `Min-SE` of a message (§5).
pub fn min_se_of(headers: &Headers) -> Option<u32> {
    let value = headers.get("Min-SE")?;
    value.split(';').next()?.trim().parse().ok()
}

/// Whether `tag` is among the option tags of every `header` line (`Supported`, `Require`).
pub fn has_option_tag(headers: &Headers, header: &str, tag: &str) -> bool {
    crate::provider::extensions::option_tags(headers, header).any(|t| t.eq_ignore_ascii_case(tag))
}

/// §9: an initial INVITE whose interval is below our Min-SE, from a caller that can read a 422:
/// the Min-SE to answer it with.
pub fn too_small(invite: &Request, min_se: u32) -> Option<u32> {
    let asked = SessionExpires::of(&invite.headers)?;
    (asked.secs < min_se && supports_timer(&invite.headers)).then_some(min_se)
}

fn supports_timer(headers: &Headers) -> bool {
    has_option_tag(headers, "Supported", "timer") || has_option_tag(headers, "Require", "timer")
}

/// A call's session timer.
#[derive(Debug, Clone)]
pub struct SessionTimer {
    /// Our Min-SE: the line's, raised by every 422 we were given (§7.3).
    pub min_se: u32,
    /// 422s answered for the initial INVITE (a loop guard).
    pub retries: u32,
    /// The peer's Allow lists UPDATE (refreshes go as UPDATE, RFC 3311).
    pub peer_allows_update: bool,
    pub active: Option<ActiveTimer>,
}

/// A negotiated session interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveTimer {
    pub secs: u32,
    pub we_refresh: bool,
    /// When we send the next refresh (refresher only).
    pub refresh_at: Option<Instant>,
    /// When we give up on the session and send BYE.
    pub expire_at: Instant,
}

impl SessionTimer {
    pub fn new(min_se: u32) -> Self {
        SessionTimer {
            min_se: min_se.max(FLOOR_SECS),
            retries: 0,
            peer_allows_update: false,
            active: None,
        }
    }

    /// (Re)starts the timer at `now` (§10): refresh at I/2, BYE at I - min(32, I/3).
    fn start(&mut self, now: Instant, secs: u32, we_refresh: bool) {
        let interval = Duration::from_secs(u64::from(secs.max(1)));
        let margin = Duration::from_secs(32).min(interval / 3);
        self.active = Some(ActiveTimer {
            secs,
            we_refresh,
            refresh_at: we_refresh.then(|| now + interval / 2),
            expire_at: now + interval - margin,
        });
    }

    /// Learns from an Allow header whether the peer takes UPDATE.
    fn learn_allow(&mut self, headers: &Headers) {
        if let Some(allow) = headers.get("Allow") {
            self.peer_allows_update = allow
                .split(',')
                .any(|m| m.trim().eq_ignore_ascii_case("UPDATE"));
        }
    }

    /// The next instant the timer needs attention.
    pub fn deadline(&self) -> Option<Instant> {
        let a = self.active.as_ref()?;
        Some(a.refresh_at.map_or(a.expire_at, |r| r.min(a.expire_at)))
    }
}

impl Call {
    /// `Session-Expires` and `Min-SE` for a request of ours (§7.1, §7.4): the line's interval
    /// on the initial INVITE, the current one (and who refreshes) on re-INVITEs and UPDATEs.
    pub(super) fn add_session_headers(&self, env: &CallEnv<'_>, request: &mut Request) {
        let ours = env.ua.line.cfg.session_expires;
        let wanted = match &self.session.active {
            // §7.4: the current interval, even one a proxy set below our Min-SE.
            Some(a) => Some(SessionExpires {
                secs: a.secs,
                refresher: Some(if a.we_refresh {
                    Refresher::Uac
                } else {
                    Refresher::Uas
                }),
            }),
            // The initial INVITE: the line's interval, or what a 422 asked for.
            None if self.phase != Phase::Connected && (ours > 0 || self.session.retries > 0) => {
                Some(SessionExpires {
                    secs: ours.max(self.session.min_se),
                    refresher: None,
                })
            }
            None => None,
        };
        request.headers.remove("Session-Expires");
        request.headers.remove("Min-SE");
        if let Some(se) = wanted {
            request.headers.push("Session-Expires", se.header_value());
            let min_se = self.session.min_se.min(se.secs);
            request.headers.push("Min-SE", min_se.to_string());
        }
    }

    /// §7.2: the 2xx to our INVITE, re-INVITE or UPDATE. Its Session-Expires sets the interval
    /// and the refresher (`uac` or none: us). Without one, the initial INVITE has no timer; a
    /// refresh keeps the current one (a peer that ignores the extension still had its refresh).
    pub(super) fn on_session_answer(&mut self, env: &CallEnv<'_>, response: &Response) {
        self.session.learn_allow(&response.headers);
        let current = self.session.active.map(|a| (a.secs, a.we_refresh));
        let settled = match SessionExpires::of(&response.headers) {
            Some(se) if se.secs > 0 => Some((se.secs, se.refresher != Some(Refresher::Uas))),
            _ => current,
        };
        match settled {
            Some((secs, we_refresh)) => self.session.start(env.now, secs, we_refresh),
            None => self.session.active = None,
        }
    }

    /// §9: what our 2xx to the peer's INVITE, re-INVITE or UPDATE says about the session
    /// interval; `Err(min_se)` when it is too small (422).
    pub(super) fn negotiate_session(
        &self,
        env: &CallEnv<'_>,
        request: &Request,
    ) -> Result<Option<SessionExpires>, u32> {
        let headers = &request.headers;
        let supports = supports_timer(headers);
        let current_role = self.session.active.map(|a| {
            // The peer sends this request: it is the transaction's UAC.
            if a.we_refresh {
                Refresher::Uas
            } else {
                Refresher::Uac
            }
        });
        // §9's table: a caller without the extension cannot refresh.
        let choose = |fallback: Refresher| {
            if supports {
                current_role.unwrap_or(fallback)
            } else {
                Refresher::Uas
            }
        };
        if let Some(asked) = SessionExpires::of(headers) {
            if asked.secs < self.session.min_se && supports {
                return Err(self.session.min_se);
            }
            let refresher = match asked.refresher {
                Some(r) if supports => r,
                _ => choose(Refresher::Uac),
            };
            return Ok(Some(SessionExpires {
                secs: asked.secs,
                refresher: Some(refresher),
            }));
        }
        let ours = env.ua.line.cfg.session_expires;
        let secs = match self.session.active {
            Some(a) => a.secs,
            None if supports && ours > 0 => ours.max(min_se_of(headers).unwrap_or(0)),
            None => return Ok(None),
        };
        Ok(Some(SessionExpires {
            secs,
            refresher: Some(choose(Refresher::Uas)),
        }))
    }

    /// Puts the negotiated interval into our 2xx and starts the timer (§9); `None` turns the
    /// timer off.
    pub(super) fn apply_session(
        &mut self,
        env: &CallEnv<'_>,
        request: &Request,
        response: &mut Response,
        session: Option<SessionExpires>,
    ) {
        self.session.learn_allow(&request.headers);
        let Some(se) = session else {
            self.session.active = None;
            return;
        };
        response.headers.push("Session-Expires", se.header_value());
        if se.refresher == Some(Refresher::Uac) {
            // §9: the UAC must know that it has to refresh.
            response.headers.push("Require", "timer");
        }
        let we_refresh = se.refresher == Some(Refresher::Uas);
        self.session.start(env.now, se.secs, we_refresh);
    }

    /// §7.3: a 422 to our INVITE: try again at once with the interval it asks for. `false`
    /// when it asks for nothing more than we sent (no loop) or we tried twice already.
    pub(super) fn retry_invite_for_interval(
        &mut self,
        env: &mut CallEnv<'_>,
        response: &Response,
    ) -> bool {
        let Some(asked) = min_se_of(&response.headers) else {
            return false;
        };
        let Leg::Uac(uac) = &self.leg else {
            return false;
        };
        let Some(invite) = uac.invite.as_deref() else {
            return false;
        };
        let sent = SessionExpires::of(&invite.headers).map_or(0, |se| se.secs);
        if asked <= sent || self.session.retries >= 2 || self.released {
            return false;
        }
        let mut retry = invite.clone();
        self.session.retries += 1;
        self.session.min_se = self.session.min_se.max(asked);
        retry.headers.cseq.seq = self.dialog.next_cseq();
        retry.headers.via[0] = env.ua.new_via(env.ids, self.peer.transport);
        self.add_session_headers(env, &mut retry);
        self.resend_invite(retry);
        true
    }

    /// §7.4: a 422 to our re-INVITE or UPDATE: the interval goes up to its Min-SE and the
    /// request is sent again at once. `false` when it asks for nothing new.
    pub(super) fn raise_interval_for(
        &mut self,
        env: &mut CallEnv<'_>,
        response: &Response,
    ) -> bool {
        let Some(asked) = min_se_of(&response.headers) else {
            return false;
        };
        if asked <= self.session.min_se {
            return false;
        }
        self.session.min_se = asked;
        if let Some(a) = self.session.active.as_mut() {
            a.secs = a.secs.max(asked);
        }
        if let Some(r) = self.reinvite.as_mut() {
            r.tx = None;
        }
        self.send_reinvite(env);
        true
    }

    /// A refresh of ours was refused (not 408/481, which end the dialog), or the re-INVITE it
    /// waited for was: try again when half of what is left has passed, so that the session
    /// gets every chance before it expires.
    pub(super) fn refresh_refused(&mut self, env: &CallEnv<'_>) {
        let due = |a: &&mut ActiveTimer| a.we_refresh && a.refresh_at.is_none();
        if let Some(a) = self.session.active.as_mut().filter(due) {
            let left = a.expire_at.saturating_duration_since(env.now);
            a.refresh_at = (left > Duration::from_secs(2)).then(|| env.now + left / 2);
        }
    }

    /// When the session timer next needs the call.
    pub(super) fn session_deadline(&self) -> Option<Instant> {
        if self.phase != Phase::Connected {
            return None;
        }
        self.session.deadline()
    }

    /// The session timer fired: refresh (§10), or end the session that nobody refreshed.
    pub(super) fn on_session_timer(&mut self, env: &mut CallEnv<'_>) {
        let Some(a) = self.session.active else {
            return;
        };
        if a.expire_at <= env.now {
            tracing::info!(call = %self.id, secs = a.secs, "session expired (RFC 4028): BYE");
            self.session.active = None;
            self.send_bye(env);
            self.end(env, Some(DisconnectMode::TEMPFAILURE));
            return;
        }
        if a.refresh_at.is_some_and(|at| at <= env.now) {
            if let Some(a) = self.session.active.as_mut() {
                a.refresh_at = None;
            }
            self.refresh_session(env);
        }
    }

    /// Sends our refresh unless a re-INVITE of ours is already under way (it refreshes too).
    fn refresh_session(&mut self, env: &mut CallEnv<'_>) {
        if self.reinvite.is_some() {
            return;
        }
        if self.refer_out.is_some() {
            // A REFER of ours is out: refresh once it is settled.
            if let Some(a) = self.session.active.as_mut() {
                a.refresh_at = Some(env.now + env.ua.sip.timers.t1);
            }
            return;
        }
        self.start_reinvite(env, Goal::Refresh, None);
    }
}
