//! One initialised application (an hLineApp or hPhoneApp): its own connection to the gateway,
//! the requests in flight, the ordering gate, its message queue and the way messages reach the
//! application (a callback thread, or an eventfd plus lineGetMessage). One connection per app,
//! because the gateway's notifications do not name the app they are for.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::Settings;
use crate::consts::*;
use crate::errors::{Fail, Family};
use crate::eventfd::EventFd;
use crate::gate::Gate;
use crate::message::{message_from, Msg};
use crate::registry;
use crate::sync::{lock, wait, wait_for};
use crate::wire::{parse, request_line, Incoming};

/// The notification the gateway sends when another connection resumed this app.
const TAKEN_OVER: &str = "sessionTakenOver";

/// A LINECALLBACK / PHONECALLBACK.
pub type Callback = unsafe extern "C" fn(u32, u32, usize, usize, usize, usize);

/// How messages reach the application.
#[derive(Clone, Copy)]
pub enum Mode {
    Callback(Callback),
    Event,
}

struct Queued {
    msg: Msg,
    /// Gate stamp: the responses that had arrived when the message did.
    need: u64,
}

enum Slot {
    Waiting,
    Done {
        result: Result<Value, Fail>,
        number: u64,
    },
    Lost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Up,
    Reconnecting,
    Dead,
}

struct State {
    next_id: u64,
    slots: HashMap<u64, Slot>,
    gate: Gate,
    queue: VecDeque<Queued>,
    link: Link,
    /// The connection requests go to (the writer's generation).
    generation: u64,
    closed: bool,
    session: Option<String>,
    last_seq: u64,
    event: Option<EventFd>,
    /// lineOpen/phoneOpen tokens sent as callbackInstance -> the app's DWORD_PTR.
    instances: HashMap<u32, usize>,
    next_token: u32,
    /// Open lines (or phones) -> their token, for the LINE_CLOSE of a lost session.
    devices: HashMap<u32, u32>,
}

struct Writer {
    generation: u64,
    stream: Option<TcpStream>,
}

pub struct App {
    pub family: Family,
    pub handle: u32,
    pub api_version: u32,
    pub settings: Settings,
    pub mode: Mode,
    state: Mutex<State>,
    cond: Condvar,
    writer: Mutex<Writer>,
    delivery: Mutex<Option<JoinHandle<()>>>,
}

/// A successful answer; while it lives, later messages wait (the ordering gate).
pub struct Reply {
    pub value: Value,
    _ticket: Ticket,
}

struct Ticket {
    app: Arc<App>,
    number: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.app.returned(self.number);
    }
}

/// What [`App::new`] needs besides the settings.
pub struct AppInit {
    pub family: Family,
    pub handle: u32,
    pub api_version: u32,
    pub mode: Mode,
    pub event: Option<EventFd>,
    pub writer: TcpStream,
    pub next_id: u64,
    pub session: Option<String>,
}

impl App {
    pub fn new(init: AppInit, settings: Settings) -> App {
        App {
            family: init.family,
            handle: init.handle,
            api_version: init.api_version,
            settings,
            mode: init.mode,
            state: Mutex::new(State {
                next_id: init.next_id,
                slots: HashMap::new(),
                gate: Gate::default(),
                queue: VecDeque::new(),
                link: Link::Up,
                generation: 1,
                closed: false,
                session: init.session,
                last_seq: 0,
                event: init.event,
                instances: HashMap::new(),
                next_token: 1,
                devices: HashMap::new(),
            }),
            cond: Condvar::new(),
            writer: Mutex::new(Writer {
                generation: 1,
                stream: Some(init.writer),
            }),
            delivery: Mutex::new(None),
        }
    }

    // ---- requests ---------------------------------------------------------------------------

    /// Sends a request and waits for its answer (bounded by the call time-out).
    pub fn call(self: &Arc<Self>, method: &str, params: Value) -> Result<Reply, Fail> {
        let deadline = Instant::now() + self.settings.call_timeout;
        let (id, generation) = self.add_slot(deadline)?;
        let line = request_line(id, method, &params);
        self.trace(">>", &line);
        if !self.send(generation, &line) {
            lock(&self.state).slots.remove(&id);
            return Err(Fail::Lost);
        }
        self.await_slot(id, deadline)
    }

