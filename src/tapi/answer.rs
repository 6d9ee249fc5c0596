//! What TAPISRV gives back: a function's synchronous result ([`Answer`]) and everything it
//! wants delivered to client connections ([`Output`]). Typed values only: the API layer alone
//! decides how they look on the wire.

use super::ids::{
    CallId, ConnId, DeviceId, HCall, HLine, HLineApp, HPhone, HPhoneApp, ReplyTag, RequestId,
};
use super::message::LineMessage;
use super::phoneerr::TapiErr;
use super::provider::{DevCaps, ForwardEntry};
use super::session::{SessionId, Stamp};
use super::types::{CallFeatures, CallPrivilege, CallState, MediaModes};

/// The synchronous result of a function that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `{}`.
    Empty,
    LineInitialized {
        app: HLineApp,
        num_devs: u32,
        api_version: u32,
        session: SessionId,
    },
    ApiVersion(u32),
    DevCaps(Box<DevCaps>),
    LineOpened(HLine),
    LineDevStatus(LineDevStatusAnswer),
    /// An asynchronous function was accepted: LINE_REPLY(request) follows.
    Request(RequestId),
    /// lineMakeCall: the request, and the handle valid once its LINE_REPLY reports 0.
    MadeCall {
        request: RequestId,
        call: HCall,
    },
    /// lineSetupTransfer: the request, and the consultation call's handle (valid once its
    /// LINE_REPLY reports 0).
    SetupTransfer {
        request: RequestId,
        consult: HCall,
    },
    /// lineCompleteTransfer(CONFERENCE): the request, and the conference call's handle (valid
    /// once its LINE_REPLY reports 0).
    Conference {
        request: RequestId,
        conf: HCall,
    },
    /// lineSetupConference: the request, the conference call's and the consultation call's
    /// handles (valid once its LINE_REPLY reports 0).
    SetupConference {
        request: RequestId,
        conf: HCall,
        consult: HCall,
    },
    /// linePrepareAddToConference: the request and the new consultation call's handle.
    PrepareAdd {
        request: RequestId,
        add: HCall,
    },
    CallInfo(Box<CallInfoAnswer>),
    CallStatus(CallStatusAnswer),
    /// lineGetMessage / phoneGetMessage: the message and its stamp (seq).
    Message(LineMessage, Stamp),
    AddressCaps(Box<AddressCapsAnswer>),
    AddressStatus(Box<AddressStatusAnswer>),
    AddressId(u32),
    /// lineGetNewCalls: monitor handles the app did not hold before.
    NewCalls(Vec<HCall>),
    /// lineGetID.
    DeviceId(u32),
    PhoneInitialized {
        app: HPhoneApp,
        num_devs: u32,
        api_version: u32,
        session: SessionId,
    },
    /// lineResume / phoneResume: the app's handle (an hPhoneApp when `phone`).
    Resumed {
        app: u32,
        phone: bool,
    },
    PhoneDevCaps(Box<PhoneCapsAnswer>),
    PhoneOpened(HPhone),
    /// phoneGetHookSwitch: PHONEHOOKSWITCHDEV_ bits of the devices off hook.
    HookSwitch(u32),
    PhoneStatus(PhoneStatusAnswer),
}

/// lineGetAddressCaps (LINEADDRESSCAPS' fields apps use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressCapsAnswer {
    pub address: String,
    pub max_num_active_calls: u32,
    pub max_num_on_hold_calls: u32,
    pub max_num_on_hold_pending_calls: u32,
    /// LINECALLSTATE_ bits the address can report.
    pub call_states: u32,
    /// LINECALLFEATURE_ bits the address offers.
    pub call_features: u32,
    /// LINEADDRFEATURE_ bits.
    pub address_features: u32,
    /// LINEADDRCAPFLAGS_.
    pub addr_cap_flags: u32,
    /// LINETRANSFERMODE_ bits.
    pub transfer_modes: u32,
    /// LINEFORWARDMODE_ bits.
    pub forward_modes: u32,
    pub max_forward_entries: u32,
}

