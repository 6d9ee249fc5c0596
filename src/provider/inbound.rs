//! New INVITEs outside any dialog (sources no line trusts were refused by `admission`): which
//! line they are for (Request-URI user), whether their source may call it (`trust`), whether
//! anyone takes calls there; then a new inbound
//! [`Call`] announced to TAPISRV (LINE_NEWCALL). Also the CANCEL and ACK of our calls' INVITE
//! transactions and the requests inside our dialogs, routed to their call.

use std::time::Instant;

use crate::sip::message::{Method, NameAddr, Request, Response, Uri};
use crate::sip::transaction::ServerTxKey;
use crate::sip::transport::Peer;
use crate::tapi::{CallId, CallReason, DeviceId, ProviderEvent};

use super::call::{self, Call, DialogKey, News};
use super::trust;
use super::SipProvider;

use super::call::RING_PERIOD;

impl SipProvider {
    /// A new server transaction: route by dialog, then by method.
    pub(super) fn on_request(
        &mut self,
        now: Instant,
        key: ServerTxKey,
        request: Request,
        source: Peer,
    ) {
        if let Some(dialog) = DialogKey::of_request(&request) {
            match self.routes.dialog(&dialog, &self.calls) {
                Some(call) => {
                    self.with_call(now, call, |c, env| {
                        c.handle_request(env, key, request, source)
                    });
                }
                // §12.2.2: no matching dialog.
                None => self.respond(now, &key, &request, 481, None),
            }
            return;
        }
        match request.method {
            Method::Invite => self.on_invite(now, key, request, source),
            _ => self.on_out_of_dialog_request(now, key, request),
        }
    }

    /// A new INVITE outside any dialog.
    fn on_invite(&mut self, now: Instant, key: ServerTxKey, request: Request, source: Peer) {
        if self.stopping {
            return self.respond(now, &key, &request, 503, None);
        }
        let user = request.uri.user.as_deref().unwrap_or("");
        let Some(line) = self
            .lines
            .iter()
            .position(|l| l.cfg.user == user && !l.removed)
        else {
            return self.respond(now, &key, &request, 404, None);
        };
        // Admission already refused sources no line trusts (403, the same for every user);
        // this is a source another line trusts.
        if !trust::trusts(&self.lines[line].cfg, source.addr) {
            tracing::warn!(from = %source.addr, user, "INVITE from a source this line does not trust: 403");
            return self.respond(now, &key, &request, 403, None);
        }
        if let Some((status, name, value)) = call::refusal(&request, &self.lines[line].cfg) {
            return self.respond(now, &key, &request, status, Some((name, &value)));
        }
        if let Some(replaces) = request.headers.get("Replaces").map(str::to_string) {
            return self.on_invite_replacing(now, line, key, request, source, &replaces);
        }
        if let Some((target, reason)) = self.forward_at_once(line) {
            return self.forward_invite(now, &key, &request, line, target, reason);
        }
        if !self.lines[line].takes_calls() {
            return self.respond(now, &key, &request, 480, None);
        }
        let no_answer = self.lines[line].forwarding.no_answer.clone().map(|target| {
            let rings = self.lines[line].forwarding.num_rings_no_answer;
            (now + RING_PERIOD * rings, target)
        });
        let (id, media_ip) = (self.new_call_id(), self.media_ip);
        let mut env = self.call_env(now, line);
        let mut call = Call::incoming(
            id,
            line,
            &mut env,
            key,
            request,
            source,
            media_ip,
            CallReason::DIRECT,
        );
        call.offer(&mut env, no_answer);
        self.admit(now, line, call, None);
    }

    /// A new call enters the tables; LINE_NEWCALL comes before anything else about it.
    fn admit(&mut self, now: Instant, line: usize, call: Call, inherit: Option<CallId>) {
        let id = call.id;
        self.routes.add_call(&call);
        self.calls.insert(id, Box::new(call));
        self.events.push_back(ProviderEvent::NewCall {
            device: DeviceId(line as u32),
            call: id,
            inherit,
        });
        self.drive_call(now, id);
    }

    /// lineForward UNCOND, or BUSY while the line has a call: where to send a new INVITE.
    fn forward_at_once(&self, line: usize) -> Option<(Uri, &'static str)> {
        let forwarding = &self.lines[line].forwarding;
        if let Some(target) = &forwarding.unconditional {
            return Some((target.clone(), "unconditional"));
        }
        let busy = self.calls.values().any(|c| c.line == line && c.is_live());
        match &forwarding.busy {
            Some(target) if busy => Some((target.clone(), "user-busy")),
            _ => None,
        }
    }

