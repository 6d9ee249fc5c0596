//! Digits, tones and media files on a call: lineMonitorDigits, lineGatherDigits,
//! lineGenerateDigits, lineGenerateTone, and our mediaPlay / mediaRecord / mediaStop.
//!
//! TAPI routes these messages to the app that asked, on the handle it asked with
//! (../shared/reference/tapi.md): LINE_MONITORDIGITS to every handle whose lineMonitorDigits
//! modes match, LINE_GATHERDIGITS to the handle that gathers, LINE_GENERATE to the handle whose
//! generate request is current. A newer lineGenerateDigits/lineGenerateTone on the call (from
//! any app), an empty digit string or tone mode 0 ends the current one with
//! LINEGENERATETERM_CANCEL; a newer lineGatherDigits on the same handle, or numDigits 0, ends
//! that handle's gather with LINEGATHERTERM_CANCEL. The gather timeouts are TAPISRV deadlines
//! (fired by every `handle_*`, like lineGetMessage's). The call's end cancels both.
//! Tick counts (dwParam2 of LINE_GATHERDIGITS and LINE_GENERATE, dwParam3 of
//! LINE_MONITORDIGITS) are 0: TAPISRV keeps no clock origin.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use crate::tapi::consts::*;
use crate::tapi::{
    Answer, CallId, ConnId, Digits, HCall, LineMessage, LineProvider, MediaControl,
    LINEERR_INVALDIGITLIST, LINEERR_INVALDIGITMODE, LINEERR_INVALPARAM, LINEERR_INVALTONEMODE,
    MAX_GATHER_DIGITS,
};

use super::{FnResult, Tapisrv};

/// A lineGatherDigits in progress on one handle.
#[derive(Debug, Clone)]
pub struct Gather {
    /// Tells this gather's deadline entries from older ones of the same handle.
    id: u64,
    num_digits: usize,
    term_digits: String,
    inter_timeout: Option<Duration>,
    digits: Digits,
    deadline: Option<Instant>,
}

/// What lineGatherDigits asks for.
pub struct GatherRequest {
    pub digit_modes: u32,
    pub num_digits: u32,
    pub term_digits: String,
    pub first_timeout: u32,
    pub inter_timeout: u32,
}

/// The digits RFC 4733 and DTMF know (TAPI's set for digit lists).
fn is_dtmf(c: char) -> bool {
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D')
}

fn ms(v: u32) -> Option<Duration> {
    (v > 0).then(|| Duration::from_millis(u64::from(v)))
}

impl Tapisrv {
    pub(super) fn line_monitor_digits(
        &mut self,
        conn: ConnId,
        handle: HCall,
        digit_modes: u32,
    ) -> FnResult {
        let handle = self.call_of(conn, handle)?;
        if digit_modes & !(LINEDIGITMODE_DTMF | LINEDIGITMODE_DTMFEND) != 0 {
            return Err(LINEERR_INVALDIGITMODE);
        }
        if let Some(h) = self.handles.get_mut(&handle) {
            h.digit_modes = digit_modes;
        }
        Ok(Answer::Empty)
    }

    pub(super) fn line_gather_digits(
        &mut self,
        now: Instant,
        conn: ConnId,
        handle: HCall,
        req: GatherRequest,
    ) -> FnResult {
        let handle = self.call_of(conn, handle)?;
        if req.num_digits > 0 {
            if req.digit_modes != LINEDIGITMODE_DTMF {
                return Err(LINEERR_INVALDIGITMODE);
            }
            if req.num_digits as usize > MAX_GATHER_DIGITS {
                return Err(LINEERR_INVALPARAM);
            }
            if !req.term_digits.chars().all(is_dtmf) {
                return Err(LINEERR_INVALDIGITLIST);
            }
        }
        self.finish_gather(handle, LINEGATHERTERM_CANCEL);
        if req.num_digits == 0 {
            return Ok(Answer::Empty);
        }
        self.next_gather += 1;
        let gather = Gather {
            id: self.next_gather,
            num_digits: req.num_digits as usize,
            term_digits: req.term_digits,
            inter_timeout: ms(req.inter_timeout),
            digits: Digits::default(),
            deadline: ms(req.first_timeout).map(|d| now + d),
        };
        self.arm_gather(handle, &gather);
        if let Some(h) = self.handles.get_mut(&handle) {
            h.gather = Some(Box::new(gather));
        }
        Ok(Answer::Empty)
    }

