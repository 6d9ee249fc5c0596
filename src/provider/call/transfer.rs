//! Transfers with REFER (RFC 3515), both ways.
//!
//! We transfer the peer (lineBlindTransfer, lineCompleteTransfer): REFER with `Refer-To` (for
//! an attended transfer the consultation peer with `?Replaces=` of the consultation dialog,
//! RFC 5589 §7.1, RFC 3891) and `Referred-By` (RFC 3892); the implicit subscription's NOTIFYs
//! (§2.4.4) carry a message/sipfrag (RFC 3420) whose status decides: 2xx -> the request
//! succeeds and we BYE the call (IDLE, no DISCONNECTED), >= 300 -> it fails and the call stays.
//! No final NOTIFY within 64*T1 of the REFER fails it too. A peer that sends BYE after
//! accepting the REFER completes the transfer.
//!
//! The peer transfers us: REFER -> 202, NOTIFY `100 Trying`, a new call to the Refer-To target
//! (its URI headers, Replaces included, become headers of that INVITE, RFC 3515 §2.1), and a
//! NOTIFY with its final status.

use std::time::Instant;

use crate::sip::codec;
use crate::sip::message::{Method, NameAddr, Request, Response, Uri};
use crate::tapi::{LineErr, RequestId, LINEERR_INVALCALLSTATE, LINEERR_OPERATIONFAILED};

use super::{Action, Call, CallEnv, News, Op, Purpose};
use crate::provider::auth::authenticated_retry;
use crate::provider::build::ALLOW;

/// Where a transfer of ours sends the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferTarget {
    /// lineBlindTransfer: the destination as lineMakeCall would dial it.
    Blind(Uri),
    /// lineCompleteTransfer(TRANSFER): the consultation peer with `?Replaces=` its dialog.
    Attended {
        consult: crate::tapi::CallId,
        uri: Uri,
    },
}

/// Our REFER in progress.
pub struct ReferOut {
    pub request: RequestId,
    pub target: ReferTarget,
    /// The REFER as sent (auth retries).
    pub sent: Box<Request>,
    pub auth_attempts: u32,
    /// The peer accepted it (2xx): only NOTIFYs are awaited now.
    pub accepted: bool,
    /// 64*T1 after the REFER: no final NOTIFY by then fails the transfer.
    pub deadline: Option<Instant>,
}

/// A REFER the peer sent us, while we report on the call it asked for.
pub struct ReferIn {
    /// The REFER's CSeq number (the `id` of our NOTIFYs' Event, RFC 3515 §2.4.6).
    pub id: u32,
    /// The last status we NOTIFYed.
    pub last: u16,
}

