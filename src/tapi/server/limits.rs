//! The API's bounds in TAPISRV (`[api]` limits, docs/configuration.md): apps per connection,
//! app name length, pending requests per app, lineGetMessage waiters per app, calls per line.
//! A request over a bound gets Microsoft's closest documented code at once (the function's own
//! LINEERR_RESOURCEUNAVAIL where it has one, LINEERR_NOMEM for lineInitializeEx and
//! lineGetMessage, which document no other), is counted by limit name and logged at most
//! once per [`LOG_EVERY`] per limit.

use std::time::{Duration, Instant};

use crate::tapi::{
    ConnId, DeviceId, HLineApp, Request, TapiErr, LINEERR_CALLUNAVAIL, LINEERR_INVALAPPNAME,
    LINEERR_NOMEM, LINEERR_RESOURCEUNAVAIL, PHONEERR_INVALAPPNAME, PHONEERR_NOMEM,
    PHONEERR_RESOURCEUNAVAIL,
};

use super::Tapisrv;

/// How often one limit may be logged.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// TAPISRV's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_apps_per_connection: usize,
    pub max_app_name_bytes: usize,
    pub max_pending_requests: usize,
    pub max_message_waiters: usize,
    /// Calls a line carries at once (maxNumActiveCalls).
    pub max_calls_per_line: u32,
}

impl Default for Limits {
    /// The configuration's defaults.
    fn default() -> Self {
        Limits {
            max_apps_per_connection: 64,
            max_app_name_bytes: 256,
            max_pending_requests: 1000,
            max_message_waiters: 16,
            max_calls_per_line: 10_000,
        }
    }
}

/// What an asynchronous request works on.
enum Target {
    Line(crate::tapi::HLine),
    Call(crate::tapi::HCall),
    Phone(crate::tapi::HPhone),
}

impl Tapisrv {
    /// TAPISRV with these bounds instead of the defaults.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The bound `request` would cross, as its error (counted and logged).
    pub(super) fn check_limits(
        &mut self,
        now: Instant,
        conn: ConnId,
        request: &Request,
    ) -> Result<(), TapiErr> {
        let Some((limit, err)) = self.crossed(conn, request) else {
            return Ok(());
        };
        self.counters.limit_hit(limit);
        if self.limit_log.should_log(now, limit) {
            tracing::warn!(
                conn = conn.0,
                limit,
                function = request.name(),
                "API limit reached: refused"
            );
        }
        Err(err)
    }

    fn crossed(&self, conn: ConnId, request: &Request) -> Option<(&'static str, TapiErr)> {
        let l = self.limits;
        match request {
            Request::LineInitializeEx { app_name, .. }
            | Request::PhoneInitializeEx { app_name, .. } => {
                let phone = matches!(request, Request::PhoneInitializeEx { .. });
                if app_name.len() > l.max_app_name_bytes {
                    let err = pick(phone, LINEERR_INVALAPPNAME, PHONEERR_INVALAPPNAME);
                    return Some(("app_name_bytes", err));
                }
                let apps = self.apps.values().filter(|a| a.on(conn)).count();
                (apps >= l.max_apps_per_connection).then(|| {
                    (
                        "apps_per_connection",
                        pick(phone, LINEERR_NOMEM, PHONEERR_NOMEM),
                    )
                })
            }
            Request::LineGetMessage { app, .. } => self
                .waiters_full(conn, *app)
                .then(|| ("message_waiters", LINEERR_NOMEM.into())),
            Request::PhoneGetMessage { app, .. } => self
                .waiters_full(conn, HLineApp(app.0))
                .then(|| ("message_waiters", PHONEERR_NOMEM.into())),
            request => self.crossed_async(request),
        }
    }

