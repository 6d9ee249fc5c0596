//! The call journal, sans-I/O part: what is recorded about every dialog that is up, the file
//! format, and the replay that tells a restarted gateway which dialogs were up when it died.
//!
//! The core emits [`JournalRecord`]s as output (`Gateway::poll_journal`); a runtime thread
//! (`runtime::journal`) appends them to the file, so the core never waits for the disk.
//!
//! # Format
//!
//! An append-only file of JSON Lines, one record per line: `{"up":{...}}` when a dialog is up
//! or changed (a later `up` with the same key replaces the earlier one), `{"down":{...}}` when
//! it ended. Replaying the file in order gives the dialogs still up. A torn last line (power
//! lost in the middle of a write) does not parse and is skipped: it can only be the newest
//! record. The writer rewrites the file with only the live dialogs (compaction) at start-up
//! and whenever it has grown well beyond them.
//!
//! # What a record holds
//!
//! Everything needed to send a request in the dialog after a restart (RFC 3261 §12.2.1.1):
//! Call-ID, both tags, local and remote URIs, remote target, route set, our CSeq, the
//! transport and peer address; the line; and the SDP state for a re-INVITE (RFC 3264 §8: the
//! same `o=` session ID with a higher version, our RTP address, who holds whom).

mod line;

use std::collections::HashMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// One dialog that is up, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DialogRecord {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    /// Our identity in the dialog with our tag (a name-addr).
    pub local: String,
    /// The peer's identity, without its tag (a name-addr).
    pub remote: String,
    /// The peer's Contact (a URI).
    pub remote_target: String,
    /// Route set in the order requests carry it (name-addrs).
    pub route_set: Vec<String>,
    /// The last CSeq we used in the dialog.
    pub local_cseq: u32,
    /// `UDP` or `TCP`, and the address requests go to when the route set and remote target
    /// name no IP address.
    pub transport: String,
    pub peer: SocketAddr,
    /// The line's `user` (device IDs may move between runs; users do not).
    pub line: String,
    /// We placed the call (LINECALLORIGIN_OUTBOUND).
    pub outbound: bool,
    pub sdp: SdpState,
    /// Caller and called party as apps saw them (lineGetCallInfo after recovery).
    pub caller_id: String,
    pub caller_id_name: String,
    pub called_id: String,
    pub called_id_name: String,
}

/// The media side of a dialog, enough for a re-INVITE's offer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SdpState {
    /// Our `o=` session ID and the version last sent.
    pub session_id: u64,
    pub version: u64,
    /// Our RTP address in that SDP, if we sent one.
    pub local_rtp: Option<SocketAddr>,
    /// We hold the peer / the peer holds us.
    pub held_local: bool,
    pub held_remote: bool,
}

impl DialogRecord {
    /// The journal's key: Call-ID and our tag.
    pub fn key(&self) -> DialogId {
        DialogId {
            call_id: self.call_id.clone(),
            local_tag: self.local_tag.clone(),
        }
    }

    /// A fingerprint of the whole record: the provider keeps this, not a copy, to see whether
    /// a call's record changed (a copy per live call cost about 1 KB of RSS).
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

/// Which dialog a `down` record is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DialogId {
    pub call_id: String,
    pub local_tag: String,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JournalRecord {
    /// The dialog is up (new, or changed: a later record replaces an earlier one).
    Up(Box<DialogRecord>),
    /// The dialog ended.
    Down(DialogId),
}

impl JournalRecord {
    /// The record as one line of the file, with its newline.
    /// Written directly (`line`), as serde_json would write it.
    pub fn to_line(&self) -> String {
        line::to_line(self)
    }
}

/// The dialogs still up after a journal's records, in the order they first came up. Each is
/// kept as its journal line (one allocation, what a compaction writes again), not as a
/// parsed record.
#[derive(Debug, Default, Clone)]
pub struct LiveDialogs {
    dialogs: HashMap<DialogId, (u64, Box<str>)>,
    next: u64,
    /// Records applied since the set was last written out whole.
    pub records_since_compaction: u64,
}

impl LiveDialogs {
    /// Replays journal text; lines that do not parse (a torn last write) are counted in the
    /// second value and skipped.
    pub fn replay(text: &str) -> (LiveDialogs, usize) {
        let mut live = LiveDialogs::default();
        let mut skipped = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<JournalRecord>(line) {
                Ok(record) => live.apply_line(&record, &format!("{line}\n")),
                Err(_) => skipped += 1,
            }
        }
        (live, skipped)
    }

