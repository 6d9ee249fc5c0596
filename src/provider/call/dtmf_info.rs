//! DTMF over SIP INFO (RFC 6086 carries the request; the bodies are the de-facto
//! `application/dtmf-relay` "Signal=5\r\nDuration=160" and `application/dtmf` "5").
//!
//! Received: every INFO in the dialog is answered 200 (RFC 6086 §4.2.2 lets a UA refuse
//! packages it does not support, but peers sending legacy DTMF INFO use none), and a digit in
//! either body becomes a digit start and end for TAPISRV. Sent: lineGenerateDigits on a call
//! whose peer did not offer telephone-event: one INFO `application/dtmf-relay` per digit, each
//! followed by a gap as long as its duration; ',' waits 1 s. The digits are paced by the
//! call's own deadline, so a newer request or a cancel simply replaces the queue.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::sip::message::{Method, Request};
use crate::sip::transaction::ServerTxKey;
use crate::tapi::consts::{LINEDIGITMODE_DTMF, LINEDIGITMODE_DTMFEND};
use crate::tapi::ProviderEvent;

use super::{Action, Call, CallEnv, Purpose};

/// lineGenerateDigits' default digit length.
const DEFAULT_DURATION_MS: u32 = 100;
/// What ',' waits (TAPI: "a pause").
const PAUSE: Duration = Duration::from_secs(1);

/// Digits waiting to go out as INFO requests.
#[derive(Debug, Clone)]
pub struct InfoDigits {
    queue: VecDeque<char>,
    duration_ms: u32,
    pub next_at: Instant,
}

impl InfoDigits {
    pub fn new(digits: &str, duration_ms: u32, now: Instant) -> Self {
        let duration_ms = if duration_ms == 0 {
            DEFAULT_DURATION_MS
        } else {
            duration_ms
        };
        InfoDigits {
            queue: digits.chars().map(|c| c.to_ascii_uppercase()).collect(),
            duration_ms,
            next_at: now,
        }
    }
}

/// The digit a DTMF INFO body carries: `Signal=` of dtmf-relay, or the whole body of
/// application/dtmf; a digit character or an RFC 4733 event code (10 = '*', 11 = '#', 12-15 =
/// A-D).
pub fn info_digit(content_type: &str, body: &[u8]) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let value = match kind.as_str() {
        "application/dtmf-relay" => text.lines().find_map(|line| {
            let (name, value) = line.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("signal")
                .then(|| value.trim())
        })?,
        "application/dtmf" => text.trim(),
        _ => return None,
    };
    match value {
        "10" => Some('*'),
        "11" => Some('#'),
        "12" => Some('A'),
        "13" => Some('B'),
        "14" => Some('C'),
        "15" => Some('D'),
        v => {
            let mut chars = v.chars();
            let c = chars.next()?.to_ascii_uppercase();
            let valid = matches!(c, '0'..='9' | '*' | '#' | 'A'..='D');
            (valid && chars.next().is_none()).then_some(c)
        }
    }
}

impl Call {
    /// An INFO in the dialog: 200, and its digit, if it carries one, to TAPISRV.
    pub(super) fn on_info(&mut self, env: &mut CallEnv<'_>, tx: ServerTxKey, request: &Request) {
        self.respond_in_dialog(env, tx, request, 200, None);
        let content_type = request.headers.content_type.as_deref().unwrap_or("");
        let Some(digit) = info_digit(content_type, &request.body) else {
            return;
        };
        let call = self.id;
        for mode in [LINEDIGITMODE_DTMF, LINEDIGITMODE_DTMFEND] {
            self.push(Action::Event(ProviderEvent::Digit { call, digit, mode }));
        }
    }

    /// When the next INFO digit is due.
    pub(super) fn info_deadline(&self) -> Option<Instant> {
        self.stream.info.as_ref().map(|i| i.next_at)
    }

    /// Sends the next digit (or waits out a pause); at the end, GenerateDone.
    pub(super) fn step_info(&mut self, env: &mut CallEnv<'_>) {
        let Some(info) = self.stream.info.as_mut() else {
            return;
        };
        let Some(c) = info.queue.pop_front() else {
            self.stream.info = None;
            let call = self.id;
            let cancelled = false;
            self.push(Action::Event(ProviderEvent::GenerateDone {
                call,
                cancelled,
            }));
            return;
        };
        if c == ',' {
            info.next_at = env.now + PAUSE;
            return;
        }
        let duration = info.duration_ms;
        info.next_at = env.now + Duration::from_millis(2 * u64::from(duration));
        let cseq = self.dialog.next_cseq();
        let (mut request, to) =
            env.ua
                .in_dialog_request(env.ids, &self.dialog, Method::Info, cseq, self.peer);
        request.headers.content_type = Some("application/dtmf-relay".into());
        request.body = format!("Signal={c}\r\nDuration={duration}\r\n").into_bytes();
        self.send(request, to, Purpose::Info);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_and_dtmf_bodies_give_their_digit() {
        let relay = "application/dtmf-relay";
        assert_eq!(
            info_digit(relay, b"Signal=5\r\nDuration=160\r\n"),
            Some('5')
        );
        assert_eq!(info_digit(relay, b"Signal= #\r\nDuration=100"), Some('#'));
        assert_eq!(info_digit(relay, b"signal=11\n"), Some('#'));
        assert_eq!(info_digit("application/dtmf", b"7"), Some('7'));
        assert_eq!(info_digit("Application/DTMF; x=y", b" 10 \r\n"), Some('*'));
        assert_eq!(info_digit(relay, b"Duration=100"), None);
        assert_eq!(info_digit(relay, b"Signal=55"), None);
        assert_eq!(info_digit(relay, b"Signal=E"), None);
        assert_eq!(info_digit("text/plain", b"5"), None);
        assert_eq!(info_digit(relay, &[0xff, 0xfe]), None);
    }
}
