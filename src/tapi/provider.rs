//! The provider side of TAPI (our TSPI): what TAPISRV asks of a line provider and what the
//! provider reports back.
//!
//! It mirrors TSPI (../shared/reference/tapi.md §7) in a sans-I/O shape:
//! - TAPISRV calls [`LineProvider`] functions. An asynchronous one (`make_call`, `answer`, ...)
//!   receives the `RequestId` TAPISRV allocated and returns `Ok` when the request was handed to the
//!   network, or a `LineErr` when it failed locally (no completion will follow then).
//! - The provider reports through [`ProviderEvent`]s, drained with `poll_event`: exactly one
//!   `Completion` per accepted request (TSPI's ASYNC_COMPLETION), and line/call events
//!   (TSPI's LINEEVENT). A provider may queue the completion before the function has returned;
//!   TAPISRV still answers the app's function call first (ordering promise 1 of api.md).
//! - A call the provider creates for `make_call` must not be reported (no `CallState`) before its
//!   successful `Completion`; TAPISRV also holds back such events defensively.

use std::time::Instant;

use super::answer::AddressCapsAnswer;
use super::ids::{CallId, DeviceId, RequestId};
use super::lineerr::LineErr;
use super::types::{
    AddressStates, CallFeatures, CallInfoStates, CallOrigin, CallReason, CallState, LineDevStates,
    MediaModes,
};

/// What `lineGetDevCaps` reports for a line device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevCaps {
    pub line_name: String,
    pub permanent_line_id: u32,
    pub num_addresses: u32,
    /// Media modes the line supports.
    pub media_modes: MediaModes,
    pub max_num_active_calls: u32,
    /// LINEFEATURE_ bits.
    pub line_features: u32,
    /// LINEDEVCAPFLAGS_ bits.
    pub dev_cap_flags: u32,
    /// The LINEDEVSTATE_ items the line reports.
    pub line_states: LineDevStates,
    /// LINEANSWERMODE_ (what answering a second call does to the first).
    pub answer_mode: u32,
    /// Number of ring modes (LINE_LINEDEVSTATE(RINGING) dwParam2 is 1..this).
    pub ring_modes: u32,
    /// The line's own address (our AOR), as apps would dial it.
    pub address: String,
}

/// What `lineGetLineDevStatus` reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineDevStatus {
    /// LINEDEVSTATUSFLAGS_ bits (INSERVICE, CONNECTED, ...).
    pub dev_status_flags: u32,
    /// Calls the provider currently has on the line.
    pub num_active_calls: u32,
    /// Whether the line is registered with its registrar (lines without registration: false).
    pub registered: bool,
}

/// What the provider knows about a call; TAPISRV adds handle counts and privileges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderCallInfo {
    pub device: DeviceId,
    pub media_mode: MediaModes,
    pub origin: CallOrigin,
    pub reason: CallReason,
    pub caller_id: String,
    pub caller_id_name: String,
    pub called_id: String,
    pub called_id_name: String,
    pub connected_id: String,
    pub connected_id_name: String,
    /// The SIP Call-ID of the call's dialog.
    pub sip_call_id: String,
    /// Negotiated codec ("PCMU", "PCMA"), once known.
    pub codec: Option<String>,
    /// Remote RTP address from the peer's SDP, once known ("ip:port").
    pub remote_media: Option<String>,
    /// Our RTP address in the SDP we sent ("ip:port").
    pub local_media: Option<String>,
    /// dwRelatedCallID: the conference call a party belongs to.
    pub related_call: Option<CallId>,
}

