//! Early media on outbound calls: the SDP of a 18x, reliable or not, becomes the call's remote
//! media at once (lineGetCallInfo `remoteMedia` and `codec` show it before the 200), and the
//! 2xx's SDP is then handled as RFC 3261 §13.2.1 and RFC 3264 say:
//!
//! - after a reliable (PRACKed) 18x with SDP, offer/answer is complete: that answer counts, a
//!   later 18x's or the 2xx's SDP is ignored (logged when it differs);
//! - after an unreliable 18x, the SDP was only a preview: the 2xx's SDP is the answer and
//!   replaces it; a 2xx without SDP keeps the 18x's (lenient: some gateways send it once);
//! - a 18x whose SDP we cannot use changes nothing.
//!
//! The call state stays RINGBACK for 180 and 183 alike (the contract's "180/183 -> RINGBACK").

use crate::sdp::{self, SdpError};
use crate::sip::message::Response;

use super::media::EarlyAnswer;
use super::Call;

impl Call {
    /// The SDP (if any) of a 18x to our INVITE.
    pub(super) fn on_early_sdp(&mut self, response: &Response, reliable: bool) {
        if response.body.is_empty() {
            return;
        }
        if self.media.early == Some(EarlyAnswer::Reliable) {
            tracing::debug!(call = %self.id, status = response.status, "SDP after the answer of a reliable 18x: ignored");
            return;
        }
        match sdp::parse_answer(&response.body) {
            Ok(remote) => {
                self.media.set_remote(remote);
                self.media.early = Some(if reliable {
                    EarlyAnswer::Reliable
                } else {
                    EarlyAnswer::Unreliable
                });
            }
            Err(err) => {
                tracing::info!(call = %self.id, status = response.status, %err, "unusable SDP in a 18x")
            }
        }
    }

    /// The 2xx to our INVITE: `Ok` when the call has usable remote media afterwards.
    pub(super) fn take_final_answer(&mut self, response: &Response) -> Result<(), SdpError> {
        if self.media.early == Some(EarlyAnswer::Reliable) {
            if !response.body.is_empty()
                && sdp::parse_answer(&response.body).ok() != self.media.remote
            {
                tracing::debug!(call = %self.id, "the 2xx's SDP differs from the reliable 18x's answer: ignored");
            }
            return Ok(());
        }
        match sdp::parse_answer(&response.body) {
            Ok(remote) => {
                self.media.set_remote(remote);
                Ok(())
            }
            Err(_) if response.body.is_empty() && self.media.early.is_some() => Ok(()),
            Err(err) => Err(err),
        }
    }
}
