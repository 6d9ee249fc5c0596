//! SIP messages counted by direction, method and status (metrics): incoming ones from the
//! parsed message, outgoing ones from the encoded bytes (the start line and CSeq, read without
//! a parse). Labels come from a closed set, so a peer sending invented methods or status codes
//! cannot grow the table: unknown methods count as `OTHER`, statuses outside 100..=699 as 0.

use std::collections::BTreeMap;

use super::message::{Method, SipMessage};

/// (direction `in`/`out`, method, status; 0 for requests).
pub type MessageKey = (&'static str, &'static str, u16);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageCounters {
    pub counts: BTreeMap<MessageKey, u64>,
}

impl MessageCounters {
    /// A message from the network.
    pub fn incoming(&mut self, message: &SipMessage) {
        let key = match message {
            SipMessage::Request(r) => ("in", method_label(r.method.as_str()), 0),
            SipMessage::Response(r) => (
                "in",
                method_label(r.headers.cseq.method.as_str()),
                status_label(r.status),
            ),
        };
        *self.counts.entry(key).or_default() += 1;
    }

    /// Bytes we send (keep-alive CRLFs are not messages and are not counted).
    pub fn outgoing(&mut self, payload: &[u8]) {
        if let Some(key) = classify(payload) {
            *self.counts.entry(key).or_default() += 1;
        }
    }
}

fn classify(payload: &[u8]) -> Option<MessageKey> {
    let text = std::str::from_utf8(payload.get(..payload.len().min(2048))?).ok()?;
    let first = text.lines().next()?;
    if let Some(rest) = first.strip_prefix("SIP/2.0 ") {
        let status = rest.split(' ').next()?.parse().unwrap_or(0);
        return Some((
            "out",
            method_label(cseq_method(text)?),
            status_label(status),
        ));
    }
    let method = first.split(' ').next().filter(|m| !m.is_empty())?;
    Some(("out", method_label(method), 0))
}

/// The method of the CSeq header in a message's head.
fn cseq_method(text: &str) -> Option<&str> {
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim().eq_ignore_ascii_case("cseq").then_some(value)
        })
        .and_then(|value| value.split_whitespace().nth(1))
}

fn method_label(method: &str) -> &'static str {
    match Method::from_token(method) {
        Method::Extension(_) => "OTHER",
        known => known_label(&known),
    }
}

fn known_label(method: &Method) -> &'static str {
    match method {
        Method::Invite => "INVITE",
        Method::Ack => "ACK",
        Method::Bye => "BYE",
        Method::Cancel => "CANCEL",
        Method::Options => "OPTIONS",
        Method::Register => "REGISTER",
        Method::Info => "INFO",
        Method::Update => "UPDATE",
        Method::Prack => "PRACK",
        Method::Subscribe => "SUBSCRIBE",
        Method::Notify => "NOTIFY",
        Method::Refer => "REFER",
        Method::Message => "MESSAGE",
        Method::Publish => "PUBLISH",
        Method::Extension(_) => "OTHER",
    }
}

fn status_label(status: u16) -> u16 {
    if (100..=699).contains(&status) {
        status
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outgoing_bytes_are_classified_by_start_line_and_cseq() {
        let mut c = MessageCounters::default();
        c.outgoing(b"INVITE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n");
        c.outgoing(b"SIP/2.0 180 Ringing\r\nVia: x\r\ncseq: 7 INVITE\r\n\r\n");
        c.outgoing(b"FOO sip:a@b SIP/2.0\r\nCSeq: 1 FOO\r\n\r\n");
        c.outgoing(b"\r\n\r\n");
        assert_eq!(c.counts.get(&("out", "INVITE", 0)), Some(&1));
        assert_eq!(c.counts.get(&("out", "INVITE", 180)), Some(&1));
        assert_eq!(c.counts.get(&("out", "OTHER", 0)), Some(&1));
        assert_eq!(c.counts.values().sum::<u64>(), 3);
    }
}
