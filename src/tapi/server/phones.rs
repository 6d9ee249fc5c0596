//! Phone devices, the gateway's handsets (phone N is the handset of line N): phoneInitializeEx
//! and the phone apps, phoneOpen (one owner at a time, any number of monitors), the status
//! functions, and phoneSetHookSwitch, whose handset answers the line's offered call when it
//! goes off hook and drops the line's connected call when it goes on hook (api.md "Phone
//! devices"). PHONE_REPLY, PHONE_STATE and PHONE_CLOSE go by the same delivery as line messages.

use std::time::Instant;

use crate::tapi::consts::*;
use crate::tapi::{
    Answer, CallOp, CallState, ConnId, DeviceId, HLine, HLineApp, HPhone, HPhoneApp, LineMessage,
    LineProvider, NotifyMode, PhoneCapsAnswer, PhoneErr, PhoneStatusAnswer, RequestId,
    PHONEERR_BADDEVICEID, PHONEERR_INCOMPATIBLEAPIVERSION, PHONEERR_INUSE, PHONEERR_INVALAPPHANDLE,
    PHONEERR_INVALAPPNAME, PHONEERR_INVALHOOKSWITCHDEV, PHONEERR_INVALHOOKSWITCHMODE,
    PHONEERR_INVALPARAM, PHONEERR_INVALPHONEHANDLE, PHONEERR_INVALPRIVILEGE, PHONEERR_NOTOWNER,
};

use super::apps::Init;
use super::state::{NewApp, OpenPhone, Pending, PendingKind};
use super::Tapisrv;

/// What a phone function returns synchronously.
pub(super) type PhoneResult = Result<Answer, PhoneErr>;

/// The hookswitch modes our handset takes.
const HOOK_MODES: u32 = PHONEHOOKSWITCHMODE_ONHOOK
    | PHONEHOOKSWITCHMODE_MIC
    | PHONEHOOKSWITCHMODE_SPEAKER
    | PHONEHOOKSWITCHMODE_MICSPEAKER;

/// The PHONESTATE_ items our handsets report.
const PHONE_STATES: u32 = PHONESTATE_CONNECTED
    | PHONESTATE_OWNER
    | PHONESTATE_MONITORS
    | PHONESTATE_HANDSETHOOKSWITCH
    | PHONESTATE_REMOVED;

/// The arguments of phoneOpen.
pub(super) struct PhoneOpenRequest {
    pub app: HPhoneApp,
    pub device: DeviceId,
    pub api_version: u32,
    pub callback_instance: u32,
    /// PHONEPRIVILEGE_MONITOR or _OWNER.
    pub privilege: u32,
}

/// A hookswitch change whose effects follow the function's response.
#[derive(Debug, Clone, Copy)]
pub(super) struct HookChange {
    pub app: HLineApp,
    pub phone: HPhone,
    pub device: DeviceId,
    pub request: RequestId,
    pub mode: u32,
}

impl Tapisrv {
    pub(super) fn phone_initialize_ex(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        init: Init,
    ) -> PhoneResult {
        let Init {
            app_name,
            api_version,
            options,
            completion_key,
            resumable,
        } = init;
        let mode = NotifyMode::from_options(options).ok_or(PHONEERR_INVALPARAM)?;
        if app_name.trim().is_empty() {
            return Err(PHONEERR_INVALAPPNAME);
        }
        if api_version < API_VERSION_LOW {
            return Err(PHONEERR_INCOMPATIBLEAPIVERSION);
        }
        let (handle, session) = self.register_app(
            conn,
            NewApp {
                phone: true,
                name: app_name,
                mode,
                completion_key,
                resumable,
            },
        );
        Ok(Answer::PhoneInitialized {
            app: HPhoneApp(handle.0),
            num_devs: provider.num_lines(),
            api_version: api_version.min(API_VERSION_HIGH),
            session,
        })
    }

    /// The phone app's key, if it exists and belongs to this connection.
    pub(super) fn phone_app_of(&self, conn: ConnId, app: HPhoneApp) -> Result<HLineApp, PhoneErr> {
        let key = HLineApp(app.0);
        match self.apps.get(&key) {
            Some(a) if a.on(conn) && a.phone => Ok(key),
            _ => Err(PHONEERR_INVALAPPHANDLE),
        }
    }

    pub(super) fn phone_shutdown(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        app: HPhoneApp,
    ) -> PhoneResult {
        let app = self.phone_app_of(conn, app)?;
        self.shutdown_app(now, provider, app);
        Ok(Answer::Empty)
    }

    pub(super) fn phone_negotiate(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        app: HPhoneApp,
        device: DeviceId,
        low: u32,
        high: u32,
    ) -> PhoneResult {
        self.phone_app_of(conn, app)?;
        if provider.dev_caps(device).is_none() {
            return Err(PHONEERR_BADDEVICEID);
        }
        let chosen = high.min(API_VERSION_HIGH);
        if low > high || chosen < low.max(API_VERSION_LOW) {
            return Err(PHONEERR_INCOMPATIBLEAPIVERSION);
        }
        Ok(Answer::ApiVersion(chosen))
    }

