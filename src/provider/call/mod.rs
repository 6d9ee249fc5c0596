//! One call as its own state machine, under the provider that routes to it (quinn-proto's
//! `Connection` under its `Endpoint` is the model).
//!
//! The provider hands a call the responses and failures of the client transactions it started
//! (tagged with their [`Purpose`]), the requests of its dialog, the CANCEL and ACK of its
//! INVITE, TAPI's requests, news from related calls, and its timer. The call answers with
//! [`Action`]s, drained with [`Call::poll_action`] (requests to send on new client
//! transactions, responses, raw bytes, TAPI events, news for another call), and tells its next
//! deadline with [`Call::poll_timeout`]. While it handles an input it may use the services in
//! [`CallEnv`] (fresh tags and branches, media ports, what the line says about us); it never
//! touches transactions, sockets or the clock itself.
//!
//! What only one direction needs lives in its leg ([`uac::Uac`], [`uas::Uas`]); what only one
//! phase needs lives in its [`Phase`]; what a confirmed dialog can do (hold, transfer) has its
//! own state. Files: `uac` (outbound INVITE, CANCEL, ACK, auth retries, lineDial), `uas`
//! (offer, accept, answer with 2xx retransmission, reject, redirect, forwarding on no answer,
//! the caller's CANCEL), `in_dialog` (BYE, re-INVITE/UPDATE, INFO ... from the peer; our BYE),
//! `hold` (our re-INVITEs and UPDATEs: hold, unhold, session refresh, glare), `transfer`
//! (REFER both ways, NOTIFY), `news` (what related calls tell each other), `media` (SDP and the
//! RTP lease), `early_media` (the SDP of 18x responses), `prack` (RFC 3262 reliable
//! provisionals both ways), `session_timer` (RFC 4028), `report` (TAPI states, completions,
//! the end of the call), `features` (LINECALLFEATURE_ now valid), `dialog` (RFC 3261 §12
//! state), `recovery` (the call journal's record, and calls rebuilt from it after a crash),
//! `stream` (its RTP session in the media engine: open/update/close, digits, tones, files),
//! `dtmf_info` (DTMF by SIP INFO both ways).

pub mod dialog;
mod dtmf_info;
mod early_media;
mod features;
mod hold;
mod in_dialog;
mod media;
mod news;
mod prack;
mod recovery;
mod report;
mod session_timer;
mod stream;
mod transfer;
mod uac;
mod uas;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use crate::media::MediaAllocator;
use crate::sip::message::{Request, Response, Uri};
use crate::sip::transaction::{ClientTxKey, ServerTxKey};
use crate::sip::transport::Peer;
use crate::tapi::{
    CallId, CallOp, CallState, DialToneMode, LineErr, ProviderCallInfo, ProviderEvent, RequestId,
    LINEERR_INVALCALLSTATE,
};

use super::build::Ua;
use super::ids::IdGen;

pub use dialog::{Dialog, DialogKey};
use hold::{Hold, ReInvite};
use media::CallMedia;
pub use news::News;
pub use recovery::{BadRecord, Recovery};
use session_timer::SessionTimer;
pub use transfer::ReferTarget;
use transfer::{ReferIn, ReferOut};
use uac::Uac;
pub use uas::RING_PERIOD;
use uas::{Retransmit2xx, Uas};

/// Why a new INVITE for `cfg`'s line is refused before anybody sees it: `(status, header,
/// value)`. 421 when the line requires reliable provisionals the caller cannot do (RFC 3262
/// §3), 422 when the caller asks for a session interval below our Min-SE (RFC 4028 §9).
pub fn refusal(
    invite: &Request,
    cfg: &crate::config::LineConfig,
) -> Option<(u16, &'static str, String)> {
    if prack::refuses_without_100rel(invite, cfg) {
        return Some((421, "Require", "100rel".into()));
    }
    let min_se = cfg.min_se.max(session_timer::FLOOR_SECS);
    session_timer::too_small(invite, min_se).map(|m| (422, "Min-SE", m.to_string()))
}

/// What a call asks its provider to do.
#[derive(Debug)]
pub enum Action {
    /// Send `request` to `to` on a new client transaction; its responses and failures come
    /// back to this call with `purpose`.
    Send {
        request: Box<Request>,
        to: Peer,
        purpose: Purpose,
    },
    /// Answer on one of the call's server transactions.
    Respond {
        tx: ServerTxKey,
        response: Box<Response>,
    },
    /// Bytes outside any transaction (the ACK for a 2xx, 2xx retransmissions).
    Raw { to: Peer, bytes: Bytes },
    /// Something for TAPISRV.
    Event(ProviderEvent),
    /// Something for a related call (its consultation call, the call it transfers ...).
    Tell { call: CallId, news: News },
    /// The peer asked us (REFER) to call `target`: a new outbound call whose progress is
    /// reported back to this one (RFC 3515 §2.4.4).
    Refer { target: Uri },
    /// Something for the media engine (the call's RTP session).
    Media(crate::media::MediaCommand),
}

