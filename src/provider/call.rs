//! One call as the provider sees it: its dialog, its phase, the TAPI requests waiting on the
//! network, its media, and the TAPI view (`ProviderCallInfo`, last reported call state).

use std::time::Instant;

use crate::media::MediaLease;
use crate::sdp::{RemoteMedia, SdpOrigin};
use crate::sip::message::{NameAddr, Request, Response, Uri};
use crate::sip::transaction::{ClientTxKey, ServerTxKey};
use crate::sip::transport::Peer;
use crate::tapi::consts::*;
use crate::tapi::{CallId, ProviderCallInfo, RequestId};

/// Where the call is, in SIP terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Outbound INVITE sent, nothing heard yet.
    Calling,
    /// Outbound, a provisional response came (early).
    Early,
    /// Inbound INVITE offered to apps.
    Offering,
    /// Inbound, an app accepted it (lineAccept).
    Accepted,
    /// Inbound, our 2xx is out, waiting for the ACK.
    Answering,
    /// Dialog confirmed.
    Connected,
    /// We sent CANCEL, waiting for the INVITE's final response.
    Cancelling,
    /// We sent BYE, waiting for its response.
    Terminating,
    /// Nothing left on the network (TAPI state DISCONNECTED or IDLE).
    Ended,
}

/// A TAPI request waiting for the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    MakeCall,
    Answer,
    Drop,
    Redirect,
}

/// RFC 3261 §12 dialog state (early or confirmed).
#[derive(Debug, Clone)]
pub struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: Option<String>,
    /// Our From (outbound) / To (inbound) with our tag.
    pub local: NameAddr,
    /// The peer's To (outbound) / From (inbound), with its tag once known.
    pub remote: NameAddr,
    /// Where in-dialog requests go (the peer's Contact), §12.1.
    pub remote_target: Uri,
    /// Route set, in the order in-dialog requests list it (§12.1.1 / §12.1.2).
    pub route_set: Vec<NameAddr>,
    pub local_cseq: u32,
    pub remote_cseq: Option<u32>,
}

/// Retransmission of a 2xx to an INVITE until its ACK (RFC 3261 §13.3.1.4).
#[derive(Debug, Clone)]
pub struct Uas2xx {
    pub response: Response,
    pub destination: Peer,
    pub interval: std::time::Duration,
    pub next: Instant,
    pub give_up: Instant,
    /// True for the answer to the initial INVITE (a timeout ends the call).
    pub initial: bool,
}

/// A call.
pub struct Call {
    pub id: CallId,
    pub line: usize,
    pub phase: Phase,
    /// Last LINECALLSTATE_ reported to TAPISRV (0 before the first).
    pub tapi_state: u32,
    pub dialog: Dialog,
    /// Where requests for this call go (line proxy, or the inbound INVITE's source).
    pub peer: Peer,
    /// Outbound: the INVITE as last sent (CANCEL and auth retries are derived from it).
    pub invite: Option<Box<Request>>,
    pub invite_tx: Option<ClientTxKey>,
    /// Inbound: the INVITE and its server transaction.
    pub remote_invite: Option<Box<Request>>,
    pub server_tx: Option<ServerTxKey>,
    pub pending: Vec<(RequestId, Op)>,
    /// Outbound: lineDrop came before any provisional; CANCEL when one arrives (§9.1).
    pub cancel_on_provisional: bool,
    /// Inbound: lineDrop came while our 2xx waits for its ACK; BYE once it arrives (§15).
    pub hangup_on_ack: bool,
    /// Outbound: the ACK for the 2xx, re-sent for each retransmitted 2xx (§13.2.2.4).
    pub ack: Option<(bytes::Bytes, Peer)>,
    pub uas_2xx: Option<Box<Uas2xx>>,
    /// Outbound: authentication retries done for the INVITE.
    pub auth_attempts: u32,
    pub media: Option<MediaLease>,
    /// Our RTP address, kept after the lease is returned (lineGetCallInfo after IDLE).
    pub local_rtp: Option<std::net::SocketAddr>,
    pub sdp_origin: SdpOrigin,
    pub local_sdp: Option<String>,
    pub remote_media: Option<RemoteMedia>,
    /// What TAPI may ask that is not derived from the dialog and media state (see
    /// `SipProvider::call_info`, which fills in Call-ID, codec and media addresses).
    pub info: ProviderCallInfo,
    /// Deadline after our CANCEL (§9.1), if one is out.
    pub cancel_deadline: Option<Instant>,
    /// TAPI holds no handle any more: no events, removed once it has ended.
    pub released: bool,
}