    fn arm_gather(&mut self, handle: HCall, gather: &Gather) {
        if let Some(at) = gather.deadline {
            self.gather_deadlines.push(Reverse((at, handle, gather.id)));
        }
    }

    /// lineGenerateDigits: DTMF only; empty digits cancel what is being generated.
    pub(super) fn line_generate_digits(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        handle: HCall,
        (digit_mode, digits, duration): (u32, String, u32),
    ) -> FnResult {
        let (_, _, call) = self.owned(conn, handle)?;
        if digit_mode != LINEDIGITMODE_DTMF {
            return Err(LINEERR_INVALDIGITMODE);
        }
        if digits.is_empty() {
            return self.cancel_generate(now, provider, call);
        }
        let control = MediaControl::GenerateDigits {
            digits,
            duration_ms: duration,
        };
        self.start_generate(now, provider, handle, call, control)
    }

    /// lineGenerateTone: RINGBACK, BUSY or BEEP; mode 0 cancels.
    pub(super) fn line_generate_tone(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        handle: HCall,
        tone_mode: u32,
        duration: u32,
    ) -> FnResult {
        let (_, _, call) = self.owned(conn, handle)?;
        match tone_mode {
            0 => self.cancel_generate(now, provider, call),
            LINETONEMODE_RINGBACK | LINETONEMODE_BUSY | LINETONEMODE_BEEP => {
                let control = MediaControl::GenerateTone {
                    tone_mode,
                    duration_ms: duration,
                };
                self.start_generate(now, provider, handle, call, control)
            }
            _ => Err(LINEERR_INVALTONEMODE),
        }
    }

    fn start_generate(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        handle: HCall,
        call: CallId,
        control: MediaControl,
    ) -> FnResult {
        provider.media_control(now, call, control)?;
        let old = self
            .calls
            .get_mut(&call)
            .and_then(|rec| rec.generating.replace(handle));
        if let Some(old) = old {
            self.send_generate(old, LINEGENERATETERM_CANCEL);
        }
        Ok(Answer::Empty)
    }

    fn cancel_generate(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        call: CallId,
    ) -> FnResult {
        let old = self.calls.get_mut(&call).and_then(|r| r.generating.take());
        if let Some(old) = old {
            // Nothing may be left to cancel (it just ended): not an error.
            let _ = provider.media_control(now, call, MediaControl::CancelGenerate);
            self.send_generate(old, LINEGENERATETERM_CANCEL);
        }
        Ok(Answer::Empty)
    }

    pub(super) fn media_stop(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        handle: HCall,
    ) -> FnResult {
        let (_, _, call) = self.owned(conn, handle)?;
        provider.media_control(now, call, MediaControl::StopMedia)?;
        Ok(Answer::Empty)
    }

    // ---- provider events ----

    /// A digit the peer sent: LINE_MONITORDIGITS to the handles monitoring `mode`; digits
    /// starting (DTMF mode) go to the gathers.
    pub(super) fn on_digit(&mut self, call: CallId, digit: char, mode: u32) {
        let Some(rec) = self.calls.get(&call).filter(|r| r.is_live()) else {
            return;
        };
        if !is_dtmf(digit) {
            return;
        }
        for handle in rec.handles.clone() {
            let Some(h) = self.handles.get(&handle) else {
                continue;
            };
            if h.digit_modes & mode != 0 {
                let (app, instance) = (h.app, self.callback_instance(h.line));
                self.deliver(
                    app,
                    LineMessage {
                        h_device: handle.0,
                        dw_message_id: LINE_MONITORDIGITS,
                        dw_callback_instance: instance,
                        dw_param1: digit as u32,
                        dw_param2: mode,
                        dw_param3: 0,
                        digits: Digits::default(),
                    },
                );
            }
            if mode == LINEDIGITMODE_DTMF {
                self.gather_digit(handle, digit);
            }
        }
    }

