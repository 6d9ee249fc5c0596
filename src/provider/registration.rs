//! The REGISTER client of each line with `register = true` (RFC 3261 §10.2): one Call-ID per
//! line, CSeq incremented, refresh before the granted expiry, 423 handled with Min-Expires,
//! digest challenges answered, failures retried with capped exponential backoff and jitter,
//! the public address learnt from `received`/`rport` (RFC 3581), CRLF keep-alives, and
//! un-registration on stop. Registration changes reach TAPI as LINE_LINEDEVSTATE.

use std::time::{Duration, Instant};

use crate::sip::message::{Host, Method, NameAddr, Request, Response};
use crate::sip::transaction::ClientTxKey;
use crate::sip::transport::Transmit;
use crate::tapi::consts::*;
use crate::tapi::{DeviceId, ProviderEvent};

use super::auth::CachedChallenge;
use super::timers::TimerKind;
use super::{SipProvider, TxOwner};

/// First retry delay after a failure; doubles up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Refresh at least this long before the binding expires.
const REFRESH_MARGIN: u64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegState {
    /// Not registering (register = false, or stopped).
    Off,
    /// A REGISTER is out.
    Pending,
    Registered,
    /// Waiting to retry after a failure.
    Failed,
    /// The un-REGISTER (Expires: 0) is out.
    Unregistering,
}

/// One line's registration.
pub struct Registration {
    enabled: bool,
    state: RegState,
    call_id: Option<String>,
    from_tag: String,
    cseq: u32,
    expires: u32,
    failures: u32,
    auth_attempts: u32,
    min_expires_retries: u32,
    tx: Option<ClientTxKey>,
    last_request: Option<Request>,
    next_at: Option<Instant>,
    cached: Option<CachedChallenge>,
    in_service: bool,
    /// Our address as the registrar sees it (from `received`/`rport`).
    pub public_address: Option<(Host, u16)>,
}

impl Registration {
    pub fn new(enabled: bool) -> Self {
        Registration {
            enabled,
            state: RegState::Off,
            call_id: None,
            from_tag: String::new(),
            cseq: 0,
            expires: 0,
            failures: 0,
            auth_attempts: 0,
            min_expires_retries: 0,
            tx: None,
            last_request: None,
            next_at: None,
            cached: None,
            in_service: false,
            public_address: None,
        }
    }

    pub fn is_registered(&self) -> bool {
        self.state == RegState::Registered
    }

    /// Nothing a graceful stop should wait for.
    pub fn is_idle(&self) -> bool {
        self.state != RegState::Unregistering
    }
}

/// Refresh delay for a granted expiry: about 80%, at least `REFRESH_MARGIN` s before expiry,
/// never sooner than 1 s.
pub fn refresh_delay(granted: u32) -> Duration {
    let granted = u64::from(granted);
    let secs = (granted * 4 / 5)
        .min(granted.saturating_sub(REFRESH_MARGIN))
        .max(1);
    Duration::from_secs(secs)
}

/// Backoff before retry number `failures` (1-based), without jitter.
pub fn backoff(failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    (BASE_BACKOFF * factor).min(MAX_BACKOFF)
}

impl SipProvider {
    /// Whether calls on the line can be expected to work (registered, or no registration).
    pub(super) fn line_in_service(&self, line: usize) -> bool {
        let reg = &self.lines[line].registration;
        !reg.enabled || reg.is_registered()
    }

    pub(super) fn start_registrations(&mut self, now: Instant) {
        for line in 0..self.lines.len() {
            if self.lines[line].registration.enabled {
                let expires = self.lines[line].cfg.expires;
                self.lines[line].registration.expires = expires;
                self.send_register(now, line, expires);
            }
            if self.lines[line].cfg.keepalive.is_some() {
                self.schedule_keepalive(now, line);
            }
        }
    }

