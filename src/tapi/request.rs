//! The functions apps call, as typed requests TAPISRV serves: one variant per TAPI function,
//! with the parameters TAPI gives it (Hungarian prefixes dropped, handles typed).
//!
//! Values TAPI validates itself (privileges, options, modes) stay raw `u32`s here so TAPISRV
//! can answer a bad one with the exact LINEERR_ Microsoft documents for it.

use super::ids::{DeviceId, HCall, HLine, HLineApp, HPhone, HPhoneApp};
use super::provider::ForwardEntry;
use super::scope::Token;
use super::session::SessionId;
use super::types::{AddressStates, LineDevStates};

/// One function call of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    LineInitializeEx {
        app_name: String,
        api_version: u32,
        /// LINEINITIALIZEEXOPTION_ (notification mode).
        options: u32,
        completion_key: u32,
        /// Keep the app for `api.resume_grace_s` when its connection drops (lineResume).
        resumable: bool,
    },
    LineShutdown {
        app: HLineApp,
    },
    LineNegotiateApiVersion {
        app: HLineApp,
        device: DeviceId,
        low: u32,
        high: u32,
    },
    LineGetDevCaps {
        app: HLineApp,
        device: DeviceId,
        api_version: u32,
    },
    LineOpen {
        app: HLineApp,
        /// A device ID or LINEMAPPER.
        device: u32,
        api_version: u32,
        callback_instance: u32,
        /// LINECALLPRIVILEGE_ bits, possibly with LINEOPENOPTION_ flags.
        privileges: u32,
        /// LINEMEDIAMODE_ bits.
        media_modes: u32,
    },
    LineClose {
        line: HLine,
    },
    LineSetStatusMessages {
        line: HLine,
        line_states: LineDevStates,
        address_states: AddressStates,
    },
    LineGetLineDevStatus {
        line: HLine,
    },
    LineMakeCall {
        line: HLine,
        dest: String,
    },
    LineAccept {
        call: HCall,
    },
    LineAnswer {
        call: HCall,
    },
    LineDrop {
        call: HCall,
    },
    LineRedirect {
        call: HCall,
        dest: String,
    },
    LineDeallocateCall {
        call: HCall,
    },
    LineGetCallInfo {
        call: HCall,
    },
    LineGetCallStatus {
        call: HCall,
    },
    LineSetCallPrivilege {
        call: HCall,
        /// LINECALLPRIVILEGE_MONITOR or _OWNER (anything else: LINEERR_INVALCALLPRIVILEGE).
        privilege: u32,
    },
    LineGetMessage {
        app: HLineApp,
        /// Milliseconds; 0 polls, 0xFFFFFFFF (INFINITE) waits for ever.
        timeout: u32,
    },
    LineHold {
        call: HCall,
    },
    LineUnhold {
        call: HCall,
    },
    LineSwapHold {
        active: HCall,
        held: HCall,
    },
    LineBlindTransfer {
        call: HCall,
        dest: String,
    },
    LineSetupTransfer {
        call: HCall,
    },
    LineDial {
        call: HCall,
        dest: String,
    },
    LineCompleteTransfer {
        call: HCall,
        consult: HCall,
        /// LINETRANSFERMODE_TRANSFER or _CONFERENCE.
        mode: u32,
    },
    LineForward {
        line: HLine,
        all_addresses: bool,
        forwards: Vec<ForwardEntry>,
        num_rings_no_answer: u32,
    },
    LineGetAddressCaps {
        app: HLineApp,
        device: DeviceId,
        address: u32,
        api_version: u32,
    },
    LineGetAddressStatus {
        line: HLine,
        address: u32,
    },
    LineGetAddressId {
        line: HLine,
        /// LINEADDRESSMODE_ (DIALABLEADDR is served).
        mode: u32,
        address: String,
    },
    LineGetNewCalls {
        line: HLine,
        address: u32,
        /// LINECALLSELECT_LINE or _ADDRESS.
        select: u32,
    },
    LineGetId {
        /// LINECALLSELECT_LINE, _ADDRESS or _CALL.
        select: u32,
        line: Option<HLine>,
        address: u32,
        call: Option<HCall>,
        device_class: String,
    },
    LineGenerateDigits {
        call: HCall,
        /// LINEDIGITMODE_ (DTMF only).
        digit_mode: u32,
        /// "0-9*#A-D" and ',' (a 1 s pause); empty cancels.
        digits: String,
        /// Milliseconds per digit (0 = 100).
        duration: u32,
    },
    LineGenerateTone {
        call: HCall,
        /// LINETONEMODE_ (RINGBACK, BUSY, BEEP); 0 cancels.
        tone_mode: u32,
        /// Milliseconds (0 = until cancelled; BEEP: 400).
        duration: u32,
    },
    LineMonitorDigits {
        call: HCall,
        /// LINEDIGITMODE_DTMF | _DTMFEND; 0 stops.
        digit_modes: u32,
    },
    LineGatherDigits {
        call: HCall,
        /// LINEDIGITMODE_DTMF.
        digit_modes: u32,
        /// Digits to gather (0 cancels a gather in progress).
        num_digits: u32,
        /// Digits that end the gather (kept in the buffer).
        term_digits: String,
        /// Milliseconds until the first digit (0 = none).
        first_timeout: u32,
        /// Milliseconds between digits (0 = none).
        inter_timeout: u32,
    },
    LineRemoveFromConference {
        call: HCall,
    },
    LineAddToConference {
        conf_call: HCall,
        add_call: HCall,
    },
    LineSetupConference {
        call: HCall,
    },
    LinePrepareAddToConference {
        conf_call: HCall,
    },
    /// Our extension: a WAV file into the call (asynchronous).
    MediaPlay {
        call: HCall,
        file: String,
        looped: bool,
    },
    /// Our extension: records the peer into a WAV file (asynchronous).
    MediaRecord {
        call: HCall,
        file: String,
        max_ms: u32,
        silence_ms: Option<u32>,
    },
    /// Our extension: stops play and record on the call.
    MediaStop {
        call: HCall,
    },
    PhoneInitializeEx {
        app_name: String,
        api_version: u32,
        /// PHONEINITIALIZEEXOPTION_ (notification mode).
        options: u32,
        completion_key: u32,
        /// Keep the app for `api.resume_grace_s` when its connection drops (phoneResume).
        resumable: bool,
    },
    PhoneShutdown {
        app: HPhoneApp,
    },
    PhoneNegotiateApiVersion {
        app: HPhoneApp,
        device: DeviceId,
        low: u32,
        high: u32,
    },
    PhoneGetDevCaps {
        app: HPhoneApp,
        device: DeviceId,
        api_version: u32,
    },
    PhoneOpen {
        app: HPhoneApp,
        device: DeviceId,
        api_version: u32,
        callback_instance: u32,
        /// PHONEPRIVILEGE_MONITOR or _OWNER.
        privilege: u32,
    },
    PhoneClose {
        phone: HPhone,
    },
    PhoneSetStatusMessages {
        phone: HPhone,
        /// PHONESTATE_ bits.
        phone_states: u32,
        button_modes: u32,
        button_states: u32,
    },
    PhoneGetHookSwitch {
        phone: HPhone,
    },
    PhoneGetStatus {
        phone: HPhone,
    },
    PhoneSetHookSwitch {
        phone: HPhone,
        /// PHONEHOOKSWITCHDEV_ bits.
        devices: u32,
        /// PHONEHOOKSWITCHMODE_.
        mode: u32,
    },
    PhoneGetMessage {
        app: HPhoneApp,
        timeout: u32,
    },
    /// Re-attaches a kept (or live) session to this connection and replays every message
    /// after `last_seq`. Serves line and phone sessions alike.
    LineResume {
        session: SessionId,
        last_seq: u64,
    },
    /// lineResume for phone sessions only, with PHONEERR_ errors (our extension).
    PhoneResume {
        session: SessionId,
        last_seq: u64,
    },
    /// The API's handshake (docs/api.md "Security"): checked by the API layer before anything
    /// reaches TAPISRV; TAPISRV itself answers `{}` (the simulator has no tokens).
    Authenticate {
        token: Token,
    },
}

