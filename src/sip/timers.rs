//! RFC 3261 timer base values (§17.1.1.1, Table 4 of §A) shared by every SIP state machine.

use std::time::Duration;

/// T1, T2 and T4; every RFC 3261 timer is derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate (default 500 ms).
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses (default 4 s).
    pub t2: Duration,
    /// Maximum duration a message remains in the network (default 5 s).
    pub t4: Duration,
}

impl TimerConfig {
    /// 64*T1: Timers B, F, H, J (unreliable) and the 2xx retransmission limit of §13.3.1.4.
    pub fn timeout_64t1(&self) -> Duration {
        self.t1 * 64
    }
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_millis(4000),
            t4: Duration::from_millis(5000),
        }
    }
}
