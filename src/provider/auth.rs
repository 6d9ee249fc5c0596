//! Digest authentication of our requests (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): a
//! 401/407 gets the request re-sent with credentials, once per challenge; a second challenge
//! for the same credentials is a failure unless it says `stale=true` (never a loop). Used by
//! calls (INVITE, re-INVITE, BYE) and registrations alike.

use crate::config::LineConfig;
use crate::sip::auth::{self, Challenge, Credentials};
use crate::sip::message::{Request, Response};
use crate::sip::transport::Transport;

use super::build::Ua;
use super::ids::IdGen;

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

/// The line's digest credentials, if it has a password.
pub fn credentials(cfg: &LineConfig) -> Option<Credentials> {
    let password = cfg.password.clone()?;
    let username = cfg.auth_user.clone().unwrap_or_else(|| cfg.user.clone());
    Some(Credentials { username, password })
}

/// The authenticated retry of `request` for the challenge in `response` (new branch, CSeq+1),
/// or `None` when we must give up (no credentials, no usable challenge, a repeated challenge).
pub fn authenticated_retry(
    ua: Ua<'_>,
    ids: &mut IdGen,
    request: &Request,
    response: &Response,
    attempts: u32,
) -> Option<(Request, CachedChallenge)> {
    let (challenge_header, header) = match response.status {
        401 => ("WWW-Authenticate", "Authorization"),
        407 => ("Proxy-Authenticate", "Proxy-Authorization"),
        _ => return None,
    };
    let creds = credentials(&ua.line.cfg)?;
    let challenges: Vec<Challenge> = response
        .headers
        .get_all(challenge_header)
        .filter_map(|v| Challenge::parse(v).ok())
        .collect();
    let challenge = auth::choose(&challenges)?.clone();
    if attempts >= MAX_ATTEMPTS || (attempts > 0 && !challenge.stale) {
        tracing::warn!(line = %ua.line.cfg.user, realm = %challenge.realm, "authentication rejected");
        return None;
    }
    let mut retry = request.clone();
    retry.headers.cseq.seq += 1;
    let transport = request
        .headers
        .via
        .first()
        .and_then(|v| Transport::from_via_token(&v.transport))
        .unwrap_or(ua.line.cfg.transport);
    retry.headers.via[0] = ua.new_via(ids, transport);
    let cached = CachedChallenge {
        header,
        challenge,
        nc: 0,
    };
    let cached = sign(ids, &mut retry, &creds, cached);
    Some((retry, cached))
}

/// Adds the credentials header for `cached` to `request`, with the next nonce count.
pub fn sign(
    ids: &mut IdGen,
    request: &mut Request,
    creds: &Credentials,
    mut cached: CachedChallenge,
) -> CachedChallenge {
    cached.nc += 1;
    let cnonce = ids.cnonce();
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
