//! Call control that spans calls or the line, done by the provider: lineSetupTransfer (the
//! original held, a consultation call created), lineCompleteTransfer (REFER with Replaces of
//! the consultation dialog), lineSwapHold (hold one, then resume the other, one completion),
//! lineForward (kept on the line), the call a peer's REFER asks for, and news between calls.

// Tables keyed by the gateway's own IDs (counters no peer chooses) hash with Fx, a few
// instructions a lookup instead of SipHash's (docs/performance.md).
use rustc_hash::FxHashMap;
use std::time::Instant;

use crate::sip::message::Uri;
use crate::tapi::consts::*;
use crate::tapi::{
    AddressStates, CallFeatures, CallId, CallOp, DeviceId, ForwardEntry, LineErr, ProviderEvent,
    RequestId, LINEERR_BADDEVICEID, LINEERR_INVALCALLHANDLE, LINEERR_INVALCALLSTATE,
    LINEERR_INVALCONSULTCALLHANDLE, LINEERR_INVALPARAM, LINEERR_INVALTRANSFERMODE,
    LINEERR_OPERATIONUNAVAIL,
};

use super::build::Ua;
use super::call::{Call, CallEnv, News, ReferTarget, Relation};
use super::line::Forwarding;
use super::SipProvider;

/// Request IDs the provider makes for itself (sub-requests of lineSwapHold): TAPISRV's are
/// always positive as i32, these never are.
const INTERNAL: u32 = 0x8000_0000;

/// A TAPI request the provider completes once its parts are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// lineSwapHold: `active` is being held; then `held` is resumed.
    SwapHold { request: RequestId, held: CallId },
    /// lineSwapHold's second half.
    SwapResume { request: RequestId },
    /// lineCompleteTransfer(CONFERENCE): the original is being resumed into conference `conf`.
    ConferenceResume { request: RequestId, conf: CallId },
}

/// The provider's pending joins.
#[derive(Default)]
pub struct Joins {
    pending: FxHashMap<RequestId, Join>,
    next: u32,
}

impl Joins {
    pub(super) fn start(&mut self, join: Join) -> RequestId {
        self.next = self.next.wrapping_add(1) & !INTERNAL;
        let id = RequestId(INTERNAL | self.next);
        self.pending.insert(id, join);
        id
    }

    pub fn is_internal(request: RequestId) -> bool {
        request.0 & INTERNAL != 0
    }

    pub(super) fn take(&mut self, request: RequestId) -> Option<Join> {
        self.pending.remove(&request)
    }
}

impl SipProvider {
    /// TSPI_lineSetupTransfer: the original is held (ONHOLDPENDTRANSFER once confirmed, which
    /// completes the request) and a consultation call goes DIALTONE.
    pub(super) fn setup_transfer_call(
        &mut self,
        now: Instant,
        request: RequestId,
        original: CallId,
    ) -> Result<CallId, LineErr> {
        let line = self
            .calls
            .get(&original)
            .ok_or(LINEERR_INVALCALLHANDLE)?
            .line;
        let consult = self.new_call_id();
        let mut env = CallEnv {
            now,
            ua: Ua::new(&self.sip, &self.lines[line]),
            ids: &mut self.ids,
            media: &mut *self.media,
            stopping: self.stopping,
        };
        let call = Call::dialtone(
            consult,
            line,
            &mut env,
            Some(Relation::ConsultFor(original)),
        )?;
        self.routes.add_call(&call);
        self.calls.insert(consult, Box::new(call));
        let held = self.with_call(now, original, |c, env| {
            c.relate(Relation::ConsultedBy(consult));
            let result = c.handle_op(env, request, CallOp::Hold);
            if result.is_err() {
                c.unrelate();
            }
            result
        });
        match held {
            Some(Ok(())) => {
                self.with_call(now, consult, |c, _| c.announce_dialtone());
                Ok(consult)
            }
            other => {
                self.with_call(now, consult, |c, env| {
                    c.unrelate();
                    c.release(env)
                });
                Err(other
                    .and_then(Result::err)
                    .unwrap_or(LINEERR_INVALCALLHANDLE))
            }
        }
    }

