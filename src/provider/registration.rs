//! The REGISTER client of one line (RFC 3261 §10.2), as its own state machine: one Call-ID per
//! line, CSeq incremented, refresh before the granted expiry, 423 handled with Min-Expires,
//! digest challenges answered, failures retried with capped exponential backoff and jitter,
//! the public address learnt from `received`/`rport` on UDP (RFC 3581), CRLF keep-alives (RFC
//! 5626 §4.4.1), and un-registration on stop.
//!
//! A TCP/TLS line registers an RFC 5626 flow: its Contact names our listener with `reg-id`
//! and `+sip.instance` (never the source port of the connection, which is no listener: issue
//! 19 item 1), the flow is kept alive with pinged CRLFs that must be answered (`flow`), and
//! when the connection drops or stops answering the line registers again over a new one at
//! once, backing off while flows keep dying young (RFC 5626 §4.5). The binding stays the same
//! one throughout, and is removed with Expires 0 on stop.
//!
//! Like a call, it takes inputs (responses, failures, `handle_timeout`) with a [`RegEnv`] and
//! answers with [`RegAction`]s; registration changes reach TAPI as LINE_LINEDEVSTATE.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::SipConfig;
use crate::sip::message::{Host, Method, NameAddr, Request, Response};
use crate::sip::transaction::ClientTxKey;
use crate::sip::transport::{FlowEvent, Peer};
use crate::tapi::{DeviceId, LineDevStates, ProviderEvent};

use super::auth::{authenticated_retry, credentials, sign, CachedChallenge};
use super::build::Ua;
use super::flow::{Flow, FlowDue};
use super::ids::IdGen;
use super::line::Line;

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

/// What a registration asks its provider to do.
#[derive(Debug)]
pub enum RegAction {
    /// Send REGISTER on a new client transaction.
    Send {
        request: Box<Request>,
        to: Peer,
    },
    /// Bytes outside any transaction (a keep-alive).
    Raw {
        to: Peer,
        bytes: Bytes,
    },
    /// Close the connection to this peer (a flow that stopped answering pings).
    Close(Peer),
    Event(ProviderEvent),
}

/// The services a registration uses while it handles one input.
pub struct RegEnv<'a> {
    pub now: Instant,
    pub sip: &'a SipConfig,
    /// Its line (the registration records the public address it learns there).
    pub line: &'a mut Line,
    pub ids: &'a mut IdGen,
    pub stopping: bool,
}

impl RegEnv<'_> {
    fn ua(&self) -> Ua<'_> {
        Ua::new(self.sip, self.line)
    }
}

/// One line's registration.
pub struct Registration {
    device: DeviceId,
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
    /// When to refresh or retry.
    next_at: Option<Instant>,
    keepalive: Option<Duration>,
    keepalive_at: Option<Instant>,
    cached: Option<CachedChallenge>,
    in_service: bool,
    /// The RFC 5626 flow of a registering TCP/TLS line.
    flow: Option<Flow>,
    /// A `received` naming another address than ours on a TCP/TLS line was logged once.
    nat_noted: bool,
    actions: VecDeque<RegAction>,
}

impl Registration {
    pub fn new(device: DeviceId, line: &Line) -> Self {
        Registration {
            device,
            enabled: line.cfg.register,
            state: RegState::Off,
            call_id: None,
            from_tag: String::new(),
            cseq: 0,
            expires: line.cfg.expires,
            failures: 0,
            auth_attempts: 0,
            min_expires_retries: 0,
            tx: None,
            last_request: None,
            next_at: None,
            keepalive: line.cfg.keepalive,
            keepalive_at: None,
            cached: None,
            in_service: false,
            flow: (line.cfg.register && line.cfg.transport.is_connection_oriented())
                .then(|| Flow::new(line.cfg.keepalive)),
            nat_noted: false,
            actions: VecDeque::new(),
        }
    }

    pub fn is_registered(&self) -> bool {
        self.state == RegState::Registered
    }