    pub fn apply(&mut self, record: &JournalRecord) {
        self.apply_line(record, &record.to_line());
    }

    /// Applies `record`, whose journal line (with its newline) is `line`.
    pub fn apply_line(&mut self, record: &JournalRecord, line: &str) {
        self.records_since_compaction += 1;
        match record {
            JournalRecord::Up(dialog) => {
                let key = dialog.key();
                if let Some((_, kept)) = self.dialogs.get_mut(&key) {
                    *kept = line.into();
                } else {
                    self.next += 1;
                    self.dialogs.insert(key, (self.next, line.into()));
                }
            }
            JournalRecord::Down(id) => {
                self.dialogs.remove(id);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.dialogs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dialogs.is_empty()
    }

    /// The live dialogs' lines, oldest first.
    fn lines(&self) -> Vec<&str> {
        let mut all: Vec<&(u64, Box<str>)> = self.dialogs.values().collect();
        all.sort_by_key(|(order, _)| *order);
        all.into_iter().map(|(_, line)| line.as_ref()).collect()
    }

    /// The live dialogs, oldest first.
    pub fn records(&self) -> Vec<DialogRecord> {
        self.lines()
            .into_iter()
            .filter_map(|line| match serde_json::from_str(line) {
                Ok(JournalRecord::Up(dialog)) => Some(*dialog),
                _ => None,
            })
            .collect()
    }

    /// The whole set as journal text (what a compaction writes).
    pub fn to_text(&self) -> String {
        self.lines().concat()
    }

    /// Whether the file has grown enough beyond the live set to be rewritten.
    pub fn wants_compaction(&self) -> bool {
        self.records_since_compaction > 1000 + 4 * self.dialogs.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn record(call_id: &str, cseq: u32) -> DialogRecord {
        DialogRecord {
            call_id: call_id.into(),
            local_tag: "ours".into(),
            remote_tag: "theirs".into(),
            local: "<sip:1001@example.org>;tag=ours".into(),
            remote: "<sip:1002@example.org>".into(),
            remote_target: "sip:1002@192.0.2.1:5060".into(),
            route_set: vec!["<sip:192.0.2.1;lr>".into()],
            local_cseq: cseq,
            transport: "UDP".into(),
            peer: "192.0.2.1:5060".parse().unwrap(),
            line: "1001".into(),
            outbound: true,
            sdp: SdpState {
                session_id: 7,
                version: 2,
                local_rtp: Some("192.0.2.9:20000".parse().unwrap()),
                held_local: false,
                held_remote: false,
            },
            caller_id: "1001".into(),
            caller_id_name: String::new(),
            called_id: "1002".into(),
            called_id_name: String::new(),
        }
    }

    #[test]
    fn replay_keeps_what_is_up_with_its_latest_state_in_order() {
        let a = record("a", 1);
        let b = record("b", 1);
        let text = [
            JournalRecord::Up(Box::new(a.clone())),
            JournalRecord::Up(Box::new(b.clone())),
            JournalRecord::Up(Box::new(record("a", 5))),
            JournalRecord::Up(Box::new(record("c", 1))),
            JournalRecord::Down(record("c", 1).key()),
        ]
        .iter()
        .map(JournalRecord::to_line)
        .collect::<String>();
        let (live, skipped) = LiveDialogs::replay(&text);
        assert_eq!(skipped, 0);
        assert_eq!(live.records(), vec![record("a", 5), b]);
    }

    #[test]
    fn a_torn_last_line_is_skipped() {
        let mut text = JournalRecord::Up(Box::new(record("a", 1))).to_line();
        let torn = JournalRecord::Up(Box::new(record("b", 1))).to_line();
        text.push_str(&torn[..torn.len() / 2]);
        let (live, skipped) = LiveDialogs::replay(&text);
        assert_eq!(skipped, 1);
        assert_eq!(live.len(), 1);
    }

    #[test]
    fn compaction_text_replays_to_the_same_set() {
        let mut live = LiveDialogs::default();
        for i in 0..10 {
            live.apply(&JournalRecord::Up(Box::new(record(&i.to_string(), 1))));
        }
        for i in 0..5 {
            live.apply(&JournalRecord::Down(record(&i.to_string(), 1).key()));
        }
        let (again, _) = LiveDialogs::replay(&live.to_text());
        assert_eq!(again.records(), live.records());
        assert_eq!(again.len(), 5);
    }
}