    fn crossed_async(&self, request: &Request) -> Option<(&'static str, TapiErr)> {
        let (app, device, phone) = match target(request)? {
            Target::Line(line) => self
                .lines
                .get(&line)
                .map(|l| (l.app, Some(l.device), false))?,
            Target::Call(call) => self.handles.get(&call).map(|h| (h.app, None, false))?,
            Target::Phone(phone) => self.phones.get(&phone).map(|p| (p.app, None, true))?,
        };
        if self.pending.count(app) >= self.limits.max_pending_requests {
            let err = pick(phone, LINEERR_RESOURCEUNAVAIL, PHONEERR_RESOURCEUNAVAIL);
            return Some(("pending_requests", err));
        }
        let makes_call = matches!(
            request,
            Request::LineMakeCall { .. } | Request::LineSetupTransfer { .. }
        );
        let device = match request {
            Request::LineSetupTransfer { call } => self
                .handles
                .get(call)
                .and_then(|h| self.calls.get(&h.call))
                .map(|c| c.device),
            _ => device,
        };
        match device {
            Some(d) if makes_call && self.line_full(d) => {
                Some(("calls_per_line", LINEERR_CALLUNAVAIL.into()))
            }
            _ => None,
        }
    }

    fn waiters_full(&self, conn: ConnId, app: HLineApp) -> bool {
        self.apps
            .get(&app)
            .is_some_and(|a| a.on(conn) && a.waiters.len() >= self.limits.max_message_waiters)
    }

    /// lineGetDevCaps / lineGetAddressCaps report the real bound on calls.
    pub(super) fn bound_caps(&self, answer: &mut crate::tapi::Answer) {
        let limit = self.limits.max_calls_per_line;
        match answer {
            crate::tapi::Answer::DevCaps(caps) => {
                caps.max_num_active_calls = caps.max_num_active_calls.min(limit)
            }
            crate::tapi::Answer::AddressCaps(caps) => {
                caps.max_num_active_calls = caps.max_num_active_calls.min(limit)
            }
            _ => {}
        }
    }

    /// The line carries as many calls as it may.
    pub(super) fn line_full(&self, device: DeviceId) -> bool {
        self.calls.active(device) >= self.limits.max_calls_per_line
    }

    /// An inbound call the full line cannot take: counted, logged, refused by the provider.
    pub(super) fn refuse_over_limit(&mut self, now: Instant, device: DeviceId) {
        self.counters.limit_hit("calls_per_line");
        if self.limit_log.should_log(now, "calls_per_line") {
            tracing::warn!(
                device = device.0,
                "line full (api.max_calls_per_line): call refused"
            );
        }
    }
}

fn pick(phone: bool, line: crate::tapi::LineErr, phone_err: crate::tapi::PhoneErr) -> TapiErr {
    if phone {
        phone_err.into()
    } else {
        line.into()
    }
}

fn target(request: &Request) -> Option<Target> {
    Some(match request {
        Request::LineMakeCall { line, .. } | Request::LineForward { line, .. } => {
            Target::Line(*line)
        }
        Request::LineAccept { call }
        | Request::LineAnswer { call }
        | Request::LineDrop { call }
        | Request::LineRedirect { call, .. }
        | Request::LineHold { call }
        | Request::LineUnhold { call }
        | Request::LineBlindTransfer { call, .. }
        | Request::LineSetupTransfer { call }
        | Request::LineDial { call, .. }
        | Request::LineCompleteTransfer { call, .. }
        | Request::LineSwapHold { active: call, .. }
        | Request::LineRemoveFromConference { call }
        | Request::LineAddToConference {
            conf_call: call, ..
        }
        | Request::LineSetupConference { call }
        | Request::LinePrepareAddToConference { conf_call: call }
        | Request::MediaPlay { call, .. }
        | Request::MediaRecord { call, .. } => Target::Call(*call),
        Request::PhoneSetHookSwitch { phone, .. } => Target::Phone(*phone),
        _ => return None,
    })
}

/// When each limit was last logged.
#[derive(Debug, Default)]
pub struct LimitLog {
    last: std::collections::HashMap<&'static str, Instant>,
}

impl LimitLog {
    pub fn should_log(&mut self, now: Instant, limit: &'static str) -> bool {
        match self.last.get(limit) {
            Some(at) if now.saturating_duration_since(*at) < LOG_EVERY => false,
            _ => {
                self.last.insert(limit, now);
                true
            }
        }
    }
}
