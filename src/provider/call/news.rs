//! What related calls tell each other: a consultation call and its original (lineSetupTransfer,
//! lineCompleteTransfer, lineUnhold), a call placed for a REFER and the call that was referred,
//! a call taken over by an INVITE with Replaces.

use crate::tapi::{CallId, DisconnectMode};

use super::hold::Goal;
use super::{Call, CallEnv, Phase, Relation};

/// News from one call to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// The consultation call ended: the original is resumed (tapi.md §6).
    ConsultEnded,
    /// lineUnhold on the original: the consultation call goes IDLE.
    DropConsult,
    /// The attended transfer this consultation call served is complete: it is cleared
    /// without DISCONNECTED.
    Transferred,
    /// The call our peer referred us to has this status (NOTIFYed, RFC 3515 §2.4.4).
    ReferProgress { status: u16, reason: String },
    /// An INVITE with Replaces took this call over (RFC 3891): BYE, DISCONNECTED(NORMAL).
    Replaced,
}

impl Call {
    /// News from call `from`.
    pub fn handle_news(&mut self, env: &mut CallEnv<'_>, from: CallId, news: News) {
        if !self.is_live() {
            return;
        }
        match news {
            News::ConsultEnded => {
                if self.related == Some(Relation::ConsultedBy(from)) {
                    self.related = None;
                    self.resume_after_consult(env);
                }
            }
            News::DropConsult | News::Transferred => {
                self.related = None;
                self.transferred = true;
                self.hang_up(env);
            }
            News::ReferProgress { status, reason } => self.notify_refer(env, status, &reason),
            News::Replaced => {
                if self.phase == Phase::Connected {
                    self.send_bye(env);
                }
                self.end(env, Some(DisconnectMode::NORMAL));
            }
        }
    }

    /// The original of a transfer whose consultation call ended: CONNECTED again after an
    /// unhold of our own (no TAPI request), or at once if the hold never completed.
    fn resume_after_consult(&mut self, env: &mut CallEnv<'_>) {
        if self.hold.local && self.may_reinvite() {
            self.start_reinvite(env, Goal::Unhold, None);
        } else {
            self.report_settled();
        }
    }

    /// Tells the original of this consultation call that it has ended.
    pub(super) fn tell_original_of_end(&mut self) {
        if let Some(Relation::ConsultFor(original)) = self.related.take() {
            self.tell(original, News::ConsultEnded);
        }
    }
}
