//! New INVITEs outside any dialog: which line they are for (Request-URI user), whether their
//! source may call it (`trusted`), whether anyone takes calls there; then a new inbound
//! [`Call`] announced to TAPISRV (LINE_NEWCALL). Also the CANCEL and ACK of our calls' INVITE
//! transactions and the requests inside our dialogs, routed to their call.

use std::time::Instant;

use crate::sip::message::{Method, Request, Response};
use crate::sip::transaction::ServerTxKey;
use crate::sip::transport::Peer;
use crate::tapi::{DeviceId, ProviderEvent};

use super::build::Ua;
use super::call::{Call, CallEnv, DialogKey};
use super::SipProvider;

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
            match self.routes.dialogs.get(&dialog).copied() {
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
            self.respond(now, &key, &request, 503, None);
            return;
        }
        let user = request.uri.user.as_deref().unwrap_or("");
        let Some(line) = self.lines.iter().position(|l| l.cfg.user == user) else {
            self.respond(now, &key, &request, 404, None);
            return;
        };
        if !self.is_trusted(line, source.addr) {
            tracing::warn!(from = %source.addr, user, "INVITE from an untrusted source: 403");
            self.respond(now, &key, &request, 403, None);
            return;
        }
        if !self.lines[line].takes_calls() {
            self.respond(now, &key, &request, 480, None);
            return;
        }
        let id = self.new_call_id();
        let mut env = CallEnv {
            now,
            ua: Ua::new(&self.sip, &self.lines[line]),
            ids: &mut self.ids,
            media: &mut *self.media,
            stopping: self.stopping,
        };
        let call = Call::inbound(id, line, &mut env, key, request, source, self.media_ip);
        self.routes.add_call(&call);
        self.calls.insert(id, Box::new(call));
        // LINE_NEWCALL comes before anything else about the call.
        self.events.push_back(ProviderEvent::NewCall {
            device: DeviceId(line as u32),
            call: id,
        });
        self.drive_call(now, id);
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
        let call = DialogKey::of_request(ack).and_then(|k| self.routes.dialogs.get(&k).copied());
        if let Some(call) = call {
            self.with_call(now, call, |c, env| c.handle_ack(env, ack));
        }
    }

    /// With registration (or a `trusted` list), INVITEs are taken only from the provider.
    fn is_trusted(&self, line: usize, addr: std::net::SocketAddr) -> bool {
        let cfg = &self.lines[line].cfg;
        if !cfg.register && cfg.trusted.is_empty() {
            return true;
        }
        let ip = addr.ip();
        ip == cfg.proxy.ip()
            || ip == cfg.registrar.ip()
            || cfg.outbound_proxy.is_some_and(|p| p.ip() == ip)
            || cfg.trusted.iter().any(|t| t.matches(addr))
    }
}
