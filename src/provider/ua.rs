//! Requests outside any dialog other than INVITE (RFC 3261 §8.2, §11, §15.1.2): OPTIONS gets
//! 200 with our capabilities (providers ping with it), BYE and other mid-dialog methods get 481,
//! a method we know but do not take here (REGISTER, SUBSCRIBE, MESSAGE, ...) 405 with Allow,
//! and a method we do not know at all 501 (§8.2.1, §21.5.2). Also the plain responses the
//! provider sends without a call.

use std::time::Instant;

use crate::sip::message::{Method, Request, Response};
use crate::sip::transaction::ServerTxKey;

use super::build::{ALLOW, SUPPORTED};
use super::SipProvider;

impl SipProvider {
    pub(super) fn on_out_of_dialog_request(
        &mut self,
        now: Instant,
        key: ServerTxKey,
        request: Request,
    ) {
        match request.method {
            Method::Options => self.answer_options(now, &key, &request),
            // §15.1.2 and the like: these only make sense inside a dialog.
            Method::Bye | Method::Update | Method::Info | Method::Prack => {
                self.respond(now, &key, &request, 481, None)
            }
            Method::Extension(_) => self.respond(now, &key, &request, 501, None),
            _ => self.respond(now, &key, &request, 405, Some(("Allow", ALLOW))),
        }
    }

    /// §11.2: 200 with Allow, Accept and Supported.
    fn answer_options(&mut self, now: Instant, key: &ServerTxKey, request: &Request) {
        let tag = self.ids.tag();
        let mut response = Response::for_request(request, 200, Some(&tag));
        response.headers.push("Allow", ALLOW);
        response.headers.push("Supported", SUPPORTED);
        response.headers.push("Accept", "application/sdp");
        response.headers.push("Accept-Language", "en");
        response.headers.push("Server", self.sip.user_agent.clone());
        if let Err(err) = self.txl.send_response(now, key, response) {
            tracing::debug!(%err, "could not answer OPTIONS");
        }
    }

    /// A plain response from the request (no dialog state), with a fresh To tag.
    pub(super) fn respond(
        &mut self,
        now: Instant,
        key: &ServerTxKey,
        request: &Request,
        status: u16,
        extra: Option<(&str, &str)>,
    ) {
        let tag = self.ids.tag();
        let mut response = Response::for_request(request, status, Some(&tag));
        if let Some((name, value)) = extra {
            response.headers.push(name, value);
        }
        response.headers.push("Server", self.sip.user_agent.clone());
        if let Err(err) = self.txl.send_response(now, key, response) {
            tracing::debug!(%err, "could not respond");
        }
    }
}
