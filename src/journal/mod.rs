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
//! and whenever it has grown well beyond them: it keeps, per live dialog, only where its
//! latest `up` line is in the file ([`LiveDialogs`]), and reads those lines back from the file
//! to write them again, in file order (the order of each dialog's latest record).
//!
//! # What a record holds
//!
//! Everything needed to send a request in the dialog after a restart (RFC 3261 §12.2.1.1):
//! Call-ID, both tags, local and remote URIs, remote target, route set, our CSeq, the
//! transport and peer address; the line; and the SDP state for a re-INVITE (RFC 3264 §8: the
//! same `o=` session ID with a higher version, our RTP address, who holds whom).

mod line;

use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::LazyLock;

use rustc_hash::FxHashMap;

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
    /// a call's record changed (a copy per live call cost about 1 KB of RSS). foldhash's
    /// quality variant with a seed drawn once per process (fingerprints are never stored): a
    /// fraction of the instructions of std's SipHash-1-3, which had fixed keys here, and like it
    /// 64 bits, so a change goes unseen by chance about once in 2⁶⁴ (docs/architecture.md,
    /// "Allocator and hashing").
    pub fn fingerprint(&self) -> u64 {
        static SEED: LazyLock<foldhash::quality::SeedableRandomState> =
            LazyLock::new(crate::hash::quality);
        SEED.hash_one(self)
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

/// Where a line is in the journal file: its first byte and its length with the newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub offset: u64,
    pub len: u32,
}

impl Place {
    /// The line's bytes in `text` (the file's contents), if `text` is long enough.
    pub fn in_text(self, text: &[u8]) -> Option<&[u8]> {
        let start = usize::try_from(self.offset).ok()?;
        text.get(start..start.checked_add(self.len as usize)?)
    }
}

/// The dialogs still up after a journal's records. Of each, only where its latest `up` line
/// is in the file is kept (not the line, about 1.4 KB, nor its key's strings): the file is
/// the writer's own and append-only between compactions, so a compaction reads the live lines
/// back from it (`runtime::journal`) and writes them, in file order, as the new file.
#[derive(Debug, Default, Clone)]
pub struct LiveDialogs {
    /// Per live dialog, by the 128-bit hash of its key ([`KeyHash`]; random already, so Fx,
    /// a multiply, spreads it well enough).
    dialogs: FxHashMap<u128, Place>,
    keys: KeyHash,
    /// The file's length: where the next line goes.
    end: u64,
    /// Records applied since the set was last written out whole.
    pub records_since_compaction: u64,
}

/// A dialog key (Call-ID, our tag) hashed to 128 bits: two foldhash (quality variant) with
/// their own random seeds (`crate::hash`), so peers, who choose Call-IDs but never see a hash
/// (the table is the writer thread's and never shown to them), cannot aim at a collision.
/// Until 2026-12-02 these were two SipHash-1-3, several times the instructions. Two live
/// dialogs colliding by chance is about as likely as n² / 2¹²⁹: for 100 000 live dialogs
/// about 10⁻²⁹. A collision would make the later dialog's lines replace the earlier's until
/// one of them ends (the other is then missing from compactions).
#[derive(Debug, Clone)]
struct KeyHash([foldhash::quality::SeedableRandomState; 2]);

impl Default for KeyHash {
    fn default() -> Self {
        KeyHash([crate::hash::quality(), crate::hash::quality()])
    }
}

impl KeyHash {
    fn of(&self, call_id: &str, local_tag: &str) -> u128 {
        let [high, low] = &self.0;
        let key = (call_id, local_tag);
        (u128::from(high.hash_one(key)) << 64) | u128::from(low.hash_one(key))
    }
}

impl LiveDialogs {
    /// Replays journal text; each live dialog's place is its latest `up` line's in `text`.
    /// Lines that do not parse (a torn last write) are counted in the second value and
    /// skipped.
    pub fn replay(text: &str) -> (LiveDialogs, usize) {
        let mut live = LiveDialogs::default();
        let mut skipped = 0;
        for line in text.split_inclusive('\n') {
            let blank = line.trim().is_empty();
            let parsed = u32::try_from(line.len())
                .ok()
                .filter(|_| !blank)
                .and_then(|len| Some((serde_json::from_str::<JournalRecord>(line).ok()?, len)));
            match parsed {
                Some((record, len)) => live.apply(&record, len),
                None => {
                    skipped += usize::from(!blank);
                    live.skip(line.len() as u64);
                }
            }
        }
        (live, skipped)
    }

    /// Applies `record`, whose line (`len` bytes with its newline) was appended to the file.
    pub fn apply(&mut self, record: &JournalRecord, len: u32) {
        self.records_since_compaction += 1;
        let place = Place {
            offset: self.end,
            len,
        };
        self.end += u64::from(len);
        match record {
            JournalRecord::Up(dialog) => {
                let key = self.keys.of(&dialog.call_id, &dialog.local_tag);
                self.dialogs.insert(key, place);
            }
            JournalRecord::Down(id) => {
                let key = self.keys.of(&id.call_id, &id.local_tag);
                self.dialogs.remove(&key);
            }
        }
    }

    /// `len` bytes that are no record were appended (a blank or torn line).
    pub fn skip(&mut self, len: u64) {
        self.end += len;
    }

    /// The file's length as far as the records applied tell: where the next line goes.
    pub fn end(&self) -> u64 {
        self.end
    }

    pub fn len(&self) -> usize {
        self.dialogs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dialogs.is_empty()
    }