/// An event the provider reports to TAPISRV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderEvent {
    /// ASYNC_COMPLETION: the request finished; `Ok` becomes LINE_REPLY(0).
    Completion {
        request: RequestId,
        result: Result<(), LineErr>,
    },
    /// LINE_NEWCALL: a call TAPI did not originate (inbound, or placed because a peer
    /// transferred us). TAPISRV picks the owner and the monitors (with `inherit`, the owners of
    /// that call own this one too); the next event for the call must be its `CallState`. When
    /// no app can take it TAPISRV calls `close_call`, and the provider rejects the call.
    NewCall {
        device: DeviceId,
        call: CallId,
        inherit: Option<CallId>,
    },
    /// A call whose dialog survived a restart of the gateway (the call journal, with
    /// `sip.recover_calls`): no app owns it; TAPISRV keeps it on its line so that apps find
    /// it with lineGetNewCalls (and may take it over with lineSetCallPrivilege). Its state
    /// follows. Once it goes IDLE with no app holding it, TAPISRV calls `close_call`.
    RecoveredCall { device: DeviceId, call: CallId },
    /// LINE_CALLSTATE: the call's new state with its mode detail.
    CallState { call: CallId, state: CallState },
    /// LINE_CALLINFO: the LINECALLINFO fields that changed.
    CallInfo {
        call: CallId,
        changed: CallInfoStates,
    },
    /// LINE_LINEDEVSTATE: `state` is one LINEDEVSTATE_ bit; params as TAPI defines for it.
    LineDevState {
        device: DeviceId,
        state: LineDevStates,
        param2: u32,
        param3: u32,
    },
    /// LINE_ADDRESSSTATE: `states` of address `address` changed.
    AddressState {
        device: DeviceId,
        address: u32,
        states: AddressStates,
    },
    /// The provider forced the line closed (LINE_CLOSE to every app that has it open).
    LineClose { device: DeviceId },
    /// A line device appeared (a reload added it): LINE_CREATE and PHONE_CREATE.
    LineCreated { device: DeviceId },
    /// A line device is gone (a reload removed it): its opens are closed, then LINE_REMOVE and
    /// PHONE_REMOVE.
    LineRemoved { device: DeviceId },
    /// A digit the peer sent (RFC 4733 or SIP INFO): `mode` is LINEDIGITMODE_DTMF when it
    /// starts, LINEDIGITMODE_DTMFEND when it ends. TAPISRV sends LINE_MONITORDIGITS to the apps
    /// monitoring that mode and feeds lineGatherDigits.
    Digit {
        call: CallId,
        digit: char,
        mode: u32,
    },
    /// The digits or tone of the last [`MediaControl`] generate request are out (or were
    /// cancelled): LINE_GENERATE to the app that asked.
    GenerateDone { call: CallId, cancelled: bool },
}

/// The synchronous media functions on one call (lineGenerateDigits, lineGenerateTone,
/// mediaStop), as TAPISRV hands them to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaControl {
    /// Digits ("0-9*#A-D", ',' = 1 s pause, already checked), each `duration_ms` long; a
    /// generate in progress is cancelled. Exactly one `GenerateDone` follows.
    GenerateDigits { digits: String, duration_ms: u32 },
    /// A LINETONEMODE_ tone (RINGBACK, BUSY, BEEP); `duration_ms` 0 = until cancelled.
    /// Exactly one `GenerateDone` follows.
    GenerateTone { tone_mode: u32, duration_ms: u32 },
    /// Cancels digits or a tone in progress (its `GenerateDone` says cancelled).
    CancelGenerate,
    /// mediaStop: ends play and record on the call.
    StopMedia,
}

/// One entry of lineForward's list (LINEFORWARD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardEntry {
    /// LINEFORWARDMODE_ (UNCOND, BUSY, NOANSW are served).
    pub mode: u32,
    pub dest: String,
}

/// The asynchronous functions on a single call, as TAPISRV hands them to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOp {
    /// lineAccept.
    Accept,
    /// lineAnswer.
    Answer,
    /// lineDrop.
    Drop,
    /// lineRedirect to the destination as dialled.
    Redirect(String),
    /// lineHold.
    Hold,
    /// lineUnhold.
    Unhold,
    /// lineBlindTransfer to the destination as dialled.
    BlindTransfer(String),
    /// lineDial on a DIALTONE call.
    Dial(String),
    /// lineRemoveFromConference: the party leaves its conference (back to CONNECTED).
    RemoveFromConference,
    /// mediaPlay: a WAV file of `media.files_dir` into the call; completes at its end.
    Play { file: String, looped: bool },
    /// mediaRecord: what the peer sends into a WAV file of `media.files_dir`.
    Record {
        file: String,
        max_ms: u32,
        silence_ms: Option<u32>,
    },
}

/// The functions TAPISRV calls on a line provider (TSPI_line* in sans-I/O form).
pub trait LineProvider {
    /// Number of line devices (device IDs 0..n-1).
    fn num_lines(&self) -> u32;

    fn dev_caps(&self, device: DeviceId) -> Option<DevCaps>;

    fn line_dev_status(&self, device: DeviceId) -> Option<LineDevStatus>;

    /// The line's user part (what `[[api.tokens]]` scopes name), also for a line a reload
    /// removed, so a scoped app's device numbering never shifts.
    fn line_user(&self, _device: DeviceId) -> Option<&str> {
        None
    }

    /// TSPI_lineSetDefaultMediaDetection: the union of the media modes of the apps that have the
    /// line open as OWNER (none = nobody takes inbound calls).
    fn set_default_media_detection(
        &mut self,
        now: Instant,
        device: DeviceId,
        media_modes: MediaModes,
    );