    pub(super) fn phone_get_dev_caps(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        app: HPhoneApp,
        device: DeviceId,
        api_version: u32,
    ) -> PhoneResult {
        self.phone_app_of(conn, app)?;
        check_phone_version(api_version)?;
        let caps = provider.dev_caps(device).ok_or(PHONEERR_BADDEVICEID)?;
        Ok(Answer::PhoneDevCaps(Box::new(PhoneCapsAnswer {
            phone_name: format!("{} handset", caps.line_name),
            permanent_phone_id: caps.permanent_line_id,
            hook_switch_devs: PHONEHOOKSWITCHDEV_HANDSET,
            hook_switch_modes: HOOK_MODES,
            phone_states: PHONE_STATES,
        })))
    }

    pub(super) fn phone_open(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        p: PhoneOpenRequest,
    ) -> PhoneResult {
        let PhoneOpenRequest {
            app,
            device,
            api_version,
            callback_instance,
            privilege,
        } = p;
        let app = self.phone_app_of(conn, app)?;
        if provider.dev_caps(device).is_none() {
            return Err(PHONEERR_BADDEVICEID);
        }
        check_phone_version(api_version)?;
        let owner = match privilege {
            PHONEPRIVILEGE_OWNER => true,
            PHONEPRIVILEGE_MONITOR => false,
            _ => return Err(PHONEERR_INVALPRIVILEGE),
        };
        if owner && self.phones.values().any(|p| p.device == device && p.owner) {
            // Ownership of a phone device is exclusive (phoneOpen).
            return Err(PHONEERR_INUSE);
        }
        let handle = HPhone(self.new_handle());
        self.phones.insert(
            handle,
            OpenPhone {
                handle,
                app,
                device,
                owner,
                callback_instance,
                phone_states: 0,
            },
        );
        let item = if owner {
            PHONESTATE_OWNER
        } else {
            PHONESTATE_MONITORS
        };
        self.phone_state(device, Some(handle), item, 0);
        Ok(Answer::PhoneOpened(handle))
    }

    /// The open phone, if it belongs to an app of this connection.
    fn phone_of(&self, conn: ConnId, phone: HPhone) -> Result<&OpenPhone, PhoneErr> {
        let open = self.phones.get(&phone).ok_or(PHONEERR_INVALPHONEHANDLE)?;
        match self.apps.get(&open.app) {
            Some(a) if a.on(conn) => Ok(open),
            _ => Err(PHONEERR_INVALPHONEHANDLE),
        }
    }

    pub(super) fn phone_close_fn(&mut self, conn: ConnId, phone: HPhone) -> PhoneResult {
        self.phone_of(conn, phone)?;
        self.close_phone(phone);
        Ok(Answer::Empty)
    }

    /// Closes an open phone; the other opens learn of the owner/monitor change.
    pub(super) fn close_phone(&mut self, phone: HPhone) {
        let Some(open) = self.phones.remove(&phone) else {
            return;
        };
        let item = if open.owner {
            PHONESTATE_OWNER
        } else {
            PHONESTATE_MONITORS
        };
        self.phone_state(open.device, None, item, 0);
    }

    /// The gateway closed a phone (its line went away): PHONE_CLOSE.
    pub(super) fn force_close_phone(&mut self, phone: HPhone) {
        let Some(open) = self.phones.remove(&phone) else {
            return;
        };
        self.deliver(
            open.app,
            LineMessage {
                h_device: phone.0,
                dw_message_id: PHONE_CLOSE,
                dw_callback_instance: open.callback_instance,
                dw_param1: 0,
                dw_param2: 0,
                dw_param3: 0,
                digits: Default::default(),
            },
        );
    }

    pub(super) fn phone_set_status_messages(
        &mut self,
        conn: ConnId,
        phone: HPhone,
        phone_states: u32,
    ) -> PhoneResult {
        self.phone_of(conn, phone)?;
        if let Some(open) = self.phones.get_mut(&phone) {
            open.phone_states = phone_states;
        }
        Ok(Answer::Empty)
    }

    pub(super) fn phone_get_hook_switch(&mut self, conn: ConnId, phone: HPhone) -> PhoneResult {
        let device = self.phone_of(conn, phone)?.device;
        let off_hook = self.hook_mode(device) != PHONEHOOKSWITCHMODE_ONHOOK;
        Ok(Answer::HookSwitch(if off_hook {
            PHONEHOOKSWITCHDEV_HANDSET
        } else {
            0
        }))
    }

    pub(super) fn phone_get_status(&mut self, conn: ConnId, phone: HPhone) -> PhoneResult {
        let device = self.phone_of(conn, phone)?.device;
        let opens = self.phones.values().filter(|p| p.device == device);
        let (owners, monitors) = opens.fold(
            (0, 0),
            |(o, m), p| {
                if p.owner {
                    (o + 1, m)
                } else {
                    (o, m + 1)
                }
            },
        );
        Ok(Answer::PhoneStatus(PhoneStatusAnswer {
            status_flags: PHONESTATUSFLAGS_CONNECTED,
            num_owners: owners,
            num_monitors: monitors,
            handset_hook_switch_mode: self.hook_mode(device),
        }))
    }