    /// Whether calls on the line can be expected to work (registered, or no registration).
    pub fn in_service(&self) -> bool {
        !self.enabled || self.is_registered()
    }

    /// Nothing a graceful stop should wait for.
    pub fn is_idle(&self) -> bool {
        self.state != RegState::Unregistering
    }

    pub fn poll_action(&mut self) -> Option<RegAction> {
        self.actions.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let flow = self.flow.as_ref().and_then(Flow::next_deadline);
        [self.next_at, self.keepalive_at, flow]
            .into_iter()
            .flatten()
            .min()
    }

    /// First REGISTER (when enabled) and keep-alive schedule.
    pub fn start(&mut self, env: &mut RegEnv<'_>) {
        if self.enabled {
            self.send_register(env, self.expires);
        }
        if let (Some(interval), None) = (self.keepalive, &self.flow) {
            self.keepalive_at = Some(env.now + interval);
        }
    }

    /// Fires what is due: a refresh or retry, a keep-alive, a flow's ping or its death.
    pub fn handle_timeout(&mut self, env: &mut RegEnv<'_>) {
        if self.next_at.is_some_and(|at| at <= env.now) {
            self.next_at = None;
            let due =
                !env.stopping && matches!(self.state, RegState::Registered | RegState::Failed);
            if due {
                self.send_register(env, self.expires);
            }
        }
        if self.keepalive_at.is_some_and(|at| at <= env.now) {
            self.keepalive_at = None;
            if !env.stopping {
                self.send_keepalive(env);
            }
        }
        let due = match self.flow.as_mut() {
            Some(flow) => flow.due(env.now, env.ids),
            None => FlowDue::Nothing,
        };
        match due {
            FlowDue::Nothing => {}
            FlowDue::Ping => self.actions.push_back(RegAction::Raw {
                to: env.line.registrar_peer(),
                bytes: Bytes::from_static(b"\r\n\r\n"),
            }),
            FlowDue::Dead => {
                let peer = env.line.registrar_peer();
                tracing::warn!(line = %env.line.cfg.user, %peer, "flow answered no keep-alive (RFC 5626 §4.4.1): closing it, registering again");
                self.actions.push_back(RegAction::Close(peer));
                self.recover_flow(env);
            }
        }
    }

    /// A connection closed or answered a ping: if it is this line's flow, keep track.
    pub fn handle_flow_event(&mut self, env: &mut RegEnv<'_>, event: FlowEvent) {
        let ours = env.line.registrar_peer();
        match event {
            FlowEvent::Pong(peer) if peer == ours => {
                if let Some(flow) = self.flow.as_mut() {
                    flow.on_pong();
                }
            }
            FlowEvent::Closed(peer)
                if peer == ours
                    && self.flow.is_some()
                    && self.state == RegState::Registered
                    && !env.stopping =>
            {
                tracing::info!(line = %env.line.cfg.user, %peer, "registration flow closed: registering over a new connection (RFC 5626 §4.5)");
                self.recover_flow(env);
            }
            _ => {}
        }
    }

    /// §4.5: register again over a new flow, at once or after the back-off. The binding stays
    /// (same Contact, instance and reg-id), so the line stays in service meanwhile.
    fn recover_flow(&mut self, env: &mut RegEnv<'_>) {
        let Some(flow) = self.flow.as_mut() else {
            return;
        };
        let delay = flow.on_failed(env.now, env.ids);
        if delay.is_zero() {
            self.send_register(env, self.expires);
        } else {
            tracing::info!(line = %env.line.cfg.user, wait_s = delay.as_secs(), "flows keep failing: waiting before the next registration");
            self.state = RegState::Failed;
            self.next_at = Some(env.now + delay);
        }
    }

