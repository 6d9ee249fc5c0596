//! Applications: lineInitializeEx, lineShutdown, lineNegotiateAPIVersion, lineGetDevCaps, and
//! what happens when a connection goes away (resumable apps are kept: see `sessions`).

use std::time::Instant;

use crate::tapi::consts::*;
use crate::tapi::{
    Answer, ConnId, DeviceId, HLineApp, LineErr, LineProvider, NotifyMode, Output, SessionId,
    LINEERR_BADDEVICEID, LINEERR_INCOMPATIBLEAPIVERSION, LINEERR_INVALAPPHANDLE,
    LINEERR_INVALAPPNAME, LINEERR_INVALPARAM,
};

use super::state::{App, NewApp};
use super::{FnResult, Tapisrv};

/// The parameters of lineInitializeEx / phoneInitializeEx.
pub(super) struct Init {
    pub app_name: String,
    pub api_version: u32,
    pub options: u32,
    pub completion_key: u32,
    pub resumable: bool,
}

impl Tapisrv {
    pub(super) fn line_initialize_ex(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        init: Init,
    ) -> FnResult {
        let Init {
            app_name,
            api_version,
            options,
            completion_key,
            resumable,
        } = init;
        let mode = NotifyMode::from_options(options).ok_or(LINEERR_INVALPARAM)?;
        if app_name.trim().is_empty() {
            return Err(LINEERR_INVALAPPNAME);
        }
        if api_version < API_VERSION_LOW {
            return Err(LINEERR_INCOMPATIBLEAPIVERSION);
        }
        let (handle, session) = self.register_app(
            conn,
            NewApp {
                phone: false,
                name: app_name,
                mode,
                completion_key,
                resumable,
            },
        );
        Ok(Answer::LineInitialized {
            app: handle,
            num_devs: provider.num_lines(),
            api_version: api_version.min(API_VERSION_HIGH),
            session,
        })
    }

    /// A new app (line or phone) on `conn`, with its session ID.
    pub(super) fn register_app(&mut self, conn: ConnId, new: NewApp) -> (HLineApp, SessionId) {
        let handle = HLineApp(self.new_handle());
        let session = self.new_session_id();
        if new.resumable {
            self.sessions.insert(session.clone(), handle);
        }
        self.apps
            .insert(handle, App::new(handle, conn, session.clone(), new));
        (handle, session)
    }

    pub(super) fn line_shutdown(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        app: HLineApp,
    ) -> FnResult {
        let app = self.app_of(conn, app)?;
        self.shutdown_app(now, provider, app);
        Ok(Answer::Empty)
    }

    /// The line app's handle, if it exists and belongs to this connection.
    pub(super) fn app_of(&self, conn: ConnId, app: HLineApp) -> Result<HLineApp, LineErr> {
        match self.apps.get(&app) {
            Some(a) if a.on(conn) && !a.phone => Ok(app),
            _ => Err(LINEERR_INVALAPPHANDLE),
        }
    }

    /// lineShutdown: every line closed as by lineClose, waiting lineGetMessage calls answered
    /// LINEERR_INVALAPPHANDLE, no further messages.
    pub(super) fn shutdown_app(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        app: HLineApp,
    ) {
        let mut lines: Vec<_> = self
            .lines
            .values()
            .filter(|l| l.app == app)
            .map(|l| l.handle)
            .collect();
        lines.sort();
        for line in lines {
            self.close_line(now, provider, line);
        }
        let mut phones: Vec<_> = self
            .phones
            .values()
            .filter(|p| p.app == app)
            .map(|p| p.handle)
            .collect();
        phones.sort();
        for phone in phones {
            self.close_phone(phone);
        }
        self.pending.retain(|_, p| p.app != app);
        if let Some(a) = self.apps.remove(&app) {
            self.sessions.remove(&a.session);
            let err: crate::tapi::TapiErr = if a.phone {
                crate::tapi::PHONEERR_INVALAPPHANDLE.into()
            } else {
                LINEERR_INVALAPPHANDLE.into()
            };
            self.wake_waiters(a.waiters, err);
        }
    }

    pub(super) fn connection_closed(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
    ) {
        if self.conns.remove(&conn) {
            // After everything already queued for it (a protocol error, say).
            self.outputs.push_back(Output::Close { conn });
        }
        let mut apps: Vec<(HLineApp, bool)> = self
            .apps
            .values()
            .filter(|a| a.on(conn))
            .map(|a| (a.handle, a.resumable))
            .collect();
        apps.sort();
        for (app, resumable) in apps {
            if resumable {
                self.keep_app(now, app);
            } else {
                self.shutdown_app(now, provider, app);
            }
        }
    }

    /// Shuts down apps whose event queue overflowed during the last input.
    pub(super) fn finish_overflowed(&mut self, now: Instant, provider: &mut dyn LineProvider) {
        while let Some(app) = self.pending_shutdowns.pop() {
            if self.apps.get(&app).is_some_and(|a| a.conn.is_none()) {
                self.stats.overflowed += 1;
            }
            self.shutdown_app(now, provider, app);
        }
    }

    pub(super) fn line_negotiate(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        app: HLineApp,
        device: DeviceId,
        low: u32,
        high: u32,
    ) -> FnResult {
        self.app_of(conn, app)?;
        if device.0 >= provider.num_lines() {
            return Err(LINEERR_BADDEVICEID);
        }
        let chosen = high.min(API_VERSION_HIGH);
        if low > high || chosen < low.max(API_VERSION_LOW) {
            return Err(LINEERR_INCOMPATIBLEAPIVERSION);
        }
        Ok(Answer::ApiVersion(chosen))
    }

    pub(super) fn line_get_dev_caps(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        app: HLineApp,
        device: DeviceId,
        api_version: u32,
    ) -> FnResult {
        self.app_of(conn, app)?;
        check_version(api_version)?;
        super::lines::present(provider, device)?;
        let caps = provider.dev_caps(device).ok_or(LINEERR_BADDEVICEID)?;
        Ok(Answer::DevCaps(Box::new(caps)))
    }
}

/// An API version an app may use with a device.
pub(super) fn check_version(version: u32) -> Result<(), LineErr> {
    if (API_VERSION_LOW..=API_VERSION_HIGH).contains(&version) {
        Ok(())
    } else {
        Err(LINEERR_INCOMPATIBLEAPIVERSION)
    }
}