    fn send_register(&mut self, now: Instant, line: usize, expires: u32) {
        let host = self.sent_by(Some(line)).0.to_string();
        let reg = &mut self.lines[line].registration;
        if reg.call_id.is_none() {
            reg.call_id = Some(self.ids.call_id(&host));
            reg.from_tag = self.ids.tag();
        }
        reg.cseq += 1;
        let (call_id, tag, cseq) = (
            reg.call_id.clone().unwrap_or_default(),
            reg.from_tag.clone(),
            reg.cseq,
        );
        let l = &self.lines[line];
        let aor = l.aor();
        let mut registrar = aor.clone();
        registrar.user = None;
        let from = l.our_identity().with_tag(&tag);
        let to = NameAddr::new(aor);
        let mut request =
            self.out_of_dialog_request(line, Method::Register, registrar, from, to, call_id, cseq);
        request.headers.expires = Some(expires);
        if let Some(cached) = self.lines[line].registration.cached.clone() {
            self.lines[line].registration.cached = self.sign_with_cache(line, &mut request, cached);
        }
        self.lines[line].registration.auth_attempts = 0;
        self.dispatch_register(now, line, request, expires == 0);
    }

    fn dispatch_register(&mut self, now: Instant, line: usize, request: Request, unregister: bool) {
        let peer = self.lines[line].registrar_peer();
        let key = self.send_request(now, request.clone(), peer, TxOwner::Register(line));
        let reg = &mut self.lines[line].registration;
        reg.cseq = request.headers.cseq.seq;
        reg.last_request = Some(request);
        reg.state = if unregister {
            RegState::Unregistering
        } else {
            RegState::Pending
        };
        reg.tx = key;
        if reg.tx.is_none() {
            self.on_register_failure(now, line);
        }
    }

    pub(super) fn on_register_response(
        &mut self,
        now: Instant,
        line: usize,
        key: ClientTxKey,
        response: Response,
    ) {
        let reg = &self.lines[line].registration;
        if reg.tx.as_ref() != Some(&key) || response.is_provisional() {
            return;
        }
        let unregistering = reg.state == RegState::Unregistering;
        match response.status {
            200..=299 if unregistering => self.lines[line].registration.state = RegState::Off,
            200..=299 => self.on_registered(now, line, &response),
            401 | 407 => self.on_register_challenge(now, line, &response),
            423 => self.on_interval_too_brief(now, line, &response),
            status => {
                tracing::warn!(line, status, "registration failed");
                self.on_register_failure(now, line);
            }
        }
    }

    fn on_register_challenge(&mut self, now: Instant, line: usize, response: &Response) {
        let reg = &self.lines[line].registration;
        let (attempts, unregistering) = (reg.auth_attempts, reg.state == RegState::Unregistering);
        let Some(request) = reg.last_request.clone() else {
            return;
        };
        match self.authenticated_retry(line, &request, response, attempts) {
            Some((retry, cached)) => {
                let reg = &mut self.lines[line].registration;
                reg.auth_attempts = attempts + 1;
                reg.cached = Some(cached);
                self.dispatch_register(now, line, retry, unregistering);
                self.lines[line].registration.auth_attempts = attempts + 1;
            }
            None => {
                self.lines[line].registration.cached = None;
                self.on_register_failure(now, line);
            }
        }
    }

    /// 423 (RFC 3261 §10.2.8): retry with the registrar's Min-Expires.
    fn on_interval_too_brief(&mut self, now: Instant, line: usize, response: &Response) {
        let min = response
            .headers
            .get("Min-Expires")
            .and_then(|v| v.trim().parse::<u32>().ok());
        let reg = &mut self.lines[line].registration;
        match min {
            Some(min) if reg.min_expires_retries < 3 && min > reg.expires => {
                reg.min_expires_retries += 1;
                reg.expires = min;
                self.send_register(now, line, min);
            }
            _ => self.on_register_failure(now, line),
        }
    }

    fn on_registered(&mut self, now: Instant, line: usize, response: &Response) {
        let granted = self.granted_expiry(line, response);
        if self.learn_public_address(line, response) {
            // Our Contact was wrong: register the right one at once (RFC 3581 §9 style).
            let expires = self.lines[line].registration.expires;
            self.send_register(now, line, expires);
            return;
        }
        let reg = &mut self.lines[line].registration;
        reg.state = RegState::Registered;
        reg.failures = 0;
        reg.min_expires_retries = 0;
        let at = now + refresh_delay(granted);
        reg.next_at = Some(at);
        self.timers.schedule(at, TimerKind::Register(line));
        tracing::info!(line, granted, "registered");
        self.set_in_service(line, true);
    }

