//! Line opens: lineOpen, lineClose, lineSetStatusMessages, lineGetLineDevStatus, and the
//! default media detection TAPISRV asks of the provider (the union of the owners' modes).

use std::time::Instant;

use crate::tapi::consts::*;
use crate::tapi::{
    AddressStates, Answer, ConnId, DeviceId, HLine, HLineApp, LineDevStates, LineDevStatusAnswer,
    LineErr, LineMessage, LinePrivileges, LineProvider, MediaModes, LINEERR_BADDEVICEID,
    LINEERR_INVALLINEHANDLE, LINEERR_INVALMEDIAMODE, LINEERR_INVALPRIVSELECT,
};

use super::apps::check_version;
use super::state::OpenLine;
use super::{FnResult, Tapisrv};

/// Media modes our lines take calls for.
const SUPPORTED_MEDIA: MediaModes =
    MediaModes(LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_UNKNOWN);

/// lineOpen's parameters.
pub(super) struct OpenRequest {
    pub app: HLineApp,
    pub device: u32,
    pub api_version: u32,
    pub callback_instance: u32,
    pub privileges: u32,
    pub media_modes: u32,
}

impl Tapisrv {
    pub(super) fn line_open(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        p: OpenRequest,
    ) -> FnResult {
        let app = self.app_of(conn, p.app)?;
        let device = match p.device {
            // LINEMAPPER: every line of ours supports the same modes; take the first there is.
            LINEMAPPER => (0..provider.num_lines())
                .find(|d| provider.dev_caps(DeviceId(*d)).is_some())
                .ok_or(LINEERR_BADDEVICEID)?,
            id => {
                present(provider, DeviceId(id))?;
                id
            }
        };
        check_version(p.api_version)?;
        let privileges = p.privileges & !(LINEOPENOPTION_SINGLEADDRESS | LINEOPENOPTION_PROXY);
        let (privileges, media_modes) = check_privileges(privileges, p.media_modes)?;
        let handle = HLine(self.new_handle());
        self.open_order += 1;
        self.lines.insert(
            handle,
            OpenLine {
                handle,
                app,
                device: DeviceId(device),
                privileges,
                media_modes,
                callback_instance: p.callback_instance,
                line_states: LineDevStates::NONE,
                address_states: AddressStates::NONE,
                order: self.open_order,
            },
        );
        self.update_media_detection(now, provider, DeviceId(device));
        // TAPI: the other opens learn that the line was opened again.
        self.line_dev_state_except(DeviceId(device), Some(handle), LineDevStates::OPEN, 0, 0);
        Ok(Answer::LineOpened(handle))
    }

    pub(super) fn line_of(&self, conn: ConnId, line: HLine) -> Result<HLine, LineErr> {
        let owner = self.lines.get(&line).map(|l| l.app);
        match owner.and_then(|app| self.apps.get(&app)) {
            Some(a) if a.on(conn) => Ok(line),
            _ => Err(LINEERR_INVALLINEHANDLE),
        }
    }

    pub(super) fn line_close(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        line: HLine,
    ) -> FnResult {
        let line = self.line_of(conn, line)?;
        self.close_line(now, provider, line);
        Ok(Answer::Empty)
    }

    /// lineClose: outstanding replies for the line are suppressed, its call handles freed, and
    /// calls the app alone owned are dropped (tapi.md §6).
    pub(super) fn close_line(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        line: HLine,
    ) {
        let Some(open) = self.lines.remove(&line) else {
            return;
        };
        self.pending.retain(|_, p| p.line != line);
        let mut handles: Vec<_> = self
            .handles
            .values()
            .filter(|h| h.line == line)
            .map(|h| h.handle)
            .collect();
        handles.sort();
        for handle in handles {
            self.release_handle(now, provider, handle, true);
        }
        self.update_media_detection(now, provider, open.device);
        self.line_dev_state(open.device, LineDevStates::CLOSE, 0, 0);
    }

