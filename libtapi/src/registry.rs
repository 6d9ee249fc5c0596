//! The process-wide table of initialised apps and of which app each gateway handle belongs to,
//! so that a function given only an hLine, hCall or hPhone goes out on the right app's
//! connection. Handles are learned from results (lineOpen, lineMakeCall, lineGetNewCalls, ...)
//! and from messages (LINE_APPNEWCALL, LINE_CALLSTATE, ...) before the application sees them.
//! It also keeps when each call last changed state (LINECALLSTATUS.tStateEntryTime).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::SystemTime;

use serde_json::Value;

use crate::app::App;
use crate::consts::*;
use crate::errors::Family;
use crate::message::Msg;
use crate::sync::lock;

#[derive(Default)]
struct Registry {
    apps: Vec<Arc<App>>,
    /// (family, hLine or hPhone) -> owning app handle.
    devices: HashMap<(Family, u32), u32>,
    calls: HashMap<u32, CallEntry>,
    /// lineGatherDigits buffers by hCall, oldest first, each until its LINE_GATHERDIGITS: a
    /// newer gather's buffer waits behind the one its request cancels.
    gathers: HashMap<u32, VecDeque<GatherBuf>>,
}

/// A lineGatherDigits buffer (address and dwNumDigits) that stays the app's until
/// LINE_GATHERDIGITS.
#[derive(Debug, Clone, Copy)]
pub struct GatherBuf {
    pub addr: usize,
    pub len: usize,
}

struct CallEntry {
    app: u32,
    state_time: Option<SystemTime>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

pub fn add(app: Arc<App>) {
    lock(&REGISTRY).apps.push(app);
}

/// Forgets an app and every handle learned for it.
pub fn remove(family: Family, handle: u32) {
    let mut r = lock(&REGISTRY);
    r.apps
        .retain(|a| !(a.family == family && a.handle == handle));
    r.devices
        .retain(|(f, _), owner| !(*f == family && *owner == handle));
    if family == Family::Line {
        r.calls.retain(|_, c| c.app != handle);
    }
}

pub fn app(family: Family, handle: u32) -> Option<Arc<App>> {
    lock(&REGISTRY)
        .apps
        .iter()
        .find(|a| a.family == family && a.handle == handle)
        .cloned()
}

/// The apps to try for a device handle: its known owner, or else every app of the family.
pub fn for_device(family: Family, handle: u32) -> Vec<Arc<App>> {
    let r = lock(&REGISTRY);
    let owner = r.devices.get(&(family, handle)).copied();
    candidates(&r, family, owner)
}

/// The line apps to try for a call handle.
pub fn for_call(h_call: u32) -> Vec<Arc<App>> {
    let r = lock(&REGISTRY);
    let owner = r.calls.get(&h_call).map(|c| c.app);
    candidates(&r, Family::Line, owner)
}

fn candidates(r: &Registry, family: Family, owner: Option<u32>) -> Vec<Arc<App>> {
    let of_family = r.apps.iter().filter(|a| a.family == family);
    match owner.and_then(|o| of_family.clone().find(|a| a.handle == o)) {
        Some(a) => vec![Arc::clone(a)],
        None => of_family.cloned().collect(),
    }
}

pub fn forget_call(h_call: u32) {
    let mut r = lock(&REGISTRY);
    r.calls.remove(&h_call);
    r.gathers.remove(&h_call);
}

pub fn forget_device(family: Family, handle: u32) {
    lock(&REGISTRY).devices.remove(&(family, handle));
}

/// When the call last changed state, as seen by this process.
pub fn state_time(h_call: u32) -> Option<SystemTime> {
    lock(&REGISTRY)
        .calls
        .get(&h_call)
        .and_then(|c| c.state_time)
}

/// Handles in a function's result: hLine, hPhone, hCall, hConsultCall, hConfCall, hAddCall,
/// hCalls.
pub fn learn_from_result(family: Family, app: u32, result: &Value) {
    let mut r = lock(&REGISTRY);
    let handle = |k: &str| result.get(k).and_then(Value::as_u64).map(|v| v as u32);
    if let Some(h) = handle("hLine") {
        r.devices.insert((Family::Line, h), app);
    }
    if let Some(h) = handle("hPhone") {
        r.devices.insert((Family::Phone, h), app);
    }
    if family != Family::Line {
        return;
    }
    for key in ["hCall", "hConsultCall", "hConfCall", "hAddCall"] {
        if let Some(h) = handle(key) {
            learn_call(&mut r, h, app, false);
        }
    }
    if let Some(list) = result.get("hCalls").and_then(Value::as_array) {
        for h in list.iter().filter_map(Value::as_u64) {
            learn_call(&mut r, h as u32, app, false);
        }
    }
}

/// Call handles a message introduces.
pub fn learn_from_message(family: Family, app: u32, msg: &Msg) {
    if family != Family::Line {
        return;
    }
    let mut r = lock(&REGISTRY);
    match msg.id {
        LINE_APPNEWCALL => learn_call(&mut r, msg.p2 as u32, app, false),
        LINE_CALLSTATE => {
            learn_call(&mut r, msg.h_device, app, true);
            if msg.p1 as u32 == LINECALLSTATE_CONFERENCED && msg.p2 != 0 {
                learn_call(&mut r, msg.p2 as u32, app, false);
            }
        }
        LINE_CALLINFO | LINE_GATHERDIGITS | LINE_GENERATE | LINE_MONITORDIGITS
        | LINE_MONITORMEDIA | LINE_MONITORTONE => learn_call(&mut r, msg.h_device, app, false),
        _ => {}
    }
}

fn learn_call(r: &mut Registry, h_call: u32, app: u32, state_changed: bool) {
    if h_call == 0 {
        return;
    }
    let entry = r.calls.entry(h_call).or_insert(CallEntry {
        app,
        state_time: None,
    });
    entry.app = app;
    if state_changed {
        entry.state_time = Some(SystemTime::now());
    }
}

/// A gather started on `h_call`: its buffer waits for its LINE_GATHERDIGITS.
pub fn push_gather(h_call: u32, buf: GatherBuf) {
    lock(&REGISTRY)
        .gathers
        .entry(h_call)
        .or_default()
        .push_back(buf);
}

/// The gather just pushed did not start (its request failed).
pub fn unpush_gather(h_call: u32) {
    let mut r = lock(&REGISTRY);
    if let Some(q) = r.gathers.get_mut(&h_call) {
        q.pop_back();
        if q.is_empty() {
            r.gathers.remove(&h_call);
        }
    }
}

/// The buffer of the oldest gather on `h_call`, which a LINE_GATHERDIGITS ends.
pub fn take_gather(h_call: u32) -> Option<GatherBuf> {
    let mut r = lock(&REGISTRY);
    let q = r.gathers.get_mut(&h_call)?;
    let buf = q.pop_front();
    if q.is_empty() {
        r.gathers.remove(&h_call);
    }
    buf
}
