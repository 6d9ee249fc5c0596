//! LINECALLFEATURE_: which functions an owner may call on the call now (lineGetCallStatus
//! dwCallFeatures), derived from the phase and what is in flight.

use crate::tapi::CallFeatures;

use super::{Call, Op, Phase, Relation};

impl Call {
    /// The call features valid now for an owner of the call.
    pub fn features(&self) -> CallFeatures {
        self.signalling_features() | self.media_features()
    }

    fn signalling_features(&self) -> CallFeatures {
        match self.phase {
            Phase::DialTone => CallFeatures::DIAL | CallFeatures::DROP,
            Phase::Offering => {
                CallFeatures::ACCEPT
                    | CallFeatures::ANSWER
                    | CallFeatures::DROP
                    | CallFeatures::REDIRECT
            }
            Phase::Accepted => CallFeatures::ANSWER | CallFeatures::DROP | CallFeatures::REDIRECT,
            Phase::Calling { .. } | Phase::Early | Phase::Answering { .. } => {
                if self.has_pending(Op::Drop) {
                    CallFeatures::NONE
                } else {
                    CallFeatures::DROP
                }
            }
            Phase::Connected => self.connected_features(),
            Phase::Cancelling | Phase::Terminating => CallFeatures::NONE,
            Phase::Ended if matches!(self.state, Some(crate::tapi::CallState::Disconnected(_))) => {
                CallFeatures::DROP
            }
            Phase::Ended => CallFeatures::NONE,
        }
    }

    fn connected_features(&self) -> CallFeatures {
        let mut f = CallFeatures::DROP;
        if !self.may_reinvite() {
            return f;
        }
        f |= CallFeatures::BLINDTRANSFER;
        if self.hold.local {
            f |= CallFeatures::UNHOLD;
            if matches!(self.related, Some(Relation::ConsultedBy(_))) {
                f |= CallFeatures::COMPLETETRANSF;
            }
        } else {
            f |= CallFeatures::HOLD;
            if self.related.is_none() {
                f |= CallFeatures::SETUPTRANSFER;
            }
        }
        f
    }
}