/// lineGetAddressStatus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressStatusAnswer {
    pub num_in_use: u32,
    pub num_active_calls: u32,
    pub num_on_hold_calls: u32,
    pub num_on_hold_pend_calls: u32,
    /// LINEADDRFEATURE_ bits valid now.
    pub address_features: u32,
    pub num_rings_no_answer: u32,
    pub forward_list: Vec<ForwardEntry>,
}

/// phoneGetDevCaps (PHONECAPS' fields apps use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneCapsAnswer {
    pub phone_name: String,
    pub permanent_phone_id: u32,
    /// PHONEHOOKSWITCHDEV_ bits.
    pub hook_switch_devs: u32,
    /// PHONEHOOKSWITCHMODE_ bits the handset supports.
    pub hook_switch_modes: u32,
    /// PHONESTATE_ bits the device reports.
    pub phone_states: u32,
}

/// phoneGetStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneStatusAnswer {
    /// PHONESTATUSFLAGS_.
    pub status_flags: u32,
    pub num_owners: u32,
    pub num_monitors: u32,
    /// PHONEHOOKSWITCHMODE_ of the handset.
    pub handset_hook_switch_mode: u32,
}

/// lineGetLineDevStatus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDevStatusAnswer {
    /// LINEDEVSTATUSFLAGS_.
    pub dev_status_flags: u32,
    pub num_active_calls: u32,
    pub num_opens: u32,
    pub open_media_modes: MediaModes,
    /// LINEFEATURE_.
    pub line_features: u32,
    pub registered: bool,
}

/// lineGetCallInfo (LINECALLINFO's fields apps use, plus our extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfoAnswer {
    pub line: HLine,
    pub device: DeviceId,
    pub address_id: u32,
    pub media_mode: MediaModes,
    pub call_id: CallId,
    /// LINECALLORIGIN_.
    pub origin: u32,
    /// LINECALLREASON_.
    pub reason: u32,
    pub caller_id: String,
    pub caller_id_name: String,
    pub called_id: String,
    pub called_id_name: String,
    pub connected_id: String,
    pub connected_id_name: String,
    pub num_owners: u32,
    pub num_monitors: u32,
    pub sip_call_id: String,
    pub codec: Option<String>,
    pub remote_media: Option<String>,
    pub local_media: Option<String>,
    /// dwRelatedCallID (a conference party: the conference call's callId; else 0).
    pub related_call_id: u64,
}

/// lineGetCallStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallStatusAnswer {
    /// None before the first state (a handle announced with LINE_APPNEWCALL only).
    pub state: Option<CallState>,
    /// dwCallStateMode as apps see it (for CONFERENCED: their hConfCall).
    pub state_mode: u32,
    pub privilege: CallPrivilege,
    pub features: CallFeatures,
}

/// A request the front end could not turn into a function call (a JSON-RPC protocol error):
/// TAPISRV answers it in order with the connection's other responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The request's tag, when one could be read.
    pub tag: Option<ReplyTag>,
    pub code: i32,
    pub message: String,
}

/// Something for one client connection, in the order TAPISRV produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The response to the request tagged `tag`.
    Response {
        conn: ConnId,
        tag: ReplyTag,
        result: Result<Answer, TapiErr>,
    },
    /// The answer to a request the front end rejected.
    Fault { conn: ConnId, fault: Fault },
    /// A pushed TAPI message (notification modes 1 and 3).
    Message {
        conn: ConnId,
        message: LineMessage,
        /// LINEINITIALIZEEXPARAMS.dwCompletionKey, in completion-port mode.
        completion_key: Option<u32>,
        /// The app it is for and its seq.
        stamp: Stamp,
    },
    /// The app (an hPhoneApp when `phone`) was resumed on another connection: this one no
    /// longer has it (it is closed just after).
    TakenOver { conn: ConnId, app: u32, phone: bool },
    /// Close the connection once what was queued before it is written.
    Close { conn: ConnId },
}

impl Output {
    /// The connection this output is for.
    pub fn conn(&self) -> ConnId {
        match self {
            Output::Response { conn, .. }
            | Output::Fault { conn, .. }
            | Output::Message { conn, .. }
            | Output::TakenOver { conn, .. }
            | Output::Close { conn } => *conn,
        }
    }
}
