//! Conferences mixed in the gateway: lineCompleteTransfer(LINETRANSFERMODE_CONFERENCE) turns a
//! transfer being set up (the original ONHOLDPENDTRANSFER, the consultation call connected)
//! into a conference call (../shared/reference/tapi.md §6). The conference call is a TAPI call
//! with no SIP of its own: CONNECTED while it has parties, dropped with them by lineDrop. Its
//! parties are the two SIP calls, each CONFERENCED (dwParam2: the app's conference handle); the
//! original is resumed first (re-INVITE sendrecv), then the media engine mixes the parties
//! (each hears the others, `MediaCommand::Conference`). A party that hangs up leaves the mix;
//! the conference goes IDLE with its last party.

use std::time::Instant;

use crate::media::MediaCommand;
use crate::tapi::{
    CallFeatures, CallId, CallOp, CallOrigin, CallState, ConnectedMode, DeviceId, DisconnectMode,
    LineErr, MediaModes, ProviderCallInfo, ProviderEvent, RequestId, LINEERR_INVALCALLHANDLE,
    LINEERR_INVALCALLSTATE, LINEERR_INVALCONSULTCALLHANDLE,
};

use super::call::Relation;
use super::control::Join;
use super::SipProvider;

/// One conference call.
pub struct Conference {
    pub device: DeviceId,
    pub members: Vec<CallId>,
    /// Its state as last reported.
    pub state: CallState,
}