impl Call {
    /// Takes the pending request of kind `op`, if any.
    pub fn take_pending(&mut self, op: Op) -> Option<RequestId> {
        let index = self.pending.iter().position(|(_, o)| *o == op)?;
        Some(self.pending.remove(index).0)
    }

    pub fn has_pending(&self, op: Op) -> bool {
        self.pending.iter().any(|(_, o)| *o == op)
    }

    pub fn is_live(&self) -> bool {
        self.phase != Phase::Ended
    }

    /// Next CSeq for a request we send in this dialog (§12.2.1.1).
    pub fn next_cseq(&mut self) -> u32 {
        self.dialog.local_cseq += 1;
        self.dialog.local_cseq
    }
}

/// The LINEDISCONNECTMODE_ for a final failure response (api.md "SIP to TAPI").
pub fn disconnect_mode(status: u16) -> u32 {
    match status {
        486 | 600 => LINEDISCONNECTMODE_BUSY,
        603 => LINEDISCONNECTMODE_REJECT,
        403 => LINEDISCONNECTMODE_BLOCKED,
        404 | 484 | 604 => LINEDISCONNECTMODE_BADADDRESS,
        410 => LINEDISCONNECTMODE_NUMBERCHANGED,
        408 | 480 => LINEDISCONNECTMODE_NOANSWER,
        488 | 606 => LINEDISCONNECTMODE_INCOMPATIBLE,
        502 => LINEDISCONNECTMODE_OUTOFORDER,
        503 => LINEDISCONNECTMODE_CONGESTION,
        500..=599 => LINEDISCONNECTMODE_TEMPFAILURE,
        _ => LINEDISCONNECTMODE_UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disconnect_modes_follow_the_spec_table() {
        assert_eq!(disconnect_mode(486), LINEDISCONNECTMODE_BUSY);
        assert_eq!(disconnect_mode(600), LINEDISCONNECTMODE_BUSY);
        assert_eq!(disconnect_mode(603), LINEDISCONNECTMODE_REJECT);
        assert_eq!(disconnect_mode(403), LINEDISCONNECTMODE_BLOCKED);
        for s in [404, 484, 604] {
            assert_eq!(disconnect_mode(s), LINEDISCONNECTMODE_BADADDRESS);
        }
        assert_eq!(disconnect_mode(410), LINEDISCONNECTMODE_NUMBERCHANGED);
        assert_eq!(disconnect_mode(408), LINEDISCONNECTMODE_NOANSWER);
        assert_eq!(disconnect_mode(480), LINEDISCONNECTMODE_NOANSWER);
        assert_eq!(disconnect_mode(488), LINEDISCONNECTMODE_INCOMPATIBLE);
        assert_eq!(disconnect_mode(606), LINEDISCONNECTMODE_INCOMPATIBLE);
        assert_eq!(disconnect_mode(502), LINEDISCONNECTMODE_OUTOFORDER);
        assert_eq!(disconnect_mode(503), LINEDISCONNECTMODE_CONGESTION);
        assert_eq!(disconnect_mode(500), LINEDISCONNECTMODE_TEMPFAILURE);
        assert_eq!(disconnect_mode(504), LINEDISCONNECTMODE_TEMPFAILURE);
        assert_eq!(disconnect_mode(402), LINEDISCONNECTMODE_UNKNOWN);
        assert_eq!(disconnect_mode(302), LINEDISCONNECTMODE_UNKNOWN);
    }
}