    fn gather_digit(&mut self, handle: HCall, digit: char) {
        let Some(g) = self
            .handles
            .get_mut(&handle)
            .and_then(|h| h.gather.as_mut())
        else {
            return;
        };
        g.digits.push(digit);
        let end = if g.term_digits.contains(digit) {
            Some(LINEGATHERTERM_TERMDIGIT)
        } else if g.digits.len() >= g.num_digits {
            Some(LINEGATHERTERM_BUFFERFULL)
        } else {
            None
        };
        if let Some(term) = end {
            return self.finish_gather(handle, term);
        }
        // After the first digit only the inter-digit timeout applies.
        g.deadline = None;
        if let Some(inter) = g.inter_timeout {
            // From the digit's arrival: the `now` of the input being handled.
            g.deadline = self.digit_time.map(|t| t + inter);
        }
        let gather = g.clone();
        self.arm_gather(handle, &gather);
    }

    /// The current generate request of the call ended.
    pub(super) fn on_generate_done(&mut self, call: CallId, cancelled: bool) {
        let Some(handle) = self.calls.get_mut(&call).and_then(|r| r.generating.take()) else {
            return;
        };
        let term = if cancelled {
            LINEGENERATETERM_CANCEL
        } else {
            LINEGENERATETERM_DONE
        };
        self.send_generate(handle, term);
    }

    /// The call disconnected or went idle: gathers and generates end with CANCEL.
    pub(super) fn media_call_ended(&mut self, call: CallId) {
        let Some(rec) = self.calls.get_mut(&call) else {
            return;
        };
        let generating = rec.generating.take();
        let handles = rec.handles.clone();
        if let Some(h) = generating {
            self.send_generate(h, LINEGENERATETERM_CANCEL);
        }
        for h in handles {
            self.finish_gather(h, LINEGATHERTERM_CANCEL);
        }
    }

    fn send_generate(&mut self, handle: HCall, term: u32) {
        let Some(h) = self.handles.get(&handle) else {
            return;
        };
        let (app, instance) = (h.app, self.callback_instance(h.line));
        self.deliver(
            app,
            LineMessage {
                h_device: handle.0,
                dw_message_id: LINE_GENERATE,
                dw_callback_instance: instance,
                dw_param1: term,
                dw_param2: 0,
                dw_param3: 0,
                digits: Digits::default(),
            },
        );
    }

    /// Ends the handle's gather, if any, with LINE_GATHERDIGITS(term) and what it gathered.
    fn finish_gather(&mut self, handle: HCall, term: u32) {
        let Some(h) = self.handles.get_mut(&handle) else {
            return;
        };
        let Some(gather) = h.gather.take() else {
            return;
        };
        let (app, line) = (h.app, h.line);
        let instance = self.callback_instance(line);
        self.deliver(
            app,
            LineMessage {
                h_device: handle.0,
                dw_message_id: LINE_GATHERDIGITS,
                dw_callback_instance: instance,
                dw_param1: term,
                dw_param2: 0,
                dw_param3: 0,
                digits: gather.digits,
            },
        );
    }

    /// Gathers whose timeout is due at `now`: FIRSTTIMEOUT before any digit, INTERTIMEOUT
    /// after one.
    pub(super) fn expire_gathers(&mut self, now: Instant) {
        self.digit_time = Some(now);
        while let Some(&Reverse((at, handle, id))) = self.gather_deadlines.peek() {
            if at > now {
                break;
            }
            self.gather_deadlines.pop();
            let due = self
                .handles
                .get(&handle)
                .and_then(|h| h.gather.as_ref())
                .filter(|g| g.id == id && g.deadline == Some(at))
                .map(|g| g.digits.is_empty());
            match due {
                Some(true) => self.finish_gather(handle, LINEGATHERTERM_FIRSTTIMEOUT),
                Some(false) => self.finish_gather(handle, LINEGATHERTERM_INTERTIMEOUT),
                None => {}
            }
        }
    }

    /// The next gather deadline (stale entries included: they fire as no-ops).
    pub(super) fn next_gather_deadline(&self) -> Option<Instant> {
        self.gather_deadlines.peek().map(|Reverse((at, _, _))| *at)
    }
}