impl Call {
    /// Starts a transfer of ours (blind or attended).
    pub(super) fn transfer(
        &mut self,
        env: &mut CallEnv<'_>,
        request: RequestId,
        target: ReferTarget,
    ) -> Result<(), LineErr> {
        if !self.may_reinvite() {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let uri = match &target {
            ReferTarget::Blind(uri) | ReferTarget::Attended { uri, .. } => uri.clone(),
        };
        let cseq = self.dialog.next_cseq();
        let (mut refer, to) =
            env.ua
                .in_dialog_request(env.ids, &self.dialog, Method::Refer, cseq, self.peer);
        refer
            .headers
            .push("Refer-To", NameAddr::new(uri).to_string());
        refer
            .headers
            .push("Referred-By", NameAddr::new(env.ua.line.aor()).to_string());
        refer.headers.contact.push(env.ua.contact());
        self.pending.push((request, Op::Transfer));
        self.refer_out = Some(Box::new(ReferOut {
            request,
            target,
            sent: Box::new(refer.clone()),
            auth_attempts: 0,
            accepted: false,
            deadline: Some(env.now + env.ua.sip.timers.timeout_64t1()),
        }));
        self.send(refer, to, Purpose::Refer);
        Ok(())
    }

    /// The answer to our REFER: 2xx waits for NOTIFYs; a challenge is answered; anything else
    /// fails the transfer.
    pub(super) fn on_refer_response(&mut self, env: &mut CallEnv<'_>, response: &Response) {
        if response.is_provisional() || self.refer_out.is_none() {
            return;
        }
        if response.is_success() {
            if let Some(r) = self.refer_out.as_mut() {
                r.accepted = true;
            }
            return;
        }
        if matches!(response.status, 401 | 407) && self.retry_refer_with_auth(env, response) {
            return;
        }
        tracing::info!(call = %self.id, status = response.status, "REFER refused");
        self.transfer_failed();
    }

    fn retry_refer_with_auth(&mut self, env: &mut CallEnv<'_>, response: &Response) -> bool {
        let Some(r) = self.refer_out.as_deref() else {
            return false;
        };
        let Some((retry, _)) =
            authenticated_retry(env.ua, env.ids, &r.sent, response, r.auth_attempts)
        else {
            return false;
        };
        self.dialog.local_cseq = retry.headers.cseq.seq;
        let (_, to) = env.ua.in_dialog_request(
            env.ids,
            &self.dialog,
            Method::Refer,
            retry.headers.cseq.seq,
            self.peer,
        );
        if let Some(r) = self.refer_out.as_mut() {
            r.auth_attempts += 1;
            *r.sent = retry.clone();
        }
        self.send(retry, to, Purpose::Refer);
        true
    }

    /// Our REFER got no answer or could not be sent.
    pub(super) fn on_refer_failed(&mut self) {
        self.transfer_failed();
    }

    /// No final NOTIFY within 64*T1.
    pub(super) fn on_refer_timeout(&mut self) {
        tracing::info!(call = %self.id, "no final NOTIFY for our REFER");
        self.transfer_failed();
    }

    /// The transfer failed: LINEERR_OPERATIONFAILED, the call stays as it was.
    fn transfer_failed(&mut self) {
        let Some(r) = self.refer_out.take() else {
            return;
        };
        self.pending.retain(|(id, _)| *id != r.request);
        self.complete(r.request, Err(LINEERR_OPERATIONFAILED));
    }

    /// The transfer succeeded: LINE_REPLY(0), the call (and an attended transfer's
    /// consultation call) cleared by us, IDLE without DISCONNECTED.
    fn transfer_succeeded(&mut self, env: &mut CallEnv<'_>) {
        let Some(r) = self.refer_out.take() else {
            return;
        };
        self.pending.retain(|(id, _)| *id != r.request);
        self.complete(r.request, Ok(()));
        self.transferred = true;
        if let ReferTarget::Attended { consult, .. } = r.target {
            self.related = None;
            self.tell(consult, News::Transferred);
        }
        self.hang_up(env);
    }

    /// A NOTIFY in our dialog: the progress of our REFER (other events get 200 too).
    pub(super) fn on_notify(
        &mut self,
        env: &mut CallEnv<'_>,
        tx: crate::sip::transaction::ServerTxKey,
        notify: &Request,
    ) {
        self.respond_in_dialog(env, tx, notify, 200, None);
        let is_refer = notify.headers.get("Event").is_some_and(|e| {
            e.split(';')
                .next()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case("refer"))
        });
        if !is_refer || self.refer_out.is_none() {
            return;
        }
        match sipfrag_status(&notify.body) {
            Some(200..=299) => self.transfer_succeeded(env),
            Some(300..=699) => self.transfer_failed(),
            _ => {
                let terminated = notify.headers.get("Subscription-State").is_some_and(|s| {
                    s.trim_start()
                        .to_ascii_lowercase()
                        .starts_with("terminated")
                });
                if terminated {
                    self.transfer_failed();
                }
            }
        }
    }

    /// The peer hung up while our REFER was out: accepted means the transferee took the call
    /// away (success); otherwise the transfer fails with the call.
    pub(super) fn refer_ended_by_bye(&mut self) -> bool {
        let accepted = self.refer_out.as_ref().is_some_and(|r| r.accepted);
        if accepted {
            if let Some(r) = self.refer_out.take() {
                self.pending.retain(|(id, _)| *id != r.request);
                self.complete(r.request, Ok(()));
                self.transferred = true;
                if let ReferTarget::Attended { consult, .. } = r.target {
                    self.related = None;
                    self.tell(consult, News::Transferred);
                }
            }
        }
        accepted
    }

