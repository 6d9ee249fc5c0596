//! Graceful overload on the API side (issue 17 item 6): when the core task falls behind,
//! new calls are refused at once instead of queueing without bound.
//!
//! "Behind" is measured where it shows: an API input that waited in the core's queue longer
//! than `api.overload_delay_ms` (stamped by the connection task when it read the line), or a
//! queue at least 90% full. Then a lineMakeCall becomes its own refusal,
//! LINEERR_RESOURCEUNAVAIL, answered in order with the connection's other requests; everything
//! else (drops, answers, queries) still goes through, so the calls already up can be handled
//! and the backlog drains. Each shed request is counted (`tapigw_overload_shed_total`) and
//! logged at most every 10 s.
//!
//! The API queue is not the only place the core's lag shows: when SIP datagrams (the 180s and
//! 200s of the calls already placed) wait in the UDP driver's queue, a lineMakeCall still
//! reaches the core at once, its INVITE goes out, and its LINE_REPLY waits behind the queued
//! responses (the load bench saw replies of 0.8-3 s with nothing shed). So a datagram that
//! waited longer than `sip.overload_queue_ms` (the limit past which new INVITEs get 503)
//! also counts: lineMakeCall is shed until a datagram comes through in time again, or none
//! has come for [`SIP_LAG_FRESH`]. A datagram's wait is counted from the kernel's receive
//! timestamp (`SO_TIMESTAMPNS`, `udp_batch`), so it includes the time it sat in the socket's
//! receive buffer before the driver read it, not only the time in the driver's channel.

use std::time::{Duration, Instant};

use crate::api::protocol::fault;
use crate::tapi::server::ClientInput;
use crate::tapi::{Request, LINEERR_RESOURCEUNAVAIL};

const LOG_EVERY: Duration = Duration::from_secs(10);
/// A late datagram stops counting this long after it was taken (no datagram since: no lag seen).
const SIP_LAG_FRESH: Duration = Duration::from_secs(1);

pub struct Shedder {
    delay: Option<Duration>,
    /// `sip.overload_queue_ms`; zero: the SIP side's lag is not looked at.
    sip_queue: Duration,
    /// When the last datagram that waited longer than `sip_queue` was taken, while no
    /// datagram since has come in time.
    sip_late_at: Option<Instant>,
    shed: u64,
    logged: Option<Instant>,
}

impl Shedder {
    /// `delay`: the longest API queue wait accepted; None turns shedding off. `sip_queue`:
    /// the longest wait of a SIP datagram before the core counts as behind (zero: ignored).
    pub fn new(delay: Option<Duration>, sip_queue: Duration) -> Shedder {
        Shedder {
            delay,
            sip_queue,
            sip_late_at: None,
            shed: 0,
            logged: None,
        }
    }

    /// A SIP datagram taken by the core at `now` after waiting `waited` in the driver's queue.
    pub fn note_sip_wait(&mut self, waited: Duration, now: Instant) {
        if self.sip_queue.is_zero() {
            return;
        }
        self.sip_late_at = (waited > self.sip_queue).then_some(now);
    }

    /// Whether the SIP side was behind a moment ago.
    fn sip_behind(&self, now: Instant) -> bool {
        self.sip_late_at
            .is_some_and(|at| now.saturating_duration_since(at) < SIP_LAG_FRESH)
    }

    /// lineMakeCalls refused so far.
    pub fn shed(&self) -> u64 {
        self.shed
    }

    /// The input the core should see: a lineMakeCall that came while the core was behind
    /// becomes its LINEERR_RESOURCEUNAVAIL.
    pub fn admit(
        &mut self,
        input: ClientInput,
        received: Instant,
        now: Instant,
        queued: usize,
        capacity: usize,
    ) -> ClientInput {
        let Some(delay) = self.delay else {
            return input;
        };
        let ClientInput::Request {
            conn,
            tag,
            request: Request::LineMakeCall { .. },
        } = &input
        else {
            return input;
        };
        let waited = now.saturating_duration_since(received);
        let full = queued.saturating_mul(10) >= capacity.saturating_mul(9);
        if waited <= delay && !full && !self.sip_behind(now) {
            return input;
        }
        self.shed += 1;
        if self
            .logged
            .is_none_or(|at| now.saturating_duration_since(at) >= LOG_EVERY)
        {
            self.logged = Some(now);
            tracing::warn!(
                waited_ms = waited.as_millis() as u64,
                queued,
                sip_behind = self.sip_behind(now),
                shed = self.shed,
                "core behind: lineMakeCall refused (LINEERR_RESOURCEUNAVAIL)"
            );
        }
        let err = LINEERR_RESOURCEUNAVAIL;
        ClientInput::Rejected {
            conn: *conn,
            fault: fault(Some(tag.clone()), err.code(), err.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tapi::{ConnId, HLine, ReplyTag};

    fn make_call() -> ClientInput {
        ClientInput::Request {
            conn: ConnId(1),
            tag: ReplyTag::from(7),
            request: Request::LineMakeCall {
                line: HLine(1),
                dest: "1".into(),
            },
        }
    }

    #[test]
    fn sheds_make_call_only_when_behind() {
        let mut s = Shedder::new(Some(Duration::from_millis(100)), Duration::ZERO);
        let t = Instant::now();
        assert_eq!(
            s.admit(make_call(), t, t + Duration::from_millis(50), 1, 100),
            make_call()
        );
        let late = s.admit(make_call(), t, t + Duration::from_millis(150), 1, 100);
        assert!(matches!(late, ClientInput::Rejected { ref fault, .. }
            if fault.code == LINEERR_RESOURCEUNAVAIL.code() && fault.tag == Some(ReplyTag::from(7))));
        let full = s.admit(make_call(), t, t, 95, 100);
        assert!(matches!(full, ClientInput::Rejected { .. }));
        let other = ClientInput::Disconnected { conn: ConnId(1) };
        assert_eq!(
            s.admit(other.clone(), t, t + Duration::from_secs(9), 99, 100),
            other
        );
        assert_eq!(s.shed(), 2);
        let mut off = Shedder::new(None, Duration::from_millis(1));
        assert_eq!(
            off.admit(make_call(), t, t + Duration::from_secs(9), 99, 100),
            make_call()
        );
    }

    #[test]
    fn sheds_make_call_while_sip_datagrams_wait_too_long() {
        let ms = Duration::from_millis;
        let mut s = Shedder::new(Some(ms(1000)), ms(200));
        let t = Instant::now();
        s.note_sip_wait(ms(150), t);
        assert_eq!(s.admit(make_call(), t, t, 1, 100), make_call());
        s.note_sip_wait(ms(250), t);
        let late = s.admit(make_call(), t, t + ms(10), 1, 100);
        assert!(matches!(late, ClientInput::Rejected { .. }));
        // A datagram in time again ends it; so does a second without any datagram.
        s.note_sip_wait(ms(10), t + ms(20));
        assert_eq!(s.admit(make_call(), t, t + ms(30), 1, 100), make_call());
        s.note_sip_wait(ms(300), t + ms(40));
        let stale = t + ms(40) + SIP_LAG_FRESH;
        assert_eq!(s.admit(make_call(), stale, stale, 1, 100), make_call());
        assert_eq!(s.shed(), 1);
        // sip.overload_queue_ms = 0: the SIP side is not looked at.
        let mut off = Shedder::new(Some(ms(1000)), Duration::ZERO);
        off.note_sip_wait(Duration::from_secs(5), t);
        assert_eq!(off.admit(make_call(), t, t, 1, 100), make_call());
    }
}
