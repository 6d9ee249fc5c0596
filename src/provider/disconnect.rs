//! The LINEDISCONNECTMODE_ for a SIP final failure response (api.md "SIP to TAPI").

use crate::tapi::DisconnectMode;

/// The disconnect mode apps see for a final failure `status` to our INVITE.
pub fn disconnect_mode(status: u16) -> DisconnectMode {
    match status {
        486 | 600 => DisconnectMode::BUSY,
        603 => DisconnectMode::REJECT,
        403 => DisconnectMode::BLOCKED,
        404 | 484 | 604 => DisconnectMode::BADADDRESS,
        410 => DisconnectMode::NUMBERCHANGED,
        408 | 480 => DisconnectMode::NOANSWER,
        488 | 606 => DisconnectMode::INCOMPATIBLE,
        502 => DisconnectMode::OUTOFORDER,
        503 => DisconnectMode::CONGESTION,
        500..=599 => DisconnectMode::TEMPFAILURE,
        _ => DisconnectMode::UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disconnect_modes_follow_the_spec_table() {
        assert_eq!(disconnect_mode(486), DisconnectMode::BUSY);
        assert_eq!(disconnect_mode(600), DisconnectMode::BUSY);
        assert_eq!(disconnect_mode(603), DisconnectMode::REJECT);
        assert_eq!(disconnect_mode(403), DisconnectMode::BLOCKED);
        for s in [404, 484, 604] {
            assert_eq!(disconnect_mode(s), DisconnectMode::BADADDRESS);
        }
        assert_eq!(disconnect_mode(410), DisconnectMode::NUMBERCHANGED);
        assert_eq!(disconnect_mode(408), DisconnectMode::NOANSWER);
        assert_eq!(disconnect_mode(480), DisconnectMode::NOANSWER);
        assert_eq!(disconnect_mode(488), DisconnectMode::INCOMPATIBLE);
        assert_eq!(disconnect_mode(606), DisconnectMode::INCOMPATIBLE);
        assert_eq!(disconnect_mode(502), DisconnectMode::OUTOFORDER);
        assert_eq!(disconnect_mode(503), DisconnectMode::CONGESTION);
        assert_eq!(disconnect_mode(500), DisconnectMode::TEMPFAILURE);
        assert_eq!(disconnect_mode(504), DisconnectMode::TEMPFAILURE);
        assert_eq!(disconnect_mode(402), DisconnectMode::UNKNOWN);
        assert_eq!(disconnect_mode(302), DisconnectMode::UNKNOWN);
    }
}