    /// Where the live dialogs' lines are, in file order (what a compaction writes).
    pub fn places(&self) -> Vec<Place> {
        let mut all: Vec<Place> = self.dialogs.values().copied().collect();
        all.sort_by_key(|p| p.offset);
        all
    }

    /// The lines at [`Self::places`] were written one after another, in that order, as a new
    /// file (a compaction): the places become theirs in it.
    pub fn compacted(&mut self) {
        let mut all: Vec<&mut Place> = self.dialogs.values_mut().collect();
        all.sort_by_key(|p| p.offset);
        let mut end = 0;
        for place in all {
            place.offset = end;
            end += u64::from(place.len);
        }
        self.end = end;
        self.records_since_compaction = 0;
    }

    /// The live dialogs' records, read from `text` (the file's contents), in file order.
    pub fn records(&self, text: &[u8]) -> Vec<DialogRecord> {
        self.places()
            .into_iter()
            .filter_map(|place| up_record(place.in_text(text)?))
            .collect()
    }

    /// Whether the file has grown enough beyond the live set to be rewritten.
    pub fn wants_compaction(&self) -> bool {
        self.records_since_compaction > 1000 + 4 * self.dialogs.len() as u64
    }
}

/// The dialog of an `up` line.
pub fn up_record(line: &[u8]) -> Option<DialogRecord> {
    match serde_json::from_slice(line) {
        Ok(JournalRecord::Up(dialog)) => Some(*dialog),
        _ => None,
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

    fn text(records: &[JournalRecord]) -> String {
        records.iter().map(JournalRecord::to_line).collect()
    }

    fn up(call_id: &str, cseq: u32) -> JournalRecord {
        JournalRecord::Up(Box::new(record(call_id, cseq)))
    }

    fn down(call_id: &str) -> JournalRecord {
        JournalRecord::Down(record(call_id, 1).key())
    }

    /// What a compaction writes: the live lines of `text`, in file order.
    fn compact(live: &mut LiveDialogs, text: &str) -> String {
        let lines: Vec<&[u8]> = live
            .places()
            .into_iter()
            .map(|p| p.in_text(text.as_bytes()).unwrap())
            .collect();
        live.compacted();
        String::from_utf8(lines.concat()).unwrap()
    }

    #[test]
    fn replay_keeps_what_is_up_with_its_latest_state_in_file_order() {
        let text = text(&[up("a", 1), up("b", 1), up("a", 5), up("c", 1), down("c")]);
        let (live, skipped) = LiveDialogs::replay(&text);
        assert_eq!(skipped, 0);
        assert_eq!(live.end(), text.len() as u64);
        assert_eq!(
            live.records(text.as_bytes()),
            vec![record("b", 1), record("a", 5)]
        );
    }

    #[test]
    fn a_torn_last_line_is_skipped() {
        let mut text = JournalRecord::Up(Box::new(record("a", 1))).to_line();
        let torn = JournalRecord::Up(Box::new(record("b", 1))).to_line();
        text.push_str(&torn[..torn.len() / 2]);
        let (live, skipped) = LiveDialogs::replay(&text);
        assert_eq!(skipped, 1);
        assert_eq!(live.len(), 1);
        assert_eq!(
            live.end(),
            text.len() as u64,
            "the torn bytes are in the file"
        );
    }

    #[test]
    fn compaction_text_replays_to_the_same_set() {
        let mut records: Vec<JournalRecord> = (0..10).map(|i| up(&i.to_string(), 1)).collect();
        records.extend((0..5).map(|i| down(&i.to_string())));
        let text = text(&records);
        let (mut live, _) = LiveDialogs::replay(&text);
        let before = live.records(text.as_bytes());
        let compacted = compact(&mut live, &text);
        assert_eq!(live.records(compacted.as_bytes()), before);
        let (again, _) = LiveDialogs::replay(&compacted);
        assert_eq!(again.records(compacted.as_bytes()), before);
        assert_eq!(again.len(), 5);
    }

    #[test]
    fn places_after_a_compaction_follow_the_appends_made_after_it() {
        let mut live = LiveDialogs::default();
        let mut file = String::new();
        let append = |live: &mut LiveDialogs, file: &mut String, record: JournalRecord| {
            let line = record.to_line();
            live.apply(&record, line.len() as u32);
            file.push_str(&line);
        };
        for i in 0..50 {
            append(&mut live, &mut file, up(&i.to_string(), 1));
            append(&mut live, &mut file, up(&(i / 2).to_string(), i));
            if i % 3 == 0 {
                append(&mut live, &mut file, down(&(i / 3).to_string()));
            }
        }
        file = compact(&mut live, &file);
        assert_eq!(live.end(), file.len() as u64);
        append(&mut live, &mut file, up("7", 99));
        append(&mut live, &mut file, down("40"));
        append(&mut live, &mut file, up("new", 1));
        let (replayed, skipped) = LiveDialogs::replay(&file);
        assert_eq!(skipped, 0);
        assert_eq!(
            replayed.records(file.as_bytes()),
            live.records(file.as_bytes())
        );
        let ids: Vec<String> = live
            .records(file.as_bytes())
            .into_iter()
            .map(|r| r.call_id)
            .collect();
        assert!(ids.contains(&"new".to_string()) && !ids.contains(&"40".to_string()));
        assert!(live.records(file.as_bytes()).contains(&record("7", 99)));
        assert_eq!(live.len(), ids.len());
    }
}