    /// A response to one of our REGISTERs.
    pub fn handle_response(&mut self, env: &mut RegEnv<'_>, key: &ClientTxKey, response: Response) {
        if self.tx.as_ref() != Some(key) || response.is_provisional() {
            return;
        }
        let unregistering = self.state == RegState::Unregistering;
        match response.status {
            200..=299 if unregistering => self.state = RegState::Off,
            200..=299 => self.on_registered(env, &response),
            401 | 407 => self.on_challenge(env, &response),
            423 => self.on_interval_too_brief(env, &response),
            status => {
                tracing::warn!(line = %env.line.cfg.user, status, "registration failed");
                self.on_failure(env);
            }
        }
    }

    /// Timer F or a transport error on our REGISTER.
    pub fn handle_failure(&mut self, env: &mut RegEnv<'_>, key: &ClientTxKey) {
        if self.tx.as_ref() == Some(key) {
            self.on_failure(env);
        }
    }

    /// Graceful stop: un-REGISTER a registered line.
    pub fn stop(&mut self, env: &mut RegEnv<'_>) {
        self.keepalive_at = None;
        self.next_at = None;
        if let Some(flow) = self.flow.as_mut() {
            flow.stop();
        }
        if self.is_registered() {
            self.send_register(env, 0);
        } else {
            self.state = RegState::Off;
        }
    }

    fn send_register(&mut self, env: &mut RegEnv<'_>, expires: u32) {
        if self.call_id.is_none() {
            let host = env.ua().sent_by().0.to_string();
            self.call_id = Some(env.ids.call_id(&host));
            self.from_tag = env.ids.tag();
        }
        self.cseq += 1;
        let aor = env.line.aor();
        let mut registrar = aor.clone();
        registrar.user = None;
        let from = env.line.our_identity().with_tag(&self.from_tag);
        let to = NameAddr::new(aor);
        let call_id = self.call_id.clone().unwrap_or_default();
        let ua = Ua::new(env.sip, env.line);
        let mut request = ua.out_of_dialog_request(
            env.ids,
            Method::Register,
            registrar,
            from,
            to,
            call_id,
            self.cseq,
        );
        request.headers.expires = Some(expires);
        if let (Some(cached), Some(creds)) = (self.cached.take(), credentials(&env.line.cfg)) {
            // Pre-emptive credentials: the nonce reused with the next count.
            self.cached = Some(sign(env.ids, &mut request, &creds, cached));
        }
        self.auth_attempts = 0;
        self.dispatch(env, request, expires == 0);
    }

    fn dispatch(&mut self, env: &RegEnv<'_>, request: Request, unregister: bool) {
        let to = env.line.registrar_peer();
        self.cseq = request.headers.cseq.seq;
        self.tx = ClientTxKey::for_request(&request);
        self.last_request = Some(request.clone());
        self.state = if unregister {
            RegState::Unregistering
        } else {
            RegState::Pending
        };
        self.actions.push_back(RegAction::Send {
            request: Box::new(request),
            to,
        });
    }

    fn on_challenge(&mut self, env: &mut RegEnv<'_>, response: &Response) {
        let (attempts, unregistering) = (self.auth_attempts, self.state == RegState::Unregistering);
        let Some(request) = self.last_request.clone() else {
            return;
        };
        let ua = Ua::new(env.sip, env.line);
        match authenticated_retry(ua, env.ids, &request, response, attempts) {
            Some((retry, cached)) => {
                self.cached = Some(cached);
                self.dispatch(env, retry, unregistering);
                self.auth_attempts = attempts + 1;
            }
            None => {
                self.cached = None;
                self.on_failure(env);
            }
        }
    }

    /// 423 (RFC 3261 §10.2.8): retry with the registrar's Min-Expires.
    fn on_interval_too_brief(&mut self, env: &mut RegEnv<'_>, response: &Response) {
        let min = response
            .headers
            .get("Min-Expires")
            .and_then(|v| v.trim().parse::<u32>().ok());
        match min {
            Some(min) if self.min_expires_retries < 3 && min > self.expires => {
                self.min_expires_retries += 1;
                self.expires = min;
                self.send_register(env, min);
            }
            _ => self.on_failure(env),
        }
    }