    /// The peer transfers us (RFC 3515 §2.4.2): 202, NOTIFY `100 Trying`, and a new call to
    /// the target; `lines.accept_refer = false` answers 603.
    pub(super) fn on_refer(
        &mut self,
        env: &mut CallEnv<'_>,
        tx: crate::sip::transaction::ServerTxKey,
        refer: &Request,
    ) {
        if !env.ua.line.cfg.accept_refer {
            return self.respond_in_dialog(env, tx, refer, 603, None);
        }
        if self.refer_in.is_some() {
            return self.respond_in_dialog(env, tx, refer, 491, None);
        }
        let target = refer
            .headers
            .get("Refer-To")
            .and_then(|v| codec::parse_name_addr(v).ok())
            .map(|n| n.uri);
        let Some(mut target) = target else {
            return self.respond_in_dialog(env, tx, refer, 400, None);
        };
        // RFC 3892 §3: the triggered request carries the REFER's Referred-By (the target's
        // URI headers become headers of that INVITE).
        let named = |name: &str| {
            target
                .headers()
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if let Some(by) = refer.headers.get("Referred-By") {
            if !named("Referred-By") && !named("b") {
                target.push_header("Referred-By".into(), by.to_string());
            }
        }
        self.respond_in_dialog(env, tx, refer, 202, None);
        self.refer_in = Some(Box::new(ReferIn {
            id: refer.headers.cseq.seq,
            last: 0,
        }));
        self.notify_refer(env, 100, "Trying");
        self.push(Action::Refer { target });
    }

    /// Progress of the call our peer referred us to, as a NOTIFY (final ones end the
    /// subscription).
    pub(super) fn notify_refer(&mut self, env: &mut CallEnv<'_>, status: u16, reason: &str) {
        let live = self.is_live();
        let Some(refer) = self.refer_in.as_mut() else {
            return;
        };
        if refer.last >= 200 || (status < 200 && refer.last == status) || !live {
            return;
        }
        refer.last = status;
        let id = refer.id;
        let cseq = self.dialog.next_cseq();
        let (mut notify, to) =
            env.ua
                .in_dialog_request(env.ids, &self.dialog, Method::Notify, cseq, self.peer);
        notify.headers.push("Event", format!("refer;id={id}"));
        let state = if status >= 200 {
            "terminated;reason=noresource".to_string()
        } else {
            "active;expires=60".to_string()
        };
        notify.headers.push("Subscription-State", state);
        notify.headers.contact.push(env.ua.contact());
        notify.headers.content_type = Some("message/sipfrag;version=2.0".into());
        notify.body = format!("SIP/2.0 {status} {reason}\r\n").into_bytes();
        if status >= 200 {
            self.refer_in = None;
        }
        self.send(notify, to, Purpose::Notify);
    }

    /// A response to a request in the dialog, with our tag, Allow on 405, Server.
    pub(super) fn respond_in_dialog(
        &mut self,
        env: &CallEnv<'_>,
        tx: crate::sip::transaction::ServerTxKey,
        request: &Request,
        status: u16,
        extra: Option<(&str, &str)>,
    ) {
        let mut response = Response::for_request(request, status, Some(&self.dialog.key.local_tag));
        if let Some((name, value)) = extra {
            response.headers.push(name, value);
        }
        if status == 202 {
            response.headers.contact.push(env.ua.contact());
        }
        if status == 405 {
            response.headers.push("Allow", ALLOW);
        }
        response.headers.push("Server", env.ua.user_agent());
        self.respond_on(tx, response);
    }

    /// The URI an attended transfer refers the original's peer to: this (consultation) call's
    /// peer with `?Replaces=` naming this dialog as the peer sees it (RFC 3891 §3: to-tag is
    /// the peer's tag, from-tag ours), escaped as a URI header (RFC 3261 §19.1.1).
    pub fn replaces_uri(&self) -> Option<Uri> {
        let remote_tag = self.dialog.remote_tag.as_deref()?;
        let mut uri = self.dialog.remote_target.clone();
        let replaces = format!(
            "{};to-tag={};from-tag={}",
            self.dialog.key.call_id, remote_tag, self.dialog.key.local_tag
        );
        uri.set_headers(vec![("Replaces".into(), escape_uri_header(&replaces))]);
        Some(uri)
    }
}

/// The status code of a message/sipfrag body (RFC 3420): its first line is a status line.
pub fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?.trim();
    let mut parts = line.split_whitespace();
    if !parts.next()?.eq_ignore_ascii_case("SIP/2.0") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// RFC 3261 §19.1.1 / §25.1: a URI header value with everything but unreserved characters and
/// the `hnv-unreserved` set escaped (`;` `=` `@` and spaces included).
pub fn escape_uri_header(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for b in value.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-_.!~*'()[]/?:+$".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The reverse of [`escape_uri_header`] (Replaces arriving in a Refer-To URI).
pub fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sipfrag_and_escaping() {
        assert_eq!(sipfrag_status(b"SIP/2.0 200 OK\r\n"), Some(200));
        assert_eq!(sipfrag_status(b"SIP/2.0 486 Busy Here"), Some(486));
        assert_eq!(sipfrag_status(b"garbage"), None);
        assert_eq!(sipfrag_status(b""), None);
        let escaped = escape_uri_header("abc@h;to-tag=1;from-tag=2");
        assert_eq!(escaped, "abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2");
        assert_eq!(unescape(&escaped), "abc@h;to-tag=1;from-tag=2");
        assert_eq!(unescape("100%"), "100%");
    }
}