/// Why a call started a client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Our INVITE (any attempt of it).
    Invite,
    Cancel,
    Bye,
    /// A re-INVITE in the confirmed dialog (hold, unhold, refresh).
    ReInvite,
    /// Our REFER (we transfer the peer).
    Refer,
    /// Our NOTIFY about a REFER the peer sent us.
    Notify,
    /// Our PRACK for a reliable 18x (RFC 3262).
    Prack,
    /// Our INFO with a DTMF digit (RFC 6086).
    Info,
}

/// How a client transaction of the call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxFailure {
    /// Timer B or F: no final response.
    Timeout,
    /// The transport could not deliver (connect refused, reset, unreachable).
    Transport,
}

/// The services a call may use while it handles one input.
pub struct CallEnv<'a> {
    pub now: Instant,
    pub ua: Ua<'a>,
    pub ids: &'a mut IdGen,
    pub media: &'a mut dyn MediaAllocator,
    /// The gateway is stopping: answered calls are hung up at once.
    pub stopping: bool,
}

/// A TAPI request waiting for the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    MakeCall,
    /// lineDial on a consultation call.
    Dial,
    Answer,
    Drop,
    Redirect,
    Hold,
    Unhold,
    Transfer,
}

/// The direction-specific part of a call.
enum Leg {
    Uac(Box<Uac>),
    Uas(Box<Uas>),
}

/// Where the call is, in SIP terms, with what only that phase needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A consultation call before lineDial: nothing on the network yet (DIALTONE).
    DialTone,
    /// Outbound INVITE sent, nothing heard yet. `cancel_when_early`: lineDrop came first, and
    /// CANCEL may only follow a provisional response (§9.1).
    Calling { cancel_when_early: bool },
    /// Outbound, a provisional response came (early).
    Early,
    /// Inbound INVITE offered to apps.
    Offering,
    /// Inbound, an app accepted it (lineAccept).
    Accepted,
    /// Inbound, our 2xx is out, waiting for the ACK. `hang_up`: lineDrop came meanwhile, and
    /// BYE may only follow the ACK (§15).
    Answering { hang_up: bool },
    /// Dialog confirmed.
    Connected,
    /// We sent CANCEL, waiting for the INVITE's final response.
    Cancelling,
    /// We sent BYE, waiting for its response.
    Terminating,
    /// Nothing left on the network (TAPI state DISCONNECTED or IDLE).
    Ended,
}

/// The part of lineGetCallInfo a call stores: who calls whom, and how. The rest of
/// [`ProviderCallInfo`] (Call-ID, codec, media addresses, related call) is derived from the
/// dialog and media state when asked ([`Call::info`]), not kept twice in every live call.
#[derive(Debug, Clone, Default)]
pub struct CallParties {
    pub device: crate::tapi::DeviceId,
    pub media_mode: crate::tapi::MediaModes,
    pub origin: crate::tapi::CallOrigin,
    pub reason: crate::tapi::CallReason,
    pub caller_id: String,
    pub caller_id_name: String,
    pub called_id: String,
    pub called_id_name: String,
    pub connected_id: String,
    pub connected_id_name: String,
}

/// How this call relates to another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The consultation call of a transfer being set up (lineSetupTransfer) on `0`.
    ConsultFor(CallId),
    /// The original call; `0` is its consultation call.
    ConsultedBy(CallId),
    /// A call placed because the peer of `0` referred us (REFER): its progress is NOTIFYed.
    ReferredBy(CallId),
}