    /// The expiry granted for our binding: its Contact's `expires`, else Expires, else ours.
    fn granted_expiry(&self, line: usize, response: &Response) -> u32 {
        let ours = self.contact(line).uri;
        let from_contact = response
            .headers
            .contact
            .iter()
            .find(|c| c.uri.user == ours.user && c.uri.host == ours.host && c.uri.port == ours.port)
            .or(response.headers.contact.first())
            .and_then(|c| c.params.value("expires"))
            .and_then(|v| v.parse().ok());
        from_contact
            .or(response.headers.expires)
            .unwrap_or(self.lines[line].registration.expires)
    }

    /// Takes `received`/`rport` of our Via in the response as our public address; true when
    /// it changed what we advertise.
    fn learn_public_address(&mut self, line: usize, response: &Response) -> bool {
        let Some(via) = response.headers.via.first() else {
            return false;
        };
        let Some(ip) = via.received().and_then(|r| r.parse().ok()) else {
            return false;
        };
        let port = via.rport().flatten().unwrap_or(self.sip.advertised_port);
        let seen = (Host::Ip(ip), port);
        if self.sent_by(Some(line)) == seen {
            return false;
        }
        tracing::info!(line, address = %format!("{}:{}", seen.0, seen.1), "learnt our public address");
        self.lines[line].registration.public_address = Some(seen);
        true
    }

    pub(super) fn on_register_failure(&mut self, now: Instant, line: usize) {
        let reg = &mut self.lines[line].registration;
        if reg.state == RegState::Unregistering || self.stopping {
            reg.state = RegState::Off;
            return;
        }
        reg.state = RegState::Failed;
        reg.failures += 1;
        let delay = backoff(reg.failures);
        let jitter = self.ids.below(delay.as_millis() as u64 / 5 + 1);
        let at = now + delay + Duration::from_millis(jitter);
        self.lines[line].registration.next_at = Some(at);
        self.timers.schedule(at, TimerKind::Register(line));
        self.set_in_service(line, false);
    }

    pub(super) fn on_register_timer(&mut self, now: Instant, line: usize) {
        let reg = &self.lines[line].registration;
        let due = reg.next_at.is_some_and(|at| at <= now);
        if !due || self.stopping || !matches!(reg.state, RegState::Registered | RegState::Failed) {
            return;
        }
        self.lines[line].registration.next_at = None;
        let expires = self.lines[line].registration.expires;
        self.send_register(now, line, expires);
    }

    pub(super) fn unregister_all(&mut self, now: Instant) {
        for line in 0..self.lines.len() {
            if self.lines[line].registration.is_registered() {
                self.send_register(now, line, 0);
            } else {
                self.lines[line].registration.state = RegState::Off;
            }
        }
    }

    fn set_in_service(&mut self, line: usize, in_service: bool) {
        let reg = &mut self.lines[line].registration;
        if reg.in_service == in_service {
            return;
        }
        reg.in_service = in_service;
        let state = if in_service {
            LINEDEVSTATE_INSERVICE
        } else {
            LINEDEVSTATE_OUTOFSERVICE
        };
        self.events.push_back(ProviderEvent::LineDevState {
            device: DeviceId(line as u32),
            state,
            param2: 0,
            param3: 0,
        });
    }

    fn schedule_keepalive(&mut self, now: Instant, line: usize) {
        if let Some(interval) = self.lines[line].cfg.keepalive {
            self.timers
                .schedule(now + interval, TimerKind::KeepAlive(line));
        }
    }

    /// RFC 5626 §4.4.1 CRLF keep-alive towards the registrar (keeps NAT bindings open).
    pub(super) fn on_keepalive_timer(&mut self, now: Instant, line: usize) {
        if self.stopping {
            return;
        }
        let destination = self.lines[line].registrar_peer();
        self.raw.push_back(Transmit {
            destination,
            payload: bytes::Bytes::from_static(b"\r\n\r\n"),
        });
        self.schedule_keepalive(now, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_comes_well_before_expiry() {
        assert_eq!(refresh_delay(3600), Duration::from_secs(2880));
        assert_eq!(refresh_delay(300), Duration::from_secs(240));
        assert_eq!(refresh_delay(10), Duration::from_secs(5));
        assert_eq!(refresh_delay(2), Duration::from_secs(1));
        assert_eq!(refresh_delay(0), Duration::from_secs(1));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(20), MAX_BACKOFF);
    }
}
