//! Digest authentication of our requests (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): a
//! 401/407 gets the request re-sent with credentials, once per challenge; a second challenge
//! for the same credentials is a failure unless it says `stale=true` (never a loop).

use std::time::Instant;

use crate::sip::auth::{self, Challenge, Credentials};
use crate::sip::message::{Request, Response};
use crate::tapi::CallId;

use super::SipProvider;

/// Most authenticated attempts for one request chain, stale nonces included.
const MAX_ATTEMPTS: u32 = 4;

/// A challenge we answered, kept to authorize the next request pre-emptively.
#[derive(Debug, Clone)]
pub struct CachedChallenge {
    /// `Authorization` or `Proxy-Authorization`.
    pub header: &'static str,
    pub challenge: Challenge,
    /// Nonce count last used with this nonce.
    pub nc: u32,
}

impl SipProvider {
    /// The line's digest credentials, if it has a password.
    fn credentials(&self, line: usize) -> Option<Credentials> {
        let cfg = &self.lines[line].cfg;
        let password = cfg.password.clone()?;
        let username = cfg.auth_user.clone().unwrap_or_else(|| cfg.user.clone());
        Some(Credentials { username, password })
    }

    /// Builds the authenticated retry of `request` for the challenge in `response`, or `None`
    /// when we must give up (no credentials, no usable challenge, a repeated challenge).
    pub(super) fn authenticated_retry(
        &mut self,
        line: usize,
        request: &Request,
        response: &Response,
        attempts: u32,
    ) -> Option<(Request, CachedChallenge)> {
        let (challenge_header, header) = match response.status {
            401 => ("WWW-Authenticate", "Authorization"),
            407 => ("Proxy-Authenticate", "Proxy-Authorization"),
            _ => return None,
        };
        let creds = self.credentials(line)?;
        let challenges: Vec<Challenge> = response
            .headers
            .get_all(challenge_header)
            .filter_map(|v| Challenge::parse(v).ok())
            .collect();
        let challenge = auth::choose(&challenges)?.clone();
        if attempts >= MAX_ATTEMPTS || (attempts > 0 && !challenge.stale) {
            tracing::warn!(line, realm = %challenge.realm, "authentication rejected");
            return None;
        }
        let mut retry = request.clone();
        retry.headers.cseq.seq += 1;
        retry.headers.via[0] = self.new_via(Some(line), self.lines[line].cfg.transport);
        let cached = CachedChallenge {
            header,
            challenge,
            nc: 0,
        };
        let cached = self.sign(&mut retry, &creds, cached);
        Some((retry, cached))
    }

    /// Adds the credentials header for `cached` to `request`, with the next nonce count.
    fn sign(
        &mut self,
        request: &mut Request,
        creds: &Credentials,
        mut cached: CachedChallenge,
    ) -> CachedChallenge {
        cached.nc += 1;
        let cnonce = self.ids.cnonce();
        let value = auth::authorize(
            &cached.challenge,
            creds,
            request.method.as_str(),
            &request.uri.to_string(),
            &request.body,
            cached.nc,
            &cnonce,
        );
        request.headers.remove(cached.header);
        request.headers.push(cached.header, value);
        cached
    }

    /// Pre-emptive credentials from an earlier challenge (REGISTER refreshes), nonce reused
    /// with an incremented count.
    pub(super) fn sign_with_cache(
        &mut self,
        line: usize,
        request: &mut Request,
        cached: CachedChallenge,
    ) -> Option<CachedChallenge> {
        let creds = self.credentials(line)?;
        Some(self.sign(request, &creds, cached))
    }

    /// 401/407 to our INVITE: re-send with credentials; `false` means treat it as final.
    pub(super) fn retry_invite_with_auth(
        &mut self,
        now: Instant,
        call: CallId,
        response: &Response,
    ) -> bool {
        let Some(c) = self.calls.get(&call) else {
            return false;
        };
        let (line, attempts) = (c.line, c.auth_attempts);
        let Some(invite) = c.invite.clone() else {
            return false;
        };
        if c.cancel_on_provisional || c.released {
            return false;
        }
        let Some((retry, _)) = self.authenticated_retry(line, &invite, response, attempts) else {
            return false;
        };
        if let Some(c) = self.calls.get_mut(&call) {
            c.auth_attempts += 1;
        }
        self.resend_invite(now, call, retry);
        true
    }
}