    /// The provider or the gateway closed a line: LINE_CLOSE, handles gone (no drops: the
    /// provider ends the calls itself).
    pub(super) fn force_close_line(&mut self, line: HLine) {
        let Some(open) = self.lines.remove(&line) else {
            return;
        };
        self.pending.retain(|_, p| p.line != line);
        let calls: Vec<_> = self
            .handles
            .values()
            .filter(|h| h.line == line)
            .map(|h| (h.handle, h.call))
            .collect();
        for (handle, call) in calls {
            self.handles.remove(&handle);
            if let Some(rec) = self.calls.get_mut(&call) {
                rec.handles.retain(|h| *h != handle);
            }
        }
        self.deliver(
            open.app,
            LineMessage {
                h_device: line.0,
                dw_message_id: LINE_CLOSE,
                dw_callback_instance: open.callback_instance,
                dw_param1: 0,
                dw_param2: 0,
                dw_param3: 0,
                digits: Default::default(),
            },
        );
    }

    pub(super) fn line_set_status_messages(
        &mut self,
        conn: ConnId,
        line: HLine,
        line_states: LineDevStates,
        address_states: AddressStates,
    ) -> FnResult {
        let line = self.line_of(conn, line)?;
        if let Some(open) = self.lines.get_mut(&line) {
            open.line_states = line_states;
            open.address_states = address_states;
        }
        Ok(Answer::Empty)
    }

    pub(super) fn line_get_line_dev_status(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        line: HLine,
    ) -> FnResult {
        let line = self.line_of(conn, line)?;
        let device = self.lines[&line].device;
        let status = provider
            .line_dev_status(device)
            .ok_or(LINEERR_BADDEVICEID)?;
        let opens = self.lines.values().filter(|l| l.device == device).count();
        Ok(Answer::LineDevStatus(LineDevStatusAnswer {
            dev_status_flags: status.dev_status_flags,
            num_active_calls: status.num_active_calls,
            num_opens: opens as u32,
            open_media_modes: self.owner_media_modes(device),
            line_features: LINEFEATURE_MAKECALL,
            registered: status.registered,
        }))
    }

    fn owner_media_modes(&self, device: DeviceId) -> MediaModes {
        self.lines
            .values()
            .filter(|l| l.device == device && l.may_own())
            .fold(MediaModes::NONE, |acc, l| acc | l.media_modes)
    }

    fn update_media_detection(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        device: DeviceId,
    ) {
        let modes = self.owner_media_modes(device);
        provider.set_default_media_detection(now, device, modes);
    }
}

/// A device that exists now: BADDEVICEID when it never did, NODEVICE when a reload removed it.
pub(super) fn present(provider: &dyn LineProvider, device: DeviceId) -> Result<(), LineErr> {
    if provider.dev_caps(device).is_some() {
        Ok(())
    } else if device.0 < provider.num_lines() {
        Err(crate::tapi::LINEERR_NODEVICE)
    } else {
        Err(LINEERR_BADDEVICEID)
    }
}

/// lineOpen's privilege rules: NONE alone, or MONITOR and/or OWNER; OWNER needs media modes
/// we support.
fn check_privileges(
    privileges: u32,
    media_modes: u32,
) -> Result<(LinePrivileges, MediaModes), LineErr> {
    let privileges = LinePrivileges(privileges);
    let known = LinePrivileges::MONITOR | LinePrivileges::OWNER;
    let valid = privileges == LinePrivileges::NONE_ONLY
        || (!privileges.is_empty() && (privileges & known) == privileges);
    if !valid {
        return Err(LINEERR_INVALPRIVSELECT);
    }
    let media_modes = MediaModes(media_modes);
    if privileges.contains(LinePrivileges::OWNER)
        && (media_modes.is_empty() || (media_modes & SUPPORTED_MEDIA) != media_modes)
    {
        return Err(LINEERR_INVALMEDIAMODE);
    }
    Ok((privileges, media_modes))
}
