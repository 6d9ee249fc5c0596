//! TAPISRV's records: applications, open lines, call handles, calls, pending requests.

use std::collections::VecDeque;
use std::time::Instant;

use crate::tapi::{
    AddressStates, CallId, CallPrivilege, CallState, ConnId, DeviceId, HCall, HLine, HLineApp,
    HPhone, LineDevStates, LineMessage, LinePrivileges, MediaModes, NotifyMode, ReplyTag,
    SessionId,
};

/// A lineGetMessage waiting for a message.
#[derive(Debug, Clone)]
pub struct Waiter {
    pub conn: ConnId,
    pub tag: ReplyTag,
    pub deadline: Option<Instant>,
}

pub struct App {
    /// The hLineApp, or for a phone app the hPhoneApp (the same number space).
    pub handle: HLineApp,
    /// Registered with phoneInitializeEx: a phone app.
    pub phone: bool,
    /// The connection it is attached to; `None` while a resumable app is kept for a resume.
    pub conn: Option<ConnId>,
    pub name: String,
    pub mode: NotifyMode,
    pub completion_key: u32,
    /// Event mode: messages not fetched yet.
    pub queue: VecDeque<Numbered>,
    pub waiters: VecDeque<Waiter>,
    pub session: SessionId,
    /// Kept for `api.resume_grace_s` when its connection drops.
    pub resumable: bool,
    /// The seq of the last message produced for it (0: none yet).
    pub last_seq: u64,
    /// Resumable apps: messages written (pushed, or handed out by lineGetMessage) that the
    /// client may not have read; while detached, pushed-mode messages produced since.
    pub replay: VecDeque<Numbered>,
    /// Pushed modes, while detached: how many messages at the end of `replay` were never
    /// written to any connection.
    pub unsent: usize,
    /// While detached: when the grace period ends.
    pub kept_until: Option<Instant>,
    /// The token scope of the connection that registered it (None: everything); a resume
    /// must come with the same scope, and its device IDs stay numbered by it while detached.
    pub scope: Option<crate::tapi::Scope>,
}

/// A message with its seq.
#[derive(Debug, Clone, Copy)]
pub struct Numbered {
    pub seq: u64,
    pub message: LineMessage,
}

/// What lineInitializeEx / phoneInitializeEx register.
pub struct NewApp {
    pub phone: bool,
    pub name: String,
    pub mode: NotifyMode,
    pub completion_key: u32,
    pub resumable: bool,
}

impl App {
    pub fn new(handle: HLineApp, conn: ConnId, session: SessionId, new: NewApp) -> App {
        App {
            handle,
            phone: new.phone,
            conn: Some(conn),
            name: new.name,
            mode: new.mode,
            completion_key: new.completion_key,
            queue: VecDeque::new(),
            waiters: VecDeque::new(),
            session,
            resumable: new.resumable,
            last_seq: 0,
            replay: VecDeque::new(),
            unsent: 0,
            kept_until: None,
            scope: None,
        }
    }

    /// Attached to `conn`.
    pub fn on(&self, conn: ConnId) -> bool {
        self.conn == Some(conn)
    }
}

pub struct OpenLine {
    pub handle: HLine,
    pub app: HLineApp,
    pub device: DeviceId,
    /// Privileges asked for at lineOpen.
    pub privileges: LinePrivileges,
    pub media_modes: MediaModes,
    pub callback_instance: u32,
    /// lineSetStatusMessages masks.
    pub line_states: LineDevStates,
    pub address_states: AddressStates,
    /// Open order: the first owner gets unsolicited calls.
    pub order: u64,
}

impl OpenLine {
    pub fn may_own(&self) -> bool {
        self.privileges.contains(LinePrivileges::OWNER)
    }

    pub fn monitors(&self) -> bool {
        self.privileges.contains(LinePrivileges::MONITOR)
    }
}

pub struct CallHandle {
    pub handle: HCall,
    pub app: HLineApp,
    pub line: HLine,
    pub call: CallId,
    pub privilege: CallPrivilege,
    /// The first LINE_CALLSTATE on this handle carries the privilege in dwParam3.
    pub announced: bool,
    /// lineMonitorDigits modes (LINEDIGITMODE_DTMF | _DTMFEND; 0: none).
    pub digit_modes: u32,
    /// lineGatherDigits in progress.
    pub gather: Option<Box<super::digits::Gather>>,
}

/// One app's open of one phone device (phoneOpen).
pub struct OpenPhone {
    pub handle: HPhone,
    pub app: HLineApp,
    pub device: DeviceId,
    /// PHONEPRIVILEGE_OWNER or _MONITOR.
    pub owner: bool,
    pub callback_instance: u32,
    /// phoneSetStatusMessages mask (PHONESTATE_).
    pub phone_states: u32,
}

pub struct CallRecord {
    pub device: DeviceId,
    /// Counted in its line's number of calls (visible and not IDLE).
    pub counted: bool,
    /// The last state reported (None until the first).
    pub state: Option<CallState>,
    pub handles: Vec<HCall>,
    /// False for a lineMakeCall call until its LINE_REPLY(0): its events are held back.
    pub visible: bool,
    pub held: Vec<CallState>,
    /// Direction and outcome, for the call counters.
    pub tally: super::call_table::Tally,
    /// The handle whose lineGenerateDigits/lineGenerateTone is current.
    pub generating: Option<HCall>,
}

impl CallRecord {
    /// A call with no handles yet; `visible` is false for lineMakeCall calls until LINE_REPLY(0)
    /// (and such a call is outbound).
    pub fn new(device: DeviceId, visible: bool) -> CallRecord {
        CallRecord {
            device,
            counted: false,
            state: None,
            handles: Vec::new(),
            visible,
            held: Vec::new(),
            generating: None,
            tally: super::call_table::Tally {
                outbound: !visible,
                ..Default::default()
            },
        }
    }

    /// Visible and not IDLE: events about it still go out.
    pub fn is_live(&self) -> bool {
        self.visible && !self.state.is_some_and(CallState::is_idle)
    }
}

/// What a pending request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingKind {
    /// A request that created this (still invisible) handle: lineMakeCall, lineSetupTransfer.
    MakeCall(HCall),
    /// lineSetupConference: the conference call's and the consultation call's handles.
    MakeTwo(HCall, HCall),
    Call,
    /// A drop TAPISRV started itself (lineClose/lineShutdown of a sole owner): no reply.
    Internal,
}

pub struct Pending {
    pub app: HLineApp,
    pub line: HLine,
    pub kind: PendingKind,
}