/// A call.
pub struct Call {
    pub id: CallId,
    /// Index of its line.
    pub line: usize,
    leg: Leg,
    phase: Phase,
    dialog: Dialog,
    /// Where requests for this call go (the line's proxy, or the inbound INVITE's source).
    peer: Peer,
    media: CallMedia,
    /// What TAPI may ask that the dialog and media state do not already say.
    info: CallParties,
    /// The last state reported to TAPISRV.
    state: Option<CallState>,
    pending: Vec<(RequestId, Op)>,
    /// Our 2xx to an INVITE (the initial one or a re-INVITE), retransmitted until its ACK.
    uas_2xx: Option<Box<Retransmit2xx>>,
    /// Our BYE while it is out, its destination and the authentication attempts made for it.
    last_bye: Option<Box<(Request, Peer, u32)>>,
    /// Who holds whom (RFC 3264 §8.4 directions).
    hold: Hold,
    /// Our re-INVITE in progress.
    reinvite: Option<Box<ReInvite>>,
    /// The ACK of our last answered re-INVITE, for its 2xx's retransmissions.
    reinvite_ack: Option<Box<(ClientTxKey, Bytes, Peer)>>,
    /// Our REFER (we transfer the peer), until its final NOTIFY.
    refer_out: Option<Box<ReferOut>>,
    /// A REFER the peer sent us, while we NOTIFY it about the new call.
    refer_in: Option<Box<ReferIn>>,
    /// RFC 4028 session timer.
    session: SessionTimer,
    related: Option<Relation>,
    /// We cleared the call ourselves after a transfer: its end shows no DISCONNECTED.
    transferred: bool,
    /// TAPI holds no handle any more: no events; the provider forgets the call once it ended.
    released: bool,
    /// Its RTP session in the media engine, and SIP INFO digits going out.
    stream: stream::CallStream,
    /// The conference call it is a party of: CONNECTED shows as CONFERENCED.
    conference: Option<CallId>,
    actions: VecDeque<Action>,
}

impl Call {
    /// A call in `phase` with everything else empty (the constructors fill in the rest).
    #[allow(clippy::too_many_arguments)]
    fn blank(
        id: CallId,
        line: usize,
        leg: Leg,
        phase: Phase,
        dialog: Dialog,
        peer: Peer,
        media: CallMedia,
        info: CallParties,
    ) -> Call {
        Call {
            id,
            line,
            leg,
            phase,
            dialog,
            peer,
            media,
            info,
            state: None,
            pending: Vec::new(),
            uas_2xx: None,
            last_bye: None,
            hold: Hold::default(),
            reinvite: None,
            reinvite_ack: None,
            refer_out: None,
            refer_in: None,
            session: SessionTimer::new(session_timer::FLOOR_SECS),
            related: None,
            transferred: false,
            released: false,
            stream: stream::CallStream::default(),
            conference: None,
            actions: VecDeque::new(),
        }
    }

    /// The next thing the call wants done.
    pub fn poll_action(&mut self) -> Option<Action> {
        if self.actions.is_empty() {
            // Whatever the input changed in offer/answer, the engine learns it here.
            self.sync_stream();
        }
        let action = self.actions.pop_front();
        if action.is_none() && self.actions.capacity() > 0 {
            // Drained: give the buffer back (several 136-byte slots per live call otherwise).
            self.actions = VecDeque::new();
        }
        action
    }

    /// When the call next needs `handle_timeout`.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.uas_2xx.as_ref().map(|r| r.next),
            self.reinvite.as_ref().and_then(|r| r.retry_at),
            self.refer_out.as_ref().and_then(|r| r.deadline),
            self.no_answer_deadline(),
            self.ring_deadline(),
            self.reliable_deadline(),
            self.session_deadline(),
            self.info_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires what is due at `env.now`.
    pub fn handle_timeout(&mut self, env: &mut CallEnv<'_>) {
        let now = env.now;
        if self.uas_2xx.as_ref().is_some_and(|r| r.next <= now) {
            self.on_2xx_timer(env);
        }
        if self
            .reinvite
            .as_ref()
            .and_then(|r| r.retry_at)
            .is_some_and(|at| at <= now)
        {
            self.send_reinvite(env);
        }
        if self
            .refer_out
            .as_ref()
            .and_then(|r| r.deadline)
            .is_some_and(|at| at <= now)
        {
            self.on_refer_timeout();
        }
        if self.no_answer_deadline().is_some_and(|at| at <= now) {
            self.on_no_answer(env);
        }
        if self.ring_deadline().is_some_and(|at| at <= now) {
            self.ring(env);
        }
        if self.reliable_deadline().is_some_and(|at| at <= now) {
            self.on_reliable_timer(env);
        }
        if self.session_deadline().is_some_and(|at| at <= now) {
            self.on_session_timer(env);
        }
        if self.info_deadline().is_some_and(|at| at <= now) {
            self.step_info(env);
        }
    }

    /// A response to one of our client transactions.
    pub fn handle_response(
        &mut self,
        env: &mut CallEnv<'_>,
        purpose: Purpose,
        key: &ClientTxKey,
        response: Response,
    ) {
        match purpose {
            Purpose::Invite => self.on_invite_response(env, key, response),
            Purpose::Cancel => {
                tracing::debug!(call = %self.id, status = response.status, "CANCEL answered")
            }
            Purpose::Bye => self.on_bye_response(env, &response),
            Purpose::ReInvite => self.on_reinvite_response(env, key, response),
            Purpose::Refer => self.on_refer_response(env, &response),
            Purpose::Notify => {}
            Purpose::Prack => {
                tracing::debug!(call = %self.id, status = response.status, "PRACK answered")
            }
            Purpose::Info => {
                tracing::debug!(call = %self.id, status = response.status, "INFO answered")
            }
        }
    }

