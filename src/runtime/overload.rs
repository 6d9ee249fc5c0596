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

use std::time::{Duration, Instant};

use crate::api::protocol::fault;
use crate::tapi::server::ClientInput;
use crate::tapi::{Request, LINEERR_RESOURCEUNAVAIL};

const LOG_EVERY: Duration = Duration::from_secs(10);

pub struct Shedder {
    delay: Option<Duration>,
    shed: u64,
    logged: Option<Instant>,
}

impl Shedder {
    /// `delay`: the longest queue wait accepted; None turns shedding off.
    pub fn new(delay: Option<Duration>) -> Shedder {
        Shedder {
            delay,
            shed: 0,
            logged: None,
        }
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
        if waited <= delay && !full {
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
        let mut s = Shedder::new(Some(Duration::from_millis(100)));
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
        let mut off = Shedder::new(None);
        assert_eq!(
            off.admit(make_call(), t, t + Duration::from_secs(9), 99, 100),
            make_call()
        );
    }
}
