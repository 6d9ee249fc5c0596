//! One call as its own state machine, under the provider that routes to it (quinn-proto's
//! `Connection` under its `Endpoint` is the model).
//!
//! The provider hands a call the responses and failures of the client transactions it started
//! (tagged with their [`Purpose`]), the requests of its dialog, the CANCEL and ACK of its
//! INVITE, TAPI's requests, and its timer. The call answers with [`Action`]s, drained with
//! [`Call::poll_action`] (requests to send on new client transactions, responses, raw bytes,
//! TAPI events), and tells its next deadline with [`Call::poll_timeout`]. While it handles an
//! input it may use the services in [`CallEnv`] (fresh tags and branches, media ports, what the
//! line says about us); it never touches transactions, sockets or the clock itself.
//!
//! What only one direction needs lives in its leg ([`uac::Uac`], [`uas::Uas`]); what only one
//! phase needs lives in its [`Phase`]. Files: `uac` (outbound INVITE, CANCEL, ACK, auth
//! retries), `uas` (offer, accept, answer with 2xx retransmission, reject, redirect, the
//! caller's CANCEL), `in_dialog` (BYE, re-INVITE/UPDATE, INFO ... from the peer; our BYE),
//! `media` (SDP offer/answer state and the RTP lease), `report` (TAPI states, completions, the
//! end of the call), `dialog` (RFC 3261 §12 state).

pub mod dialog;
mod in_dialog;
mod media;
mod report;
mod uac;
mod uas;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use crate::media::MediaAllocator;
use crate::sip::message::{Request, Response};
use crate::sip::transaction::{ClientTxKey, ServerTxKey};
use crate::sip::transport::Peer;
use crate::tapi::{
    CallId, CallOp, CallState, LineErr, ProviderCallInfo, ProviderEvent, RequestId,
    LINEERR_INVALCALLSTATE,
};

use super::build::Ua;
use super::ids::IdGen;

pub use dialog::{Dialog, DialogKey};
use media::CallMedia;
use uac::Uac;
use uas::{Retransmit2xx, Uas};

/// What a call asks its provider to do.
#[derive(Debug)]
pub enum Action {
    /// Send `request` to `to` on a new client transaction; its responses and failures come
    /// back to this call with `purpose`.
    Send {
        request: Request,
        to: Peer,
        purpose: Purpose,
    },
    /// Answer on one of the call's server transactions.
    Respond { tx: ServerTxKey, response: Response },
    /// Bytes outside any transaction (the ACK for a 2xx, 2xx retransmissions).
    Raw { to: Peer, bytes: Bytes },
    /// Something for TAPISRV.
    Event(ProviderEvent),
}

/// Why a call started a client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Our INVITE (any attempt of it).
    Invite,
    Cancel,
    Bye,
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
    Answer,
    Drop,
    Redirect,
}

/// The direction-specific part of a call.
enum Leg {
    Uac(Box<Uac>),
    Uas(Box<Uas>),
}

/// Where the call is, in SIP terms, with what only that phase needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
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
    info: ProviderCallInfo,
    /// The last state reported to TAPISRV.
    state: Option<CallState>,
    pending: Vec<(RequestId, Op)>,
    /// Our 2xx to an INVITE (the initial one or a re-INVITE), retransmitted until its ACK.
    uas_2xx: Option<Box<Retransmit2xx>>,
    /// Our BYE while it is out, its destination and the authentication attempts made for it.
    last_bye: Option<Box<(Request, Peer, u32)>>,
    /// TAPI holds no handle any more: no events; the provider forgets the call once it ended.
    released: bool,
    actions: VecDeque<Action>,
}

impl Call {
    /// The next thing the call wants done.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When the call next needs `handle_timeout`.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.uas_2xx.as_ref().map(|r| r.next)
    }

    /// Fires what is due at `env.now`.
    pub fn handle_timeout(&mut self, env: &mut CallEnv<'_>) {
        if self.uas_2xx.as_ref().is_some_and(|r| r.next <= env.now) {
            self.on_2xx_timer(env);
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
            Purpose::Cancel => {}
            Purpose::Bye => self.on_bye_done(env),
        }
    }

    /// A TAPI request on this call (TSPI_lineAccept, _lineAnswer, _lineDrop, _lineRedirect).
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

    pub fn dialog_key(&self) -> &DialogKey {
        &self.dialog.key
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
        ProviderCallInfo {
            sip_call_id: self.dialog.key.call_id.clone(),
            codec: remote.map(|r| r.codec.name().to_string()),
            remote_media: remote.map(|r| r.address.to_string()),
            local_media: self.media.local_rtp.map(|a| a.to_string()),
            ..self.info.clone()
        }
    }

    fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    fn send(&mut self, request: Request, to: Peer, purpose: Purpose) {
        self.push(Action::Send {
            request,
            to,
            purpose,
        });
    }

    fn respond_on(&mut self, tx: ServerTxKey, response: Response) {
        self.push(Action::Respond { tx, response });
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
        matches!(self.phase, Phase::Cancelling | Phase::Terminating) || self.has_pending(Op::Drop)
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