    fn add_slot(&self, deadline: Instant) -> Result<(u64, u64), Fail> {
        let mut st = lock(&self.state);
        loop {
            if st.closed {
                return Err(Fail::Closed);
            }
            match st.link {
                Link::Up => break,
                Link::Dead => return Err(Fail::Lost),
                Link::Reconnecting => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(Fail::Lost);
                    }
                    st = wait_for(&self.cond, st, deadline - now);
                }
            }
        }
        let id = st.next_id;
        st.next_id += 1;
        st.slots.insert(id, Slot::Waiting);
        Ok((id, st.generation))
    }

    fn send(&self, generation: u64, line: &str) -> bool {
        let mut w = lock(&self.writer);
        if w.generation != generation {
            return false;
        }
        match w.stream.as_mut() {
            Some(s) => s.write_all(format!("{line}\n").as_bytes()).is_ok(),
            None => false,
        }
    }

    fn await_slot(self: &Arc<Self>, id: u64, deadline: Instant) -> Result<Reply, Fail> {
        let mut st = lock(&self.state);
        loop {
            match st.slots.get(&id) {
                Some(Slot::Waiting) => {}
                Some(Slot::Lost) | None => {
                    st.slots.remove(&id);
                    return Err(if st.closed { Fail::Closed } else { Fail::Lost });
                }
                Some(Slot::Done { .. }) => {
                    let Some(Slot::Done { result, number }) = st.slots.remove(&id) else {
                        return Err(Fail::Lost);
                    };
                    return self.finish_slot(st, result, number);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                st.slots.remove(&id);
                return Err(Fail::Timeout);
            }
            st = wait_for(&self.cond, st, deadline - now);
        }
    }

    fn finish_slot(
        self: &Arc<Self>,
        mut st: std::sync::MutexGuard<'_, State>,
        result: Result<Value, Fail>,
        number: u64,
    ) -> Result<Reply, Fail> {
        match result {
            Ok(value) => Ok(Reply {
                value,
                _ticket: Ticket {
                    app: Arc::clone(self),
                    number,
                },
            }),
            Err(fail) => {
                // An error causes no message: nothing needs to wait for this return.
                st.gate.returned(number);
                self.changed(&st);
                Err(fail)
            }
        }
    }

    fn returned(&self, number: u64) {
        let mut st = lock(&self.state);
        st.gate.returned(number);
        self.changed(&st);
    }

    /// After any change to the queue or the gate: wake waiters, update the event.
    fn changed(&self, st: &State) {
        if let Some(e) = &st.event {
            e.set(front_ready(st));
        }
        self.cond.notify_all();
    }

    // ---- what the reader thread hands in ----------------------------------------------------

    /// One line from the gateway.
    pub fn handle_line(&self, text: &str) {
        self.trace("<<", text);
        match parse(text) {
            Incoming::Response { id, result } => self.on_response(id, result),
            Incoming::Notification { method, .. } if method == TAKEN_OVER => self.taken_over(),
            Incoming::Notification { params, .. } => self.on_notification(&params),
            Incoming::Other => {}
        }
    }

    fn on_response(&self, id: u64, result: Result<Value, Fail>) {
        if let Ok(value) = &result {
            registry::learn_from_result(self.family, self.handle, value);
        }
        let mut st = lock(&self.state);
        if matches!(st.slots.get(&id), Some(Slot::Waiting)) {
            let number = st.gate.response();
            st.slots.insert(id, Slot::Done { result, number });
            self.cond.notify_all();
        }
    }

    /// Another connection resumed this app's session: the gateway closes this one next. The
    /// session is not ours any more, so it is not resumed (two processes would take it from
    /// each other for ever): the app's lines get LINE_CLOSE when the connection ends.
    fn taken_over(&self) {
        lock(&self.state).session = None;
        self.trace("!!", "session taken over by another connection");
    }

    fn on_notification(&self, params: &Value) {
        let mut msg = message_from(params);
        registry::learn_from_message(self.family, self.handle, &msg);
        if msg.id == LINE_GATHERDIGITS && self.family == Family::Line {
            copy_gathered(msg.h_device, params);
        }
        let mut st = lock(&self.state);
        if let Some(seq) = params.get("seq").and_then(Value::as_u64) {
            if seq <= st.last_seq {
                return; // a duplicate replayed after a resume
            }
            st.last_seq = seq;
        }
        if let Some(real) = st.instances.get(&(msg.instance as u32)) {
            msg.instance = *real;
        }
        if is_close(self.family, msg.id) {
            st.devices.remove(&msg.h_device);
        }
        push(&mut st, msg);
        self.changed(&st);
    }

    // ---- delivery -----------------------------------------------------------------------------

    /// The callback thread's loop: one message at a time, in order, gate permitting.
    pub fn deliver_callbacks(self: Arc<Self>, cb: Callback) {
        while let Ok(m) = self.next_ready(None) {
            // SAFETY: the application's LINECALLBACK, called as TAPI calls it.
            unsafe { cb(m.h_device, m.id, m.instance, m.p1, m.p2, m.p3) };
        }
    }

    /// The next deliverable message; `None` waits forever. Fails with Closed or Timeout.
    pub fn next_ready(&self, timeout: Option<Duration>) -> Result<Msg, Fail> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut st = lock(&self.state);
        loop {
            if st.closed {
                return Err(Fail::Closed);
            }
            if front_ready(&st) {
                let msg = st.queue.pop_front().map(|q| q.msg).unwrap_or_default();
                self.changed(&st);
                return Ok(msg);
            }
            st = match deadline {
                None => wait(&self.cond, st),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(Fail::Timeout);
                    }
                    wait_for(&self.cond, st, d - now)
                }
            };
        }
    }

    pub fn set_delivery_thread(&self, handle: JoinHandle<()>) {
        *lock(&self.delivery) = Some(handle);
    }

    // ---- per-app bookkeeping ------------------------------------------------------------------

    /// A token to send as lineOpen's callbackInstance for the app's DWORD_PTR `instance`.
    pub fn instance_token(&self, instance: usize) -> u32 {
        let mut st = lock(&self.state);
        let token = st.next_token;
        st.next_token = st.next_token.wrapping_add(1).max(1);
        st.instances.insert(token, instance);
        token
    }

    pub fn device_opened(&self, handle: u32, token: u32) {
        lock(&self.state).devices.insert(handle, token);
    }

    pub fn device_closed(&self, handle: u32) {
        let mut st = lock(&self.state);
        if let Some(token) = st.devices.remove(&handle) {
            st.instances.remove(&token);
        }
    }

    pub fn forget_token(&self, token: u32) {
        lock(&self.state).instances.remove(&token);
    }

    pub fn event_fd(&self) -> Option<i32> {
        lock(&self.state).event.as_ref().map(EventFd::fd)
    }

    // ---- connection life ----------------------------------------------------------------------

    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// The session to resume and the last seq queued, if resuming is possible.
    pub fn resume_point(&self) -> Option<(String, u64)> {
        let st = lock(&self.state);
        match (&st.session, self.settings.resume) {
            (Some(s), true) => Some((s.clone(), st.last_seq)),
            _ => None,
        }
    }

    /// Waits up to `d` or until lineShutdown; true when shut down.
    pub fn sleep_unless_closed(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        let mut st = lock(&self.state);
        while !st.closed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = wait_for(&self.cond, st, deadline - now);
        }
        true
    }

    /// The connection dropped: pending requests fail, new ones wait for a resume.
    pub fn connection_lost(&self) {
        {
            let mut st = lock(&self.state);
            if st.link == Link::Up {
                st.link = Link::Reconnecting;
            }
            fail_waiting(&mut st);
            self.cond.notify_all();
        }
        lock(&self.writer).stream = None;
    }

    /// A resumed connection: requests go to `writer` from now on.
    pub fn install(&self, writer: TcpStream) {
        let generation = {
            let mut w = lock(&self.writer);
            w.generation += 1;
            w.stream = Some(writer);
            w.generation
        };
        let mut st = lock(&self.state);
        st.generation = generation;
        if st.link == Link::Reconnecting {
            st.link = Link::Up;
        }
        self.cond.notify_all();
    }

    /// The session is gone for good: every open line (phone) gets LINE_CLOSE (PHONE_CLOSE).
    pub fn die(&self) {
        let mut st = lock(&self.state);
        st.link = Link::Dead;
        fail_waiting(&mut st);
        if !st.closed {
            let id = if self.family == Family::Line {
                LINE_CLOSE
            } else {
                PHONE_CLOSE
            };
            let mut devices: Vec<(u32, u32)> = st.devices.drain().collect();
            devices.sort_unstable();
            for (h_device, token) in devices {
                let instance = st.instances.get(&token).copied().unwrap_or(0);
                push(
                    &mut st,
                    Msg {
                        h_device,
                        id,
                        instance,
                        ..Msg::default()
                    },
                );
            }
        }
        self.changed(&st);
        drop(st);
        lock(&self.writer).stream = None;
    }

    /// The local part of lineShutdown: no message is delivered after it returns.
    pub fn close(&self) {
        {
            let mut st = lock(&self.state);
            st.closed = true;
            st.queue.clear();
            fail_waiting(&mut st);
            st.event = None;
            self.cond.notify_all();
        }
        if let Some(s) = lock(&self.writer).stream.take() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let delivery = lock(&self.delivery).take();
        if let Some(t) = delivery {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }

    fn trace(&self, dir: &str, line: &str) {
        if self.settings.debug {
            eprintln!("libtapi {:#x} {dir} {line}", self.handle);
        }
    }
}