    /// TSPI_lineCompleteTransfer(TRANSFER): REFER the original's peer to the consultation
    /// peer with Replaces (RFC 5589 §7.1). CONFERENCE is not served here.
    pub(super) fn complete_transfer_calls(
        &mut self,
        now: Instant,
        request: RequestId,
        original: CallId,
        consult: CallId,
        mode: u32,
    ) -> Result<(), LineErr> {
        match mode {
            LINETRANSFERMODE_TRANSFER => {}
            LINETRANSFERMODE_CONFERENCE => return Err(LINEERR_OPERATIONUNAVAIL),
            _ => return Err(LINEERR_INVALTRANSFERMODE),
        }
        let c = self
            .calls
            .get(&consult)
            .ok_or(LINEERR_INVALCONSULTCALLHANDLE)?;
        if !c.is_connected() || c.is_held() {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let uri = c.replaces_uri().ok_or(LINEERR_INVALCALLSTATE)?;
        let o = self.calls.get(&original).ok_or(LINEERR_INVALCALLHANDLE)?;
        if !o.is_held() {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let target = ReferTarget::Attended { consult, uri };
        self.with_call(now, original, |c, env| {
            c.start_transfer(env, request, target)
        })
        .unwrap_or(Err(LINEERR_INVALCALLHANDLE))
    }

    /// TSPI_lineSwapHold: hold `active`, then resume `held`; one completion for both.
    pub(super) fn swap_hold_calls(
        &mut self,
        now: Instant,
        request: RequestId,
        active: CallId,
        held: CallId,
    ) -> Result<(), LineErr> {
        let a = self.calls.get(&active).ok_or(LINEERR_INVALCALLHANDLE)?;
        let h = self.calls.get(&held).ok_or(LINEERR_INVALCALLHANDLE)?;
        if active == held || !a.is_connected() || a.is_held() || !h.is_held() {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let part = self.joins.start(Join::SwapHold { request, held });
        let result = self
            .with_call(now, active, |c, env| c.handle_op(env, part, CallOp::Hold))
            .unwrap_or(Err(LINEERR_INVALCALLHANDLE));
        if result.is_err() {
            self.joins.take(part);
        }
        result
    }

    /// A completion of one of our own sub-requests.
    pub(super) fn on_internal_completion(
        &mut self,
        now: Instant,
        part: RequestId,
        result: Result<(), LineErr>,
    ) {
        match self.joins.take(part) {
            Some(Join::SwapHold { request, held }) if result.is_ok() => {
                let next = self.joins.start(Join::SwapResume { request });
                let resumed = self
                    .with_call(now, held, |c, env| c.handle_op(env, next, CallOp::Unhold))
                    .unwrap_or(Err(LINEERR_INVALCALLHANDLE));
                if let Err(err) = resumed {
                    self.joins.take(next);
                    self.complete_request(request, Err(err));
                }
            }
            Some(Join::SwapHold { request, .. }) | Some(Join::SwapResume { request }) => {
                self.complete_request(request, result)
            }
            Some(Join::ConferenceResume { request, conf }) => {
                self.on_conference_resumed(now, request, conf, result)
            }
            None => {}
        }
    }

    fn complete_request(&mut self, request: RequestId, result: Result<(), LineErr>) {
        self.events
            .push_back(ProviderEvent::Completion { request, result });
    }

    /// TSPI_lineForward: kept on the line and served to new INVITEs; LINE_ADDRESSSTATE(FORWARD).
    pub(super) fn forward_line(
        &mut self,
        request: RequestId,
        device: DeviceId,
        forwards: &[ForwardEntry],
        num_rings_no_answer: u32,
    ) -> Result<(), LineErr> {
        let line = self.line_index(device).ok_or(LINEERR_BADDEVICEID)?;
        let mut forwarding = Forwarding {
            num_rings_no_answer: num_rings_no_answer.max(1),
            ..Forwarding::default()
        };
        for entry in forwards {
            let target = self.lines[line].dest_uri(&entry.dest)?;
            let slot = match entry.mode {
                LINEFORWARDMODE_UNCOND => &mut forwarding.unconditional,
                LINEFORWARDMODE_BUSY => &mut forwarding.busy,
                LINEFORWARDMODE_NOANSW => &mut forwarding.no_answer,
                _ => return Err(LINEERR_INVALPARAM),
            };
            *slot = Some(target);
            forwarding.entries.push((entry.mode, entry.dest.clone()));
        }
        self.lines[line].forwarding = forwarding;
        self.complete_request(request, Ok(()));
        self.events.push_back(ProviderEvent::AddressState {
            device,
            address: 0,
            states: AddressStates::FORWARD,
        });
        Ok(())
    }

    /// A peer's REFER asked for a call to `target` (RFC 3515): a new outbound call on the same
    /// line, owned by the owners of the referred call, reason TRANSFER; its progress is
    /// NOTIFYed by the referred call.
    pub(super) fn start_referred_call(&mut self, now: Instant, referrer: CallId, target: Uri) {
        let Some(line) = self.calls.get(&referrer).map(|c| c.line) else {
            return;
        };
        let id = self.new_call_id();
        let mut env = CallEnv {
            now,
            ua: Ua::new(&self.sip, &self.lines[line]),
            ids: &mut self.ids,
            media: &mut *self.media,
            stopping: self.stopping,
        };
        let relation = Some(Relation::ReferredBy(referrer));
        match Call::outbound(id, line, &mut env, None, target, relation) {
            Ok(call) => {
                self.routes.add_call(&call);
                self.calls.insert(id, Box::new(call));
                self.events.push_back(ProviderEvent::NewCall {
                    device: DeviceId(line as u32),
                    call: id,
                    inherit: Some(referrer),
                });
                self.drive_call(now, id);
            }
            Err(err) => {
                tracing::info!(%err, "cannot place the call a REFER asked for");
                let news = News::ReferProgress {
                    status: 503,
                    reason: "Service Unavailable".into(),
                };
                self.with_call(now, referrer, |c, env| c.handle_news(env, id, news));
            }
        }
    }

    /// What an owner may do with `call` now: the call's own view, plus what needs another call
    /// (SWAPHOLD with a held call on the line; COMPLETETRANSF with a connected consultation).
    pub(super) fn features_of(&self, call: CallId) -> CallFeatures {
        let Some(c) = self.calls.get(&call) else {
            return CallFeatures::NONE;
        };
        let mut features = c.features();
        if let Some(Relation::ConsultedBy(consult)) = c.related() {
            let ready = self
                .calls
                .get(&consult)
                .is_some_and(|k| k.is_connected() && !k.is_held());
            if !ready {
                features = CallFeatures(features.bits() & !LINECALLFEATURE_COMPLETETRANSF);
            }
        }
        let active = c.is_connected() && !c.is_held() && features.contains(CallFeatures::HOLD);
        let other_held = self
            .calls
            .values()
            .any(|o| o.id != call && o.line == c.line && o.is_held());
        if active && other_held {
            features |= CallFeatures::SWAPHOLD;
        }
        features
    }
}