    fn on_registered(&mut self, env: &mut RegEnv<'_>, response: &Response) {
        let granted = self.granted_expiry(env, response);
        if self.learn_public_address(env, response) {
            // Our Contact was wrong: register the right one at once (RFC 3581 §9 style).
            self.send_register(env, self.expires);
            return;
        }
        self.state = RegState::Registered;
        self.failures = 0;
        self.min_expires_retries = 0;
        self.next_at = Some(env.now + refresh_delay(granted));
        if let Some(flow) = self.flow.as_mut() {
            let flow_timer = response
                .headers
                .get("Flow-Timer")
                .and_then(|v| v.trim().parse().ok());
            flow.on_registered(env.now, flow_timer, env.ids);
        }
        tracing::info!(line = %env.line.cfg.user, granted, "registered");
        self.set_in_service(true);
    }

    /// The expiry granted for our binding: its Contact's `expires`, else Expires, else ours.
    fn granted_expiry(&self, env: &RegEnv<'_>, response: &Response) -> u32 {
        let ours = env.ua().contact().uri;
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
            .unwrap_or(self.expires)
    }

    /// Takes `received`/`rport` of our Via in the response as our public address on UDP;
    /// true when it changed what we advertise. On TCP/TLS the `rport` is the source port of
    /// our connection, no listener: nothing is learnt, and a `received` naming another
    /// address than ours (a NAT) is only noted, since requests reach us over the flow.
    fn learn_public_address(&mut self, env: &mut RegEnv<'_>, response: &Response) -> bool {
        let Some(via) = response.headers.via.first() else {
            return false;
        };
        let Some(ip) = via.received().and_then(|r| r.parse().ok()) else {
            return false;
        };
        if env.line.cfg.transport.is_connection_oriented() {
            if env.ua().sent_by().0 != Host::Ip(ip) && !self.nat_noted {
                self.nat_noted = true;
                tracing::info!(line = %env.line.cfg.user, received = %ip, "the registrar sees another address (NAT): inbound requests rely on the registration's flow");
            }
            return false;
        }
        let port = via.rport().flatten().unwrap_or(env.sip.advertised_port);
        let seen = (Host::Ip(ip), port);
        if env.ua().sent_by() == seen {
            return false;
        }
        tracing::info!(line = %env.line.cfg.user, address = %format!("{}:{}", seen.0, seen.1), "learnt our public address");
        env.line.public_address = Some(seen);
        true
    }

    fn on_failure(&mut self, env: &mut RegEnv<'_>) {
        if self.state == RegState::Unregistering || env.stopping {
            self.state = RegState::Off;
            return;
        }
        self.state = RegState::Failed;
        self.failures += 1;
        let delay = backoff(self.failures);
        let jitter = env.ids.below(delay.as_millis() as u64 / 5 + 1);
        self.next_at = Some(env.now + delay + Duration::from_millis(jitter));
        self.set_in_service(false);
    }

    fn set_in_service(&mut self, in_service: bool) {
        if self.in_service == in_service {
            return;
        }
        self.in_service = in_service;
        let state = if in_service {
            LineDevStates::INSERVICE
        } else {
            LineDevStates::OUTOFSERVICE
        };
        self.actions
            .push_back(RegAction::Event(ProviderEvent::LineDevState {
                device: self.device,
                state,
                param2: 0,
                param3: 0,
            }));
    }

    /// RFC 5626 §4.4.1 CRLF keep-alive towards the registrar (keeps NAT bindings open).
    fn send_keepalive(&mut self, env: &RegEnv<'_>) {
        self.actions.push_back(RegAction::Raw {
            to: env.line.registrar_peer(),
            bytes: Bytes::from_static(b"\r\n\r\n"),
        });
        if let Some(interval) = self.keepalive {
            self.keepalive_at = Some(env.now + interval);
        }
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
