//! A call and the journal (`crate::journal`): what a call whose dialog is up records about
//! itself, and the call rebuilt from such a record after a crash, which either ends the dialog
//! with BYE at once or keeps it: a re-INVITE with our same SDP session (a higher version)
//! refreshes it, and apps find it with lineGetNewCalls.
//!
//! A dialog counts as up from our 2xx (inbound) or the peer's 2xx (outbound) until nothing of
//! it is left on the network (our BYE answered or given up, the peer's BYE answered).

use crate::journal::{DialogRecord, SdpState};
use crate::sdp::SdpOrigin;
use crate::sip::codec;
use crate::sip::message::WriteWire;
use crate::sip::transport::{Peer, Transport};
use crate::tapi::{CallId, CallOrigin, CallReason, DeviceId, MediaModes};

use super::dialog::{Dialog, DialogKey};
use super::hold::{Goal, Hold};
use super::media::CallMedia;
use super::uac::Uac;
use super::uas::Uas;
use super::CallParties;
use super::{Call, CallEnv, Leg, Phase};

/// Added to the journaled CSeq after a restart: a request we sent just before the crash may
/// not have reached the journal, and CSeq must go up in the dialog (RFC 3261 §12.2.1.1; gaps
/// are allowed).
const CSEQ_MARGIN: u32 = 100;

/// A journal record that does not describe a usable dialog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("journal record for Call-ID {call_id}: bad {what}")]
pub struct BadRecord {
    pub call_id: String,
    pub what: &'static str,
}

/// What to do with a dialog found in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// BYE, no TAPI events.
    End,
    /// Re-INVITE to refresh it; TAPI learns of it (lineGetNewCalls).
    Keep,
}

impl Call {
    /// The journal record of this call while its dialog is up, else `None`. `line` is the
    /// line's `user`.
    pub fn journal_record(&self, line: &str) -> Option<DialogRecord> {
        let up = matches!(
            self.phase,
            Phase::Answering { .. } | Phase::Connected | Phase::Terminating
        );
        let remote_tag = self.dialog.remote_tag.clone().filter(|_| up)?;
        let d = &self.dialog;
        Some(DialogRecord {
            call_id: d.key.call_id.clone(),
            local_tag: d.key.local_tag.clone(),
            remote_tag,
            local: wire_text(&d.local),
            remote: wire_text(&d.remote),
            remote_target: wire_text(&d.remote_target),
            route_set: d.route_set.iter().map(wire_text).collect(),
            local_cseq: d.local_cseq,
            transport: self.peer.transport.via_token().to_string(),
            peer: self.peer.addr,
            line: line.to_string(),
            outbound: matches!(self.leg, Leg::Uac(_)),
            sdp: SdpState {
                session_id: self.media.origin.session_id,
                version: self.media.origin.session_version,
                local_rtp: self.media.local_rtp,
                held_local: self.hold.local,
                held_remote: self.hold.remote,
            },
            caller_id: self.info.caller_id.clone(),
            caller_id_name: self.info.caller_id_name.clone(),
            called_id: self.info.called_id.clone(),
            called_id_name: self.info.called_id_name.clone(),
        })
    }

    /// The call of a journaled dialog on `line`. With [`Recovery::End`] it sends BYE at once
    /// and reports nothing to TAPI; with [`Recovery::Keep`] it is connected (its state is
    /// reported once TAPISRV knows the call) and sends a re-INVITE. Keeping needs an RTP port
    /// pair: without one the dialog is ended instead.
    pub fn recovered(
        id: CallId,
        line: usize,
        env: &mut CallEnv<'_>,
        record: &DialogRecord,
        recovery: Recovery,
    ) -> Result<(Call, Recovery), BadRecord> {
        let dialog = dialog_of(record)?;
        let transport = Transport::from_via_token(&record.transport).ok_or(BadRecord {
            call_id: record.call_id.clone(),
            what: "transport",
        })?;
        let peer = Peer {
            transport,
            addr: record.peer,
        };
        let origin = SdpOrigin {
            session_id: record.sdp.session_id,
            session_version: record.sdp.version,
            address: record.sdp.local_rtp.map_or(record.peer.ip(), |a| a.ip()),
        };
        let mut media = CallMedia::new(origin);
        let recovery = match recovery {
            Recovery::Keep => match env.media.allocate() {
                Ok(lease) => {
                    media.adopt(lease);
                    Recovery::Keep
                }
                Err(err) => {
                    tracing::warn!(%err, call_id = %record.call_id, "no RTP port to keep a recovered call: ending it");
                    Recovery::End
                }
            },
            Recovery::End => Recovery::End,
        };
        let leg = if record.outbound {
            Leg::Uac(Box::new(Uac {
                invite: None,
                invite_tx: None,
                auth_attempts: 0,
                ack: None,
                rseqs: Vec::new(),
            }))
        } else {
            Leg::Uas(Box::new(Uas {
                invite: None,
                server_tx: None,
                no_answer: None,
                ring: None,
                reliable: None,
                answer_after_prack: None,
            }))
        };
        let info = CallParties {
            device: DeviceId(line as u32),
            media_mode: MediaModes::INTERACTIVEVOICE,
            origin: if record.outbound {
                CallOrigin::OUTBOUND
            } else {
                CallOrigin::INBOUND
            },
            reason: CallReason::DIRECT,
            caller_id: record.caller_id.clone(),
            caller_id_name: record.caller_id_name.clone(),
            called_id: record.called_id.clone(),
            called_id_name: record.called_id_name.clone(),
            ..CallParties::default()
        };
        let mut call = Call::blank(id, line, leg, Phase::Connected, dialog, peer, media, info);
        call.hold = Hold {
            local: record.sdp.held_local,
            remote: record.sdp.held_remote,
        };
        match recovery {
            Recovery::End => {
                call.released = true;
                call.send_bye(env);
            }
            Recovery::Keep => {
                call.report_state(call.settled_state());
                // RFC 4028's refresh: the same hold state, our session at its next version.
                call.start_reinvite(env, Goal::Refresh, None);
            }
        }
        Ok((call, recovery))
    }
}

/// A header value's text as `to_string` gives it, written straight into a `String` with room
/// for a typical name-addr: `to_string` goes through `fmt::Formatter` and grows the `String`
/// from nothing, about twice the instructions.
fn wire_text(value: &impl WriteWire) -> String {
    let mut text = String::with_capacity(96);
    // Writing into a String cannot fail.
    let _ = value.write_wire(&mut text);
    text
}

/// The dialog a record describes (§12.2.1.1 needs all of it).
fn dialog_of(record: &DialogRecord) -> Result<Dialog, BadRecord> {
    let bad = |what| BadRecord {
        call_id: record.call_id.clone(),
        what,
    };
    let route_set = record
        .route_set
        .iter()
        .map(|r| codec::parse_name_addr(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad("route set"))?;
    Ok(Dialog {
        key: DialogKey {
            call_id: record.call_id.clone(),
            local_tag: record.local_tag.clone(),
        },
        remote_tag: Some(record.remote_tag.clone()),
        local: codec::parse_name_addr(&record.local).map_err(|_| bad("local URI"))?,
        remote: codec::parse_name_addr(&record.remote).map_err(|_| bad("remote URI"))?,
        remote_target: codec::parse_uri(&record.remote_target).map_err(|_| bad("remote target"))?,
        route_set,
        local_cseq: record.local_cseq.saturating_add(CSEQ_MARGIN),
        remote_cseq: None,
    })
}