impl Request {
    /// The function's TAPI name (metrics, logs); "other" for functions not listed yet.
    pub fn name(&self) -> &'static str {
        match self {
            Request::LineInitializeEx { .. } => "lineInitializeEx",
            Request::LineShutdown { .. } => "lineShutdown",
            Request::LineOpen { .. } => "lineOpen",
            Request::LineClose { .. } => "lineClose",
            Request::LineMakeCall { .. } => "lineMakeCall",
            Request::LineAccept { .. } => "lineAccept",
            Request::LineAnswer { .. } => "lineAnswer",
            Request::LineDrop { .. } => "lineDrop",
            Request::LineRedirect { .. } => "lineRedirect",
            Request::LineHold { .. } => "lineHold",
            Request::LineUnhold { .. } => "lineUnhold",
            Request::LineSwapHold { .. } => "lineSwapHold",
            Request::LineBlindTransfer { .. } => "lineBlindTransfer",
            Request::LineSetupTransfer { .. } => "lineSetupTransfer",
            Request::LineDial { .. } => "lineDial",
            Request::LineCompleteTransfer { .. } => "lineCompleteTransfer",
            Request::LineForward { .. } => "lineForward",
            Request::LineSetCallPrivilege { .. } => "lineSetCallPrivilege",
            Request::LineGetMessage { .. } => "lineGetMessage",
            Request::LineGenerateDigits { .. } => "lineGenerateDigits",
            Request::LineGenerateTone { .. } => "lineGenerateTone",
            Request::LineMonitorDigits { .. } => "lineMonitorDigits",
            Request::LineGatherDigits { .. } => "lineGatherDigits",
            Request::LineRemoveFromConference { .. } => "lineRemoveFromConference",
            Request::LineAddToConference { .. } => "lineAddToConference",
            Request::LineSetupConference { .. } => "lineSetupConference",
            Request::LinePrepareAddToConference { .. } => "linePrepareAddToConference",
            Request::MediaPlay { .. } => "mediaPlay",
            Request::MediaRecord { .. } => "mediaRecord",
            Request::MediaStop { .. } => "mediaStop",
            Request::PhoneInitializeEx { .. } => "phoneInitializeEx",
            Request::PhoneOpen { .. } => "phoneOpen",
            Request::PhoneSetHookSwitch { .. } => "phoneSetHookSwitch",
            Request::PhoneGetMessage { .. } => "phoneGetMessage",
            Request::Authenticate { .. } => "authenticate",
            _ => "other",
        }
    }
}
