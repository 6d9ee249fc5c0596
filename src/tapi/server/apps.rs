//! Applications: lineInitializeEx, lineShutdown, lineNegotiateAPIVersion, lineGetDevCaps, and
//! what happens when a connection goes away.

use std::time::Instant;

use serde_json::json;

use crate::api::{AppParams, ConnId, DevCapsParams, InitializeParams, NegotiateParams};
use crate::tapi::consts::*;
use crate::tapi::{
    DeviceId, HLineApp, LineProvider, LINEERR_BADDEVICEID, LINEERR_INCOMPATIBLEAPIVERSION,
    LINEERR_INVALAPPHANDLE, LINEERR_INVALAPPNAME, LINEERR_INVALPARAM,
};

use super::delivery::empty;
use super::state::{App, NotifyMode};
use super::{FnResult, Tapisrv};

impl Tapisrv {
    pub(super) fn line_initialize_ex(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        p: InitializeParams,
    ) -> FnResult {
        let mode = match p.options & !LINEINITIALIZEEXOPTION_CALLHUBTRACKING {
            LINEINITIALIZEEXOPTION_USEHIDDENWINDOW => NotifyMode::Callback,
            LINEINITIALIZEEXOPTION_USEEVENT => NotifyMode::Event,
            LINEINITIALIZEEXOPTION_USECOMPLETIONPORT => NotifyMode::CompletionPort,
            _ => return Err(LINEERR_INVALPARAM),
        };
        if p.app_name.trim().is_empty() {
            return Err(LINEERR_INVALAPPNAME);
        }
        if p.api_version < API_VERSION_LOW {
            return Err(LINEERR_INCOMPATIBLEAPIVERSION);
        }
        let handle = HLineApp(self.new_handle());
        self.apps.insert(
            handle,
            App {
                handle,
                conn,
                name: p.app_name,
                mode,
                completion_key: p.completion_key,
                queue: Default::default(),
                waiters: Default::default(),
            },
        );
        Ok(json!({
            "hLineApp": handle.0,
            "numDevs": provider.num_lines(),
            "apiVersion": p.api_version.min(API_VERSION_HIGH),
        }))
    }

    pub(super) fn line_shutdown(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        p: AppParams,
    ) -> FnResult {
        let app = self.app_of(conn, p.h_line_app)?;
        self.shutdown_app(now, provider, app);
        Ok(empty())
    }

    /// The app's handle, if it exists and belongs to this connection.
    pub(super) fn app_of(
        &self,
        conn: ConnId,
        handle: u32,
    ) -> Result<HLineApp, crate::tapi::LineErr> {
        let app = HLineApp(handle);
        match self.apps.get(&app) {
            Some(a) if a.conn == conn => Ok(app),
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
        self.pending.retain(|_, p| p.app != app);
        if let Some(a) = self.apps.remove(&app) {
            self.wake_waiters(a.waiters, LINEERR_INVALAPPHANDLE);
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
            self.outputs
                .push_back(crate::api::ApiOutput::Close { conn });
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
        p: NegotiateParams,
    ) -> FnResult {
        self.app_of(conn, p.h_line_app)?;
        if p.device_id >= provider.num_lines() {
            return Err(LINEERR_BADDEVICEID);
        }
        let high = p.api_high_version.min(API_VERSION_HIGH);
        if p.api_low_version > p.api_high_version || high < p.api_low_version.max(API_VERSION_LOW) {
            return Err(LINEERR_INCOMPATIBLEAPIVERSION);
        }
        Ok(json!({ "apiVersion": high }))
    }

    pub(super) fn line_get_dev_caps(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        p: DevCapsParams,
    ) -> FnResult {
        self.app_of(conn, p.h_line_app)?;
        check_version(p.api_version)?;
        let caps = provider
            .dev_caps(DeviceId(p.device_id))
            .ok_or(LINEERR_BADDEVICEID)?;
        Ok(json!({
            "lineName": caps.line_name,
            "permanentLineId": caps.permanent_line_id,
            "numAddresses": caps.num_addresses,
            "mediaModes": caps.media_modes,
            "maxNumActiveCalls": caps.max_num_active_calls,
            "lineFeatures": caps.line_features,
            "address": caps.address,
        }))
    }
}

/// An API version an app may use with a device.
pub(super) fn check_version(version: u32) -> Result<(), crate::tapi::LineErr> {
    if (API_VERSION_LOW..=API_VERSION_HIGH).contains(&version) {
        Ok(())
    } else {
        Err(LINEERR_INCOMPATIBLEAPIVERSION)
    }
}