    /// One of our client transactions failed.
    pub fn handle_tx_failure(
        &mut self,
        env: &mut CallEnv<'_>,
        purpose: Purpose,
        key: &ClientTxKey,
        failure: TxFailure,
    ) {
        match purpose {
            Purpose::Invite => self.on_invite_failure(env, key, failure),
            Purpose::Cancel | Purpose::Notify | Purpose::Prack | Purpose::Info => {}
            Purpose::Bye => self.on_bye_done(env),
            Purpose::ReInvite => self.on_reinvite_failure(env, key),
            Purpose::Refer => self.on_refer_failed(),
        }
    }

    /// A TAPI request on this call.
    pub fn handle_op(
        &mut self,
        env: &mut CallEnv<'_>,
        request: RequestId,
        op: CallOp,
    ) -> Result<(), LineErr> {
        match op {
            CallOp::Accept => self.accept(request),
            CallOp::Answer => self.answer(env, request),
            CallOp::Drop => self.drop_requested(env, request),
            CallOp::Redirect(dest) => self.redirect(env, request, &dest),
            CallOp::Hold => self.hold(env, request),
            CallOp::Unhold => self.unhold(env, request),
            CallOp::BlindTransfer(dest) => {
                let target = env.ua.line.dest_uri(&dest)?;
                self.transfer(env, request, ReferTarget::Blind(target))
            }
            CallOp::Dial(dest) => {
                let target = env.ua.line.dest_uri(&dest)?;
                self.dial(env, request, target)
            }
            // The provider confines the file first and calls `play` / `record`.
            CallOp::Play { .. } | CallOp::Record { .. } | CallOp::RemoveFromConference => {
                Err(crate::tapi::LINEERR_OPERATIONUNAVAIL)
            }
        }
    }

    /// TSPI_lineCloseCall: TAPI holds no handle any more. A live call is ended silently.
    pub fn release(&mut self, env: &mut CallEnv<'_>) {
        self.released = true;
        self.pending.clear();
        if self.is_live() {
            self.hang_up(env);
        }
    }

    /// Ends a live call from our side, by the means its phase allows (graceful stop too).
    pub fn hang_up(&mut self, env: &mut CallEnv<'_>) {
        match self.phase {
            Phase::DialTone => self.end(env, None),
            Phase::Calling { .. } => {
                self.phase = Phase::Calling {
                    cancel_when_early: true,
                }
            }
            Phase::Early => self.send_cancel(),
            Phase::Connected => self.send_bye(env),
            Phase::Answering { .. } => self.phase = Phase::Answering { hang_up: true },
            Phase::Offering | Phase::Accepted => self.reject(env, 603, None),
            Phase::Cancelling | Phase::Terminating | Phase::Ended => {}
        }
    }

    /// Something is still going on on the network.
    pub fn is_live(&self) -> bool {
        self.phase != Phase::Ended
    }

    /// Ended and released: the provider may forget it.
    pub fn is_finished(&self) -> bool {
        !self.is_live() && self.released
    }

    /// The dialog is confirmed (the call is up, held or not).
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// We hold the peer (ONHOLD or ONHOLDPENDTRANSFER).
    pub fn is_held(&self) -> bool {
        self.is_connected() && self.hold.local
    }

    pub fn related(&self) -> Option<Relation> {
        self.related
    }

    pub fn relate(&mut self, relation: Relation) {
        self.related = Some(relation);
    }

    pub fn unrelate(&mut self) {
        self.related = None;
    }

    /// Makes the call a party of conference `conf` (or of none).
    /// Leaving one reports LINE_CALLINFO(RELATEDCALLID); joining does once the party is
    /// CONFERENCED ([`Call::announce_conferenced`]).
    pub fn set_conference(&mut self, conf: Option<CallId>) {
        let left = self.conference.is_some() && conf.is_none();
        self.conference = conf;
        if left {
            self.report_info(crate::tapi::CallInfoStates::RELATEDCALLID);
        }
    }

    pub fn conference(&self) -> Option<CallId> {
        self.conference
    }

    /// The call leaves its conference: a connected party is CONNECTED again.
    pub fn leave_conference(&mut self) {
        self.set_conference(None);
        if self.is_connected() && !self.hold.local {
            self.report_state(CallState::Connected(crate::tapi::ConnectedMode::ACTIVE));
        }
    }