    /// TSPI_lineMakeCall. Returns the new call; events for it start after its completion.
    fn make_call(
        &mut self,
        now: Instant,
        request: RequestId,
        device: DeviceId,
        dest: &str,
    ) -> Result<CallId, LineErr>;

    /// An asynchronous function on one call (TSPI_lineAccept, _lineAnswer, _lineDrop,
    /// _lineRedirect, ...). `Ok` means the request went to the network and exactly one
    /// `Completion` for `request` will follow.
    fn call_op(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
        op: CallOp,
    ) -> Result<(), LineErr>;

    /// TSPI_lineSetupTransfer: holds `call` and returns the new consultation call (DIALTONE);
    /// the completion comes when the hold is confirmed, and no event of the new call comes
    /// before it.
    fn setup_transfer(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
    ) -> Result<CallId, LineErr>;

    /// TSPI_lineCompleteTransfer: `mode` is LINETRANSFERMODE_TRANSFER or _CONFERENCE.
    fn complete_transfer(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
        consult: CallId,
        mode: u32,
    ) -> Result<(), LineErr>;

    /// TSPI_lineCompleteTransfer(CONFERENCE): returns the new conference call; the completion
    /// comes when the parties are joined, and no event of the conference call before it.
    fn conference_transfer(
        &mut self,
        _now: Instant,
        _request: RequestId,
        _call: CallId,
        _consult: CallId,
    ) -> Result<CallId, LineErr> {
        Err(super::lineerr::LINEERR_OPERATIONUNAVAIL)
    }

    /// TSPI_lineSetupConference: `call` becomes the first party (CONFERENCED) of a new
    /// conference call (ONHOLDPENDCONF) and a consultation call goes DIALTONE: (conference,
    /// consultation). Completes at once; no event of the new calls before it.
    fn setup_conference(
        &mut self,
        _now: Instant,
        _request: RequestId,
        _call: CallId,
    ) -> Result<(CallId, CallId), LineErr> {
        Err(super::lineerr::LINEERR_OPERATIONUNAVAIL)
    }

    /// TSPI_linePrepareAddToConference: the conference goes ONHOLDPENDCONF and a new
    /// consultation call DIALTONE (returned). Completes at once.
    fn prepare_add_to_conference(
        &mut self,
        _now: Instant,
        _request: RequestId,
        _conf: CallId,
    ) -> Result<CallId, LineErr> {
        Err(super::lineerr::LINEERR_OPERATIONUNAVAIL)
    }

    /// TSPI_lineAddToConference: `call` (connected, not held, on the conference's line) joins
    /// conference `conf`.
    fn add_to_conference(
        &mut self,
        _now: Instant,
        _request: RequestId,
        _conf: CallId,
        _call: CallId,
    ) -> Result<(), LineErr> {
        Err(super::lineerr::LINEERR_OPERATIONUNAVAIL)
    }

    /// TSPI_lineSwapHold: holds `active`, then resumes `held`; one completion for both.
    fn swap_hold(
        &mut self,
        now: Instant,
        request: RequestId,
        active: CallId,
        held: CallId,
    ) -> Result<(), LineErr>;

    /// TSPI_lineForward for the line's address (an empty list cancels forwarding).
    fn forward(
        &mut self,
        now: Instant,
        request: RequestId,
        device: DeviceId,
        forwards: &[ForwardEntry],
        num_rings_no_answer: u32,
    ) -> Result<(), LineErr>;

    /// A synchronous media function on `call` (digits, tones, mediaStop).
    fn media_control(
        &mut self,
        _now: Instant,
        _call: CallId,
        _control: MediaControl,
    ) -> Result<(), LineErr> {
        Err(super::lineerr::LINEERR_OPERATIONUNAVAIL)
    }

    /// The LINECALLFEATURE_ bits an owner may use on `call` now.
    fn call_features(&self, call: CallId) -> CallFeatures;

    /// TSPI_lineGetAddressCaps of the device's one address.
    fn address_caps(&self, device: DeviceId) -> Option<AddressCapsAnswer>;

    /// The device's forwarding (lineForward's list as given, and the rings before NOANSW).
    fn forwarding(&self, device: DeviceId) -> (Vec<ForwardEntry>, u32);

    /// TSPI_lineCloseCall: TAPI holds no handle to the call any more. A call that is still live
    /// is dropped silently (rejected if it is still offered); no completion follows.
    fn close_call(&mut self, now: Instant, call: CallId);

    fn call_info(&self, call: CallId) -> Option<ProviderCallInfo>;

    /// Next queued event, if any.
    fn poll_event(&mut self) -> Option<ProviderEvent>;
}