    /// 302 with the target as Contact and Diversion (RFC 5806); apps see no call.
    fn forward_invite(
        &mut self,
        now: Instant,
        key: &ServerTxKey,
        request: &Request,
        line: usize,
        target: Uri,
        reason: &str,
    ) {
        let tag = self.ids.tag();
        let mut response = Response::for_request(request, 302, Some(&tag));
        response.headers.contact.push(NameAddr::new(target));
        let aor = NameAddr::new(self.lines[line].aor());
        response
            .headers
            .push("Diversion", format!("{aor};reason={reason};counter=1"));
        response.headers.push("Server", self.sip.user_agent.clone());
        if let Err(err) = self.txl.send_response(now, key, response) {
            tracing::debug!(%err, "could not forward");
        }
    }

    /// An INVITE with Replaces (RFC 3891): it takes over a confirmed call of ours, which ends
    /// (DISCONNECTED(NORMAL), IDLE); the new call reaches the same owners, answered, reason
    /// TRANSFER. Nothing matching (or an early dialog): 481.
    fn on_invite_replacing(
        &mut self,
        now: Instant,
        line: usize,
        key: ServerTxKey,
        request: Request,
        source: Peer,
        replaces: &str,
    ) {
        let Some(replaced) = self.replaced_call(replaces) else {
            return self.respond(now, &key, &request, 481, None);
        };
        let (id, media_ip) = (self.new_call_id(), self.media_ip);
        let mut env = self.call_env(now, line);
        let mut call = Call::incoming(
            id,
            line,
            &mut env,
            key,
            request,
            source,
            media_ip,
            CallReason::TRANSFER,
        );
        if !call.answer_replacing(&mut env) {
            self.routes.add_call(&call);
            self.calls.insert(id, Box::new(call));
            return self.drive_call(now, id);
        }
        self.admit(now, line, call, Some(replaced));
        self.with_call(now, replaced, |c, env| {
            c.handle_news(env, id, News::Replaced)
        });
    }

    /// The confirmed call a Replaces header names: `call-id;to-tag=<ours>;from-tag=<theirs>`
    /// (§6.1: to-tag is compared with our tag, from-tag with the peer's).
    fn replaced_call(&self, replaces: &str) -> Option<CallId> {
        let mut parts = replaces.split(';').map(str::trim);
        let call_id = parts.next()?.to_string();
        let (mut to_tag, mut from_tag) = (None, None);
        for part in parts {
            match part.split_once('=') {
                Some((n, v)) if n.trim().eq_ignore_ascii_case("to-tag") => to_tag = Some(v.trim()),
                Some((n, v)) if n.trim().eq_ignore_ascii_case("from-tag") => {
                    from_tag = Some(v.trim())
                }
                _ => {}
            }
        }
        let key = DialogKey {
            call_id,
            local_tag: to_tag?.to_string(),
        };
        let id = self.routes.dialog(&key, &self.calls)?;
        let call = self.calls.get(&id)?;
        let tags_match = call.dialog().remote_tag.as_deref() == from_tag;
        (tags_match && call.is_connected()).then_some(id)
    }

    /// The caller's CANCEL (§9.2): 200 to the CANCEL (481 when it matches nothing), 487 to the
    /// INVITE if still unanswered.
    pub(super) fn on_cancel(
        &mut self,
        now: Instant,
        key: ServerTxKey,
        invite: Option<ServerTxKey>,
        cancel: &Request,
    ) {
        let call = invite
            .as_ref()
            .and_then(|k| self.routes.server_invites.get(k))
            .copied();
        let Some(call) = call else {
            let response = Response::for_request(cancel, 481, Some(&self.ids.tag()));
            let _ = self.txl.send_response(now, &key, response);
            return;
        };
        let response = Response::for_request(cancel, 200, None);
        let _ = self.txl.send_response(now, &key, response);
        self.with_call(now, call, |c, env| c.handle_cancel(env));
    }

    /// An ACK for a 2xx of ours (the transaction layer passes these up).
    pub(super) fn on_ack(&mut self, now: Instant, ack: &Request) {
        let call = DialogKey::of_request(ack).and_then(|k| self.routes.dialog(&k, &self.calls));
        if let Some(call) = call {
            self.with_call(now, call, |c, env| c.handle_ack(env, ack));
        }
    }
}