fn front_ready(st: &State) -> bool {
    st.queue.front().is_some_and(|q| st.gate.open(q.need))
}

fn push(st: &mut State, msg: Msg) {
    let need = st.gate.stamp();
    st.queue.push_back(Queued { msg, need });
}

fn fail_waiting(st: &mut State) {
    for slot in st.slots.values_mut() {
        if matches!(slot, Slot::Waiting) {
            *slot = Slot::Lost;
        }
    }
}

fn is_close(family: Family, id: u32) -> bool {
    match family {
        Family::Line => id == LINE_CLOSE,
        Family::Phone => id == PHONE_CLOSE,
    }
}

/// Copies LINE_GATHERDIGITS' `digits` into the app's buffer (NUL-terminated if room is left).
fn copy_gathered(h_call: u32, params: &Value) {
    let Some(buf) = registry::take_gather(h_call) else {
        return;
    };
    let digits = params
        .get("digits")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let n = digits.len().min(buf.len);
    // SAFETY: TAPI makes the app keep lpsDigits (dwNumDigits bytes) valid until this message.
    unsafe {
        let dst = buf.addr as *mut u8;
        std::ptr::copy_nonoverlapping(digits.as_ptr(), dst, n);
        if n < buf.len {
            *dst.add(n) = 0;
        }
    }
}