    /// A connected party reports CONFERENCED now.
    pub fn announce_conferenced(&mut self) {
        if let (Some(conf), true) = (self.conference, self.is_connected()) {
            self.report_state(CallState::Conferenced(Some(conf)));
            self.report_info(crate::tapi::CallInfoStates::RELATEDCALLID);
        }
    }

    /// A consultation call is ready for lineDial: DIALTONE (TAPISRV shows it once the
    /// request that created it completes).
    pub fn announce_dialtone(&mut self) {
        self.report_state(CallState::DialTone(DialToneMode::NORMAL));
    }

    /// lineCompleteTransfer(TRANSFER) on the original call.
    pub fn start_transfer(
        &mut self,
        env: &mut CallEnv<'_>,
        request: RequestId,
        target: ReferTarget,
    ) -> Result<(), LineErr> {
        self.transfer(env, request, target)
    }

    pub fn dialog_key(&self) -> &DialogKey {
        &self.dialog.key
    }

    pub fn dialog(&self) -> &Dialog {
        &self.dialog
    }

    /// Client transactions whose routes outlive a final response (our INVITE: 2xx
    /// retransmissions still need an ACK).
    pub fn lingering_client_tx(&self) -> Option<&ClientTxKey> {
        match &self.leg {
            Leg::Uac(uac) => uac.invite_tx.as_ref(),
            Leg::Uas(_) => None,
        }
    }

    /// The INVITE server transaction of an inbound call.
    pub fn server_invite(&self) -> Option<&ServerTxKey> {
        match &self.leg {
            Leg::Uas(uas) => uas.server_tx.as_ref(),
            Leg::Uac(_) => None,
        }
    }

    /// What lineGetCallInfo reports: the stored part plus what the dialog and media say.
    pub fn info(&self) -> ProviderCallInfo {
        let remote = self.media.remote.as_ref();
        let p = self.info.clone();
        ProviderCallInfo {
            device: p.device,
            media_mode: p.media_mode,
            origin: p.origin,
            reason: p.reason,
            caller_id: p.caller_id,
            caller_id_name: p.caller_id_name,
            called_id: p.called_id,
            called_id_name: p.called_id_name,
            connected_id: p.connected_id,
            connected_id_name: p.connected_id_name,
            sip_call_id: self.dialog.key.call_id.clone(),
            codec: remote.map(|r| r.codec.name().to_string()),
            remote_media: remote.map(|r| r.address.to_string()),
            local_media: self.media.local_rtp.map(|a| a.to_string()),
            related_call: self.conference,
        }
    }

    fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    fn send(&mut self, request: Request, to: Peer, purpose: Purpose) {
        self.push(Action::Send {
            request: Box::new(request),
            to,
            purpose,
        });
    }

    fn respond_on(&mut self, tx: ServerTxKey, response: Response) {
        self.push(Action::Respond {
            tx,
            response: Box::new(response),
        });
    }

    fn tell(&mut self, call: CallId, news: News) {
        self.push(Action::Tell { call, news });
    }

    /// Takes the pending request of kind `op`, if any.
    fn take_pending(&mut self, op: Op) -> Option<RequestId> {
        let index = self.pending.iter().position(|(_, o)| *o == op)?;
        Some(self.pending.remove(index).0)
    }

    fn has_pending(&self, op: Op) -> bool {
        self.pending.iter().any(|(_, o)| *o == op)
    }

    /// Whether the far end's final answer or BYE is one we asked for.
    fn ending_by_us(&self) -> bool {
        matches!(self.phase, Phase::Cancelling | Phase::Terminating)
            || self.has_pending(Op::Drop)
            || self.transferred
    }

    /// TSPI_lineDrop, for both directions.
    fn drop_requested(&mut self, env: &mut CallEnv<'_>, request: RequestId) -> Result<(), LineErr> {
        if self.phase == Phase::Ended {
            // A disconnected call goes idle on lineDrop; an idle one cannot be dropped.
            if !matches!(self.state, Some(CallState::Disconnected(_))) {
                return Err(LINEERR_INVALCALLSTATE);
            }
            self.complete(request, Ok(()));
            self.report_state(CallState::Idle);
            return Ok(());
        }
        if self.has_pending(Op::Drop)
            || self.has_pending(Op::MakeCall)
            || self.phase == Phase::Terminating
        {
            return Err(LINEERR_INVALCALLSTATE);
        }
        self.pending.push((request, Op::Drop));
        self.hang_up(env);
        Ok(())
    }
}