impl SipProvider {
    /// lineCompleteTransfer(CONFERENCE): the new conference call; completes once the
    /// original is resumed.
    pub(super) fn conference_calls(
        &mut self,
        now: Instant,
        request: RequestId,
        original: CallId,
        consult: CallId,
    ) -> Result<CallId, LineErr> {
        let c = self
            .calls
            .get(&consult)
            .ok_or(LINEERR_INVALCONSULTCALLHANDLE)?;
        if !c.is_connected() || c.is_held() {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let o = self.calls.get(&original).ok_or(LINEERR_INVALCALLHANDLE)?;
        if !o.is_held() {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let device = o.info().device;
        let conf = self.new_call_id();
        // Unrelated first: resuming a consulted original would drop its consultation call.
        for member in [original, consult] {
            self.with_call(now, member, |c, _| {
                c.unrelate();
                c.set_conference(Some(conf));
            });
        }
        let part = self.joins.start(Join::ConferenceResume { request, conf });
        let resumed = self
            .with_call(now, original, |c, env| {
                c.handle_op(env, part, CallOp::Unhold)
            })
            .unwrap_or(Err(LINEERR_INVALCALLHANDLE));
        if let Err(err) = resumed {
            self.joins.take(part);
            self.with_call(now, original, |c, _| {
                c.set_conference(None);
                c.relate(Relation::ConsultedBy(consult));
            });
            self.with_call(now, consult, |c, _| {
                c.set_conference(None);
                c.relate(Relation::ConsultFor(original));
            });
            return Err(err);
        }
        self.conferences.insert(
            conf,
            Conference {
                device,
                members: vec![original, consult],
                state: CallState::Connected(ConnectedMode::ACTIVE),
            },
        );
        Ok(conf)
    }

    /// The original is back (or could not be resumed): the conference is up, or it fails.
    pub(super) fn on_conference_resumed(
        &mut self,
        now: Instant,
        request: RequestId,
        conf: CallId,
        result: Result<(), LineErr>,
    ) {
        self.events
            .push_back(ProviderEvent::Completion { request, result });
        let Some(members) = self.conferences.get(&conf).map(|c| c.members.clone()) else {
            return;
        };
        if result.is_err() {
            self.conferences.remove(&conf);
            for member in members {
                self.with_call(now, member, |c, _| c.set_conference(None));
            }
            return;
        }
        let state = CallState::Connected(ConnectedMode::ACTIVE);
        self.events
            .push_back(ProviderEvent::CallState { call: conf, state });
        for member in members {
            self.with_call(now, member, |c, _| c.announce_conferenced());
        }
        self.mix(conf);
    }

    /// Tells the engine who is in the conference now.
    fn mix(&mut self, conf: CallId) {
        let members = self
            .conferences
            .get(&conf)
            .map(|c| c.members.iter().map(|m| m.0).collect())
            .unwrap_or_default();
        self.media_out.push_back(MediaCommand::Conference {
            conf: conf.0,
            members,
        });
    }

    /// After a call's input: a party that ended leaves its conference.
    pub(super) fn conference_upkeep(&mut self, id: CallId) {
        let Some(conf) = self
            .calls
            .get(&id)
            .filter(|c| !c.is_live())
            .and_then(|c| c.conference())
        else {
            return;
        };
        if let Some(c) = self.calls.get_mut(&id) {
            c.set_conference(None);
        }
        let Some(entry) = self.conferences.get_mut(&conf) else {
            return;
        };
        entry.members.retain(|m| *m != id);
        if entry.members.is_empty() {
            self.end_conference(conf, Some(DisconnectMode::NORMAL));
        } else {
            self.mix(conf);
        }
    }

    /// DISCONNECTED (when given) then IDLE, and the mix dissolved.
    fn end_conference(&mut self, conf: CallId, mode: Option<DisconnectMode>) {
        let Some(entry) = self.conferences.get_mut(&conf) else {
            return;
        };
        if entry.state.is_idle() {
            return;
        }
        entry.state = CallState::Idle;
        entry.members.clear();
        if let Some(mode) = mode {
            let state = CallState::Disconnected(mode);
            self.events
                .push_back(ProviderEvent::CallState { call: conf, state });
        }
        self.events.push_back(ProviderEvent::CallState {
            call: conf,
            state: CallState::Idle,
        });
        self.mix(conf);
    }

    /// lineSetupConference: `original` (connected, not held, unrelated) is the first party,
    /// CONFERENCED; the conference is ONHOLDPENDCONF; a consultation call goes DIALTONE.
    pub(super) fn setup_conference_calls(
        &mut self,
        now: Instant,
        request: RequestId,
        original: CallId,
    ) -> Result<(CallId, CallId), LineErr> {
        let o = self.calls.get(&original).ok_or(LINEERR_INVALCALLHANDLE)?;
        let busy = o.conference().is_some() || o.related().is_some();
        if !o.is_connected() || o.is_held() || busy {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let (line, device) = (o.line, o.info().device);
        let conf = self.new_call_id();
        let consult = self.new_consult(now, line)?;
        self.conferences.insert(
            conf,
            Conference {
                device,
                members: vec![original],
                state: CallState::OnHoldPendConf,
            },
        );
        // LINE_REPLY first: the original's CONFERENCED names the new conference handle.
        self.events.push_back(ProviderEvent::Completion {
            request,
            result: Ok(()),
        });
        let state = CallState::OnHoldPendConf;
        self.events
            .push_back(ProviderEvent::CallState { call: conf, state });
        self.with_call(now, consult, |c, _| c.announce_dialtone());
        self.with_call(now, original, |c, _| {
            c.set_conference(Some(conf));
            c.announce_conferenced();
        });
        self.mix(conf);
        Ok((conf, consult))
    }

    /// linePrepareAddToConference: the conference goes ONHOLDPENDCONF while a new
    /// consultation call is dialled.
    pub(super) fn prepare_add(
        &mut self,
        now: Instant,
        request: RequestId,
        conf: CallId,
    ) -> Result<CallId, LineErr> {
        let entry = self.conferences.get(&conf).ok_or(LINEERR_INVALCALLHANDLE)?;
        if entry.state != CallState::Connected(ConnectedMode::ACTIVE) {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let member = *entry.members.first().ok_or(LINEERR_INVALCALLSTATE)?;
        let line = self.calls.get(&member).ok_or(LINEERR_INVALCALLSTATE)?.line;
        let consult = self.new_consult(now, line)?;
        self.set_conference_state(conf, CallState::OnHoldPendConf);
        self.events.push_back(ProviderEvent::Completion {
            request,
            result: Ok(()),
        });
        self.with_call(now, consult, |c, _| c.announce_dialtone());
        Ok(consult)
    }

    fn set_conference_state(&mut self, conf: CallId, state: CallState) {
        if let Some(entry) = self.conferences.get_mut(&conf) {
            if entry.state != state {
                entry.state = state;
                self.events
                    .push_back(ProviderEvent::CallState { call: conf, state });
            }
        }
    }

    /// A new DIALTONE call on `line` (no relation: lineAddToConference takes it).
    fn new_consult(&mut self, now: Instant, line: usize) -> Result<CallId, LineErr> {
        let consult = self.new_call_id();
        let mut env = crate::provider::call::CallEnv {
            now,
            ua: super::build::Ua::new(&self.sip, &self.lines[line]),
            ids: &mut self.ids,
            media: &mut *self.media,
            stopping: self.stopping,
        };
        let call = crate::provider::call::Call::dialtone(consult, line, &mut env, None)?;
        self.routes.add_call(&call);
        self.calls.insert(consult, Box::new(call));
        Ok(consult)
    }

    /// lineAddToConference: a connected call of the conference's line, not held, in no other
    /// conference and not part of a transfer being set up, joins it (CONFERENCED) and the mix; completes at once.
    pub(super) fn add_party(
        &mut self,
        now: Instant,
        request: RequestId,
        conf: CallId,
        call: CallId,
    ) -> Result<(), LineErr> {
        let entry = self.conferences.get(&conf).ok_or(LINEERR_INVALCALLHANDLE)?;
        if entry.state.is_idle() {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let device = entry.device;
        let c = self.calls.get(&call).ok_or(LINEERR_INVALCALLHANDLE)?;
        let same_line = c.info().device == device;
        let busy = c.conference().is_some() || c.related().is_some();
        if !c.is_connected() || c.is_held() || busy || !same_line {
            return Err(LINEERR_INVALCALLSTATE);
        }
        if let Some(entry) = self.conferences.get_mut(&conf) {
            entry.members.push(call);
        }
        self.with_call(now, call, |c, _| {
            c.set_conference(Some(conf));
            c.announce_conferenced();
        });
        self.events.push_back(ProviderEvent::Completion {
            request,
            result: Ok(()),
        });
        self.set_conference_state(conf, CallState::Connected(ConnectedMode::ACTIVE));
        self.mix(conf);
        Ok(())
    }

    /// lineRemoveFromConference: the party leaves the mix and is CONNECTED again; completes
    /// at once. The conference goes on with the others.
    pub(super) fn remove_from_conference(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
    ) -> Result<(), LineErr> {
        let conf = self
            .calls
            .get(&call)
            .ok_or(LINEERR_INVALCALLHANDLE)?
            .conference()
            .ok_or(LINEERR_INVALCALLSTATE)?;
        if let Some(entry) = self.conferences.get_mut(&conf) {
            entry.members.retain(|m| *m != call);
        }
        self.with_call(now, call, |c, _| c.leave_conference());
        self.events.push_back(ProviderEvent::Completion {
            request,
            result: Ok(()),
        });
        self.mix(conf);
        Ok(())
    }

    pub(super) fn is_conference(&self, call: CallId) -> bool {
        self.conferences.contains_key(&call)
    }

    /// lineDrop of the conference call: every party is hung up, then the conference goes IDLE.
    pub(super) fn drop_conference(
        &mut self,
        now: Instant,
        request: RequestId,
        conf: CallId,
    ) -> Result<(), LineErr> {
        let entry = self.conferences.get(&conf).ok_or(LINEERR_INVALCALLHANDLE)?;
        if entry.state.is_idle() {
            return Err(LINEERR_INVALCALLSTATE);
        }
        for member in entry.members.clone() {
            self.with_call(now, member, |c, env| {
                c.set_conference(None);
                c.hang_up(env)
            });
        }
        self.events.push_back(ProviderEvent::Completion {
            request,
            result: Ok(()),
        });
        self.end_conference(conf, None);
        Ok(())
    }

    pub(super) fn conference_info(&self, conf: CallId) -> Option<ProviderCallInfo> {
        let entry = self.conferences.get(&conf)?;
        Some(ProviderCallInfo {
            device: entry.device,
            media_mode: MediaModes::INTERACTIVEVOICE,
            origin: CallOrigin::CONFERENCE,
            ..ProviderCallInfo::default()
        })
    }

    pub(super) fn conference_features(&self, conf: CallId) -> CallFeatures {
        match self.conferences.get(&conf) {
            Some(c) if !c.state.is_idle() => CallFeatures::DROP,
            _ => CallFeatures::NONE,
        }
    }

    /// TAPI holds no handle to the conference call any more.
    pub(super) fn close_conference(&mut self, now: Instant, conf: CallId) {
        let Some(entry) = self.conferences.remove(&conf) else {
            return;
        };
        for member in entry.members {
            self.with_call(now, member, |c, _| c.set_conference(None));
        }
        self.media_out.push_back(MediaCommand::Conference {
            conf: conf.0,
            members: Vec::new(),
        });
    }
}
