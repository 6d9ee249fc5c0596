//! Applications: lineInitializeEx, lineShutdown, lineNegotiateAPIVersion, lineGetDevCaps, and
//! what happens when a connection goes away.

use std::time::Instant;

use crate::tapi::consts::*;
use crate::tapi::{
    Answer, ConnId, DeviceId, HLineApp, LineErr, LineProvider, NotifyMode, Output,
    LINEERR_BADDEVICEID, LINEERR_INCOMPATIBLEAPIVERSION, LINEERR_INVALAPPHANDLE,
    LINEERR_INVALAPPNAME, LINEERR_INVALPARAM,
};

use super::state::App;
use super::{FnResult, Tapisrv};

impl Tapisrv {
    pub(super) fn line_initialize_ex(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        app_name: String,
        api_version: u32,
        options: u32,
        completion_key: u32,
    ) -> FnResult {
        let mode = NotifyMode::from_options(options).ok_or(LINEERR_INVALPARAM)?;
        if app_name.trim().is_empty() {
            return Err(LINEERR_INVALAPPNAME);
        }
        if api_version < API_VERSION_LOW {
            return Err(LINEERR_INCOMPATIBLEAPIVERSION);
        }
        let handle = HLineApp(self.new_handle());
        self.apps.insert(
            handle,
            App {
                handle,
                phone: false,
                conn,
                name: app_name,
                mode,
                completion_key,
                queue: Default::default(),
                waiters: Default::default(),
            },
        );
        Ok(Answer::LineInitialized {
            app: handle,
            num_devs: provider.num_lines(),
            api_version: api_version.min(API_VERSION_HIGH),
        })
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
            Some(a) if a.conn == conn && !a.phone => Ok(app),
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
        let mut apps: Vec<HLineApp> = self
            .apps
            .values()
            .filter(|a| a.conn == conn)
            .map(|a| a.handle)
            .collect();
        apps.sort();
        for app in apps {
            self.shutdown_app(now, provider, app);
        }
    }

    /// Shuts down apps whose event queue overflowed during the last input.
    pub(super) fn finish_overflowed(&mut self, now: Instant, provider: &mut dyn LineProvider) {
        while let Some(app) = self.pending_shutdowns.pop() {
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
