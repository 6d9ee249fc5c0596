//! The provider's side of the call journal: after every input a call handled, its record is
//! compared with the one journaled (a dialog came up, changed or ended) and the difference is
//! queued as output ([`SipProvider::poll_journal`]); the runtime writes it to disk. At
//! start-up, [`SipProvider::recover`] rebuilds the calls of the dialogs the journal says were
//! up: each is ended with BYE, or (`sip.recover_calls = true`) kept, refreshed with a
//! re-INVITE and announced to TAPISRV ([`ProviderEvent::RecoveredCall`]) so apps find it
//! with lineGetNewCalls. FreeSWITCH's call recovery (`mod_sofia` tracking, `fsctl recover`) is
//! the model.

// Tables keyed by the gateway's own IDs (counters no peer chooses) hash with Fx, a few
// instructions a lookup instead of SipHash's (docs/performance.md).
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::time::Instant;

use crate::journal::{DialogId, DialogRecord, JournalRecord};
use crate::tapi::{CallId, DeviceId, ProviderEvent};

use super::call::{Call, DialogKey, Recovery};
use super::SipProvider;

/// What the journal has been told, and what it has still to be told.
pub(super) struct JournalState {
    /// No journal configured: nothing is recorded.
    enabled: bool,
    /// Per call journaled: the fingerprint of the record last queued. Not its dialog's key:
    /// a call's (Call-ID, our tag) is set when the call is made and never changes (a call has
    /// one dialog, RFC 3261 §12.1; forks of our INVITE share our tag), so the `down` record
    /// is built from the call when its dialog ends or the call is removed.
    journaled: FxHashMap<CallId, u64>,
    out: VecDeque<JournalRecord>,
}

impl JournalState {
    pub fn new(enabled: bool) -> Self {
        JournalState {
            enabled,
            journaled: FxHashMap::default(),
            out: VecDeque::new(),
        }
    }
}

/// The journal's name for a call's dialog.
fn dialog_id(key: &DialogKey) -> DialogId {
    DialogId {
        call_id: key.call_id.clone(),
        local_tag: key.local_tag.clone(),
    }
}

/// What [`SipProvider::recover`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoverySummary {
    /// Dialogs ended with BYE.
    pub ended: usize,
    /// Dialogs kept (re-INVITE, lineGetNewCalls).
    pub kept: usize,
    /// Records that could not be used (no line left, unreadable URIs): forgotten.
    pub dropped: usize,
}

impl SipProvider {
    /// The next record for the journal file.
    pub fn poll_journal(&mut self) -> Option<JournalRecord> {
        self.journal.out.pop_front()
    }

    /// Dialogs up now, as the journal sees them.
    pub fn journaled_dialogs(&self) -> usize {
        self.journal.journaled.len()
    }

    /// Compares call `id`'s record with the journaled one and queues the difference.
    pub(super) fn journal_call(&mut self, id: CallId) {
        if !self.journal.enabled {
            return;
        }
        // A call removed was dealt with as it went (`journal_removed`).
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        match call.journal_record(&self.lines[call.line].cfg.user) {
            Some(now) => {
                let fingerprint = now.fingerprint();
                if self.journal.journaled.insert(id, fingerprint) != Some(fingerprint) {
                    self.journal.out.push_back(JournalRecord::Up(Box::new(now)));
                }
            }
            None => {
                if self.journal.journaled.remove(&id).is_some() {
                    let down = dialog_id(call.dialog_key());
                    self.journal.out.push_back(JournalRecord::Down(down));
                }
            }
        }
    }

    /// Call `id` is forgotten: if its dialog was still journaled, it is down.
    pub(super) fn journal_removed(&mut self, id: CallId, call: &Call) {
        if self.journal.journaled.remove(&id).is_some() {
            let down = dialog_id(call.dialog_key());
            self.journal.out.push_back(JournalRecord::Down(down));
        }
    }

    /// Rebuilds the calls of dialogs a journal says were up when the gateway last stopped
    /// (crash, SIGKILL, power loss): each gets a BYE, or with `keep` a re-INVITE and a place
    /// in lineGetNewCalls. Records whose line is gone use the first line's identity for the
    /// BYE; with no line at all they are forgotten.
    pub fn recover(
        &mut self,
        now: Instant,
        records: Vec<DialogRecord>,
        keep: bool,
    ) -> RecoverySummary {
        self.fire_due(now);
        let mut summary = RecoverySummary::default();
        for record in records {
            let own_line = self
                .lines
                .iter()
                .position(|l| !l.removed && l.cfg.user == record.line);
            let line = own_line.or_else(|| self.lines.iter().position(|l| !l.removed));
            let wanted = if keep && own_line.is_some() {
                Recovery::Keep
            } else {
                Recovery::End
            };
            let Some(line) = line else {
                summary.dropped += 1;
                self.forget_record(&record);
                continue;
            };
            match self.recover_one(now, line, &record, wanted) {
                Some(Recovery::Keep) => summary.kept += 1,
                Some(Recovery::End) => summary.ended += 1,
                None => summary.dropped += 1,
            }
        }
        summary
    }

    fn recover_one(
        &mut self,
        now: Instant,
        line: usize,
        record: &DialogRecord,
        wanted: Recovery,
    ) -> Option<Recovery> {
        let id = self.new_call_id();
        let mut env = self.call_env(now, line);
        let (call, recovery) = match Call::recovered(id, line, &mut env, record, wanted) {
            Ok(recovered) => recovered,
            Err(err) => {
                tracing::warn!(%err, "journal record dropped");
                self.forget_record(record);
                return None;
            }
        };
        tracing::info!(call_id = %record.call_id, ?recovery, "dialog from the journal");
        self.routes.add_call(&call);
        self.calls.insert(id, Box::new(call));
        if self.journal.enabled {
            self.journal.journaled.insert(id, record.fingerprint());
        }
        if recovery == Recovery::Keep {
            self.events.push_back(ProviderEvent::RecoveredCall {
                device: DeviceId(line as u32),
                call: id,
            });
        }
        self.drive_call(now, id);
        Some(recovery)
    }

    /// A record nothing will end: the journal forgets it.
    fn forget_record(&mut self, record: &DialogRecord) {
        if self.journal.enabled {
            self.journal
                .out
                .push_back(JournalRecord::Down(record.key()));
        }
    }
}