    pub(super) fn hook_mode(&self, device: DeviceId) -> u32 {
        self.hookswitch
            .get(&device)
            .copied()
            .unwrap_or(PHONEHOOKSWITCHMODE_ONHOOK)
    }

    /// phoneSetHookSwitch (owner only): PHONE_REPLY(0) once the hookswitch has changed, which
    /// is at once; the effects follow the response ([`Tapisrv::apply_hook_change`]).
    pub(super) fn phone_set_hook_switch(
        &mut self,
        conn: ConnId,
        phone: HPhone,
        devices: u32,
        mode: u32,
    ) -> PhoneResult {
        let open = self.phone_of(conn, phone)?;
        if !open.owner {
            return Err(PHONEERR_NOTOWNER);
        }
        if devices != PHONEHOOKSWITCHDEV_HANDSET {
            return Err(PHONEERR_INVALHOOKSWITCHDEV);
        }
        if mode.count_ones() != 1 || mode & HOOK_MODES == 0 {
            return Err(PHONEERR_INVALHOOKSWITCHMODE);
        }
        let (app, device) = (open.app, open.device);
        let request = self.new_request();
        self.hook_changes.push(HookChange {
            app,
            phone,
            device,
            request,
            mode,
        });
        Ok(Answer::Request(request))
    }

    /// After phoneSetHookSwitch's response: PHONE_REPLY(0), PHONE_STATE(HANDSETHOOKSWITCH) to
    /// the opens that enabled it, and the handset's effect on the line's calls.
    pub(super) fn apply_hook_change(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        change: HookChange,
    ) {
        let instance = self
            .phones
            .get(&change.phone)
            .map_or(0, |p| p.callback_instance);
        self.deliver(
            change.app,
            LineMessage {
                h_device: 0,
                dw_message_id: PHONE_REPLY,
                dw_callback_instance: instance,
                dw_param1: change.request.0,
                dw_param2: 0,
                dw_param3: 0,
                digits: Default::default(),
            },
        );
        let was = self.hook_mode(change.device);
        if was == change.mode {
            return;
        }
        self.hookswitch.insert(change.device, change.mode);
        self.phone_state(
            change.device,
            None,
            PHONESTATE_HANDSETHOOKSWITCH,
            change.mode,
        );
        let off_hook = change.mode != PHONEHOOKSWITCHMODE_ONHOOK;
        let was_off_hook = was != PHONEHOOKSWITCHMODE_ONHOOK;
        if off_hook && !was_off_hook {
            self.handset_lifted(now, provider, change.device);
        } else if !off_hook && was_off_hook {
            self.handset_replaced(now, provider, change.device);
        }
    }

    /// Off hook: the line's offered (or accepted) call is answered, as lineAnswer would.
    fn handset_lifted(&mut self, now: Instant, provider: &mut dyn LineProvider, device: DeviceId) {
        let offered = self.line_calls_in(device, |s| {
            matches!(s, CallState::Offering(_) | CallState::Accepted)
        });
        if let Some(call) = offered.first().copied() {
            self.internal_op(now, provider, call, CallOp::Answer);
        }
    }

    /// On hook: the line's connected call is dropped.
    fn handset_replaced(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        device: DeviceId,
    ) {
        let connected = self.line_calls_in(device, |s| matches!(s, CallState::Connected(_)));
        for call in connected {
            self.internal_op(now, provider, call, CallOp::Drop);
        }
    }

    /// A request no app made (the handset's): its completion gives no reply.
    pub(super) fn internal_op(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        call: crate::tapi::CallId,
        op: CallOp,
    ) {
        let request = self.new_request();
        if provider.call_op(now, request, call, op).is_ok() {
            self.pending.insert(
                now,
                request,
                Pending {
                    app: HLineApp(0),
                    line: HLine(0),
                    kind: PendingKind::Internal,
                },
            );
        }
    }

    /// PHONE_STATE(`item`, `detail`) to the opens of `device` that enabled it (but `except`).
    fn phone_state(&mut self, device: DeviceId, except: Option<HPhone>, item: u32, detail: u32) {
        let targets: Vec<(HLineApp, HPhone, u32)> = self
            .phones
            .values()
            .filter(|p| {
                p.device == device && Some(p.handle) != except && p.phone_states & item != 0
            })
            .map(|p| (p.app, p.handle, p.callback_instance))
            .collect();
        for (app, phone, instance) in targets {
            self.deliver(
                app,
                LineMessage {
                    h_device: phone.0,
                    dw_message_id: PHONE_STATE,
                    dw_callback_instance: instance,
                    dw_param1: item,
                    dw_param2: detail,
                    dw_param3: 0,
                    digits: Default::default(),
                },
            );
        }
    }
}

/// An API version a phone app may use.
fn check_phone_version(version: u32) -> Result<(), PhoneErr> {
    if (API_VERSION_LOW..=API_VERSION_HIGH).contains(&version) {
        Ok(())
    } else {
        Err(PHONEERR_INCOMPATIBLEAPIVERSION)
    }
}
