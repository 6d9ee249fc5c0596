//! TAPISRV's records: applications, open lines, call handles, calls, pending requests.

use std::collections::VecDeque;
use std::time::Instant;

use serde_json::Value;

use crate::api::ConnId;
use crate::tapi::{CallId, DeviceId, HCall, HLine, HLineApp, LineMessage};

/// How an app receives its messages (lineInitializeEx `options`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyMode {
    /// 1: pushed as notifications.
    Callback,
    /// 2: queued for lineGetMessage.
    Event,
    /// 3: pushed with the completion key.
    CompletionPort,
}

/// A lineGetMessage waiting for a message.
#[derive(Debug, Clone)]
pub struct Waiter {
    pub conn: ConnId,
    pub id: Value,
    pub deadline: Option<Instant>,
}

pub struct App {
    pub handle: HLineApp,
    pub conn: ConnId,
    pub name: String,
    pub mode: NotifyMode,
    pub completion_key: u32,
    pub queue: VecDeque<LineMessage>,
    pub waiters: VecDeque<Waiter>,
}

pub struct OpenLine {
    pub handle: HLine,
    pub app: HLineApp,
    pub device: DeviceId,
    /// LINECALLPRIVILEGE_ bits asked for at lineOpen.
    pub privileges: u32,
    pub media_modes: u32,
    pub callback_instance: u32,
    /// lineSetStatusMessages masks.
    pub line_states: u32,
    pub address_states: u32,
    /// Open order: the first owner gets unsolicited calls.
    pub order: u64,
}

pub struct CallHandle {
    pub handle: HCall,
    pub app: HLineApp,
    pub line: HLine,
    pub call: CallId,
    /// LINECALLPRIVILEGE_OWNER or _MONITOR.
    pub privilege: u32,
    /// The first LINE_CALLSTATE on this handle carries the privilege in dwParam3.
    pub announced: bool,
}

pub struct CallRecord {
    pub device: DeviceId,
    pub state: u32,
    pub mode: u32,
    pub handles: Vec<HCall>,
    /// False for a lineMakeCall call until its LINE_REPLY(0): its events are held back.
    pub visible: bool,
    pub held: Vec<(u32, u32)>,
}

impl CallRecord {
    /// A call with no handles yet; `visible` is false for lineMakeCall calls until LINE_REPLY(0).
    pub fn new(device: DeviceId, visible: bool) -> CallRecord {
        CallRecord {
            device,
            state: 0,
            mode: 0,
            handles: Vec::new(),
            visible,
            held: Vec::new(),
        }
    }
}

/// What a pending request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingKind {
    MakeCall(HCall),
    Call,
    /// A drop TAPISRV started itself (lineClose/lineShutdown of a sole owner): no reply.
    Internal,
}

pub struct Pending {
    pub app: HLineApp,
    pub line: HLine,
    pub kind: PendingKind,
}
