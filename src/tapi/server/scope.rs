//! Token scopes in TAPISRV (docs/api.md "Security"): a connection authenticated with a scoped
//! token sees only its lines, as devices 0..n-1 in the gateway's device-ID order (a TAPI app
//! loops deviceId over 0..numDevs, so numDevs and the IDs must agree), and a monitor-only token
//! never owns a call.
//!
//! Device IDs are translated at the edge of TAPISRV: a request's IDs into the gateway's before
//! it is served, an answer's (numDevs, lineGetID, lineGetCallInfo lineDeviceId) and
//! LINE_CREATE/LINE_REMOVE's back into the connection's. A line a reload removes stays in the
//! view (as LINEERR_NODEVICE), so the numbering of a connection never shifts.

use crate::tapi::consts::*;
use crate::tapi::{
    Answer, ConnId, DeviceId, HLineApp, LineProvider, Request, Scope, TapiErr,
    LINEERR_INVALCALLPRIVILEGE, LINEERR_INVALPRIVSELECT, LINEERR_OPERATIONUNAVAIL,
    PHONEERR_INVALPRIVILEGE,
};

use super::Tapisrv;

/// A device ID no connection sees: every function answers it LINEERR_BADDEVICEID.
const OUT_OF_VIEW: u32 = 0xFFFF_FFFE;

/// The gateway's device IDs a scoped connection sees, in its order (index = its device ID).
struct View(Vec<DeviceId>);

impl View {
    fn global(&self, local: u32) -> DeviceId {
        DeviceId(self.0.get(local as usize).map_or(OUT_OF_VIEW, |d| d.0))
    }

    fn local(&self, global: DeviceId) -> Option<u32> {
        self.0.iter().position(|d| *d == global).map(|i| i as u32)
    }
}

impl Tapisrv {
    /// Records the scope of a connection that authenticated (full scopes are not stored).
    pub(super) fn set_scope(&mut self, conn: ConnId, scope: Scope) {
        if scope.is_full() {
            self.scopes.remove(&conn);
        } else {
            self.scopes.insert(conn, scope);
        }
    }

    /// Whether the connection may own calls (false for a monitor-only token).
    pub(super) fn may_own(&self, conn: ConnId) -> bool {
        self.scopes.get(&conn).is_none_or(|s| s.may_own)
    }

    fn view(&self, provider: &dyn LineProvider, conn: ConnId) -> Option<View> {
        view_of(provider, self.scopes.get(&conn))
    }

    /// Whether a connection with `conn`'s scope may resume `app` (the scope it registered with).
    pub(super) fn same_scope(&self, conn: ConnId, app: HLineApp) -> bool {
        self.apps
            .get(&app)
            .is_some_and(|a| a.scope.as_ref() == self.scopes.get(&conn))
    }

    /// The request in the gateway's device IDs, or the error a monitor-only connection gets
    /// for asking to own or act: lineOpen with OWNER or NONE (NONE owns the calls it makes)
    /// -> LINEERR_INVALPRIVSELECT, lineSetCallPrivilege(OWNER) -> LINEERR_INVALCALLPRIVILEGE,
    /// lineMakeCall and lineForward -> LINEERR_OPERATIONUNAVAIL, phoneOpen(OWNER) ->
    /// PHONEERR_INVALPRIVILEGE. Call functions are refused by `owned` (LINEERR_NOTOWNER).
    pub(super) fn scoped_request(
        &self,
        provider: &dyn LineProvider,
        conn: ConnId,
        request: Request,
    ) -> Result<Request, TapiErr> {
        if !self.may_own(conn) {
            refuse_owning(&request)?;
        }
        let Some(view) = self.view(provider, conn) else {
            return Ok(request);
        };
        Ok(localize(provider, &view, request))
    }

    /// The answer with device counts and IDs as this connection numbers them (and
    /// maxNumActiveCalls bounded by `api.max_calls_per_line`).
    pub(super) fn scoped_answer(
        &self,
        provider: &dyn LineProvider,
        conn: ConnId,
        mut answer: Answer,
    ) -> Answer {
        self.bound_caps(&mut answer);
        let Some(view) = self.view(provider, conn) else {
            return answer;
        };
        match &mut answer {
            Answer::LineInitialized { num_devs, .. }
            | Answer::PhoneInitialized { num_devs, .. } => *num_devs = view.0.len() as u32,
            Answer::DeviceId(id) => *id = view.local(DeviceId(*id)).unwrap_or(*id),
            Answer::CallInfo(info) => {
                info.device = DeviceId(view.local(info.device).unwrap_or(info.device.0))
            }
            _ => {}
        }
        answer
    }

    /// `device` as `app`'s connection numbers it; None when that connection does not see it.
    pub(super) fn device_for_app(
        &self,
        provider: &dyn LineProvider,
        app: HLineApp,
        device: DeviceId,
    ) -> Option<u32> {
        let scope = self.apps.get(&app)?.scope.as_ref();
        match view_of(provider, scope) {
            None => Some(device.0),
            Some(view) => view.local(device),
        }
    }
}

/// The devices `scope` sees, in order (None: a full scope, no renumbering).
fn view_of(provider: &dyn LineProvider, scope: Option<&Scope>) -> Option<View> {
    let scope = scope.filter(|s| s.renumbers())?;
    let devices = (0..provider.num_lines())
        .map(DeviceId)
        .filter(|d| provider.line_user(*d).is_some_and(|u| scope.sees(u)))
        .collect();
    Some(View(devices))
}

fn refuse_owning(request: &Request) -> Result<(), TapiErr> {
    let open_options = LINEOPENOPTION_SINGLEADDRESS | LINEOPENOPTION_PROXY;
    match request {
        Request::LineOpen { privileges, .. }
            if privileges & !open_options != LINECALLPRIVILEGE_MONITOR =>
        {
            Err(LINEERR_INVALPRIVSELECT.into())
        }
        Request::LineSetCallPrivilege { privilege, .. }
            if *privilege != LINECALLPRIVILEGE_MONITOR =>
        {
            Err(LINEERR_INVALCALLPRIVILEGE.into())
        }
        Request::LineMakeCall { .. } | Request::LineForward { .. } => {
            Err(LINEERR_OPERATIONUNAVAIL.into())
        }
        Request::PhoneOpen { privilege, .. } if *privilege != PHONEPRIVILEGE_MONITOR => {
            Err(PHONEERR_INVALPRIVILEGE.into())
        }
        _ => Ok(()),
    }
}

/// The request's device IDs turned into the gateway's (LINEMAPPER: the first line in view that
/// exists now).
fn localize(provider: &dyn LineProvider, view: &View, mut request: Request) -> Request {
    match &mut request {
        Request::LineNegotiateApiVersion { device, .. }
        | Request::LineGetDevCaps { device, .. }
        | Request::LineGetAddressCaps { device, .. }
        | Request::PhoneNegotiateApiVersion { device, .. }
        | Request::PhoneGetDevCaps { device, .. }
        | Request::PhoneOpen { device, .. } => *device = view.global(device.0),
        Request::LineOpen { device, .. } if *device == LINEMAPPER => {
            let first = view.0.iter().find(|d| provider.dev_caps(**d).is_some());
            *device = first.map_or(OUT_OF_VIEW, |d| d.0);
        }
        Request::LineOpen { device, .. } => *device = view.global(*device).0,
        _ => {}
    }
    request
}
