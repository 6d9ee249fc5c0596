//! The call journal on disk (`sip.journal_path`): opened, locked and replayed at start-up,
//! then appended to by a thread of its own, so the core task never waits for the disk (it
//! only moves records into a bounded channel; records that do not fit wait in the core).
//!
//! Why an append-only file and not SQLite: the journal only ever appends a line per dialog
//! change and replays the file once at start-up; JSON Lines with serde_json (already a
//! dependency) does that with sequential writes, no C library to build and a file an operator
//! can read with `tail`. rusqlite would bring SQLite's WAL, page cache and a C build for a
//! table that holds at most one row per live call.
//!
//! Durability (docs/operations.md, "Call journal"): every batch of records the thread finds
//! queued is written at once with one `write`, and made durable with one `fdatasync`, at most
//! one every 10 ms (group commit in time: records arriving within 10 ms of the last sync are
//! written as they come and synced together). A SIGKILL loses nothing that was written (the
//! page cache belongs to the kernel); a power loss loses at most the last 10 ms or so, whose
//! torn last line the replay skips. Syncing every batch cost about 70 us of CPU per call at
//! 3000 calls/s (docs/performance.md).
//!
//! The file is rewritten with only the live dialogs at start-up and whenever it has grown well
//! beyond them (written to `<path>.tmp`, synced, renamed over the journal, directory synced).
//! The thread keeps no copy of the lines: per live dialog only where its latest line is in the
//! file (offset, length), and a compaction reads them back with `pread` (records written but
//! not yet synced are in the page cache, readable like the rest). The file is the thread's own
//! and append-only between compactions, so the places stay right: a write that fails is cut
//! off the file again and retried with the next batch.
//! `<path>.lock` is held with `flock` for the process's life: a second gateway on the same
//! journal refuses to start.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use crate::gateway::Gateway;
use crate::journal::{up_record, DialogRecord, JournalRecord, LiveDialogs, Place};

/// Syncs are at least this far apart (group commit in time; see the module doc).
const SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);
/// Records one `write` takes at most.
const MAX_BATCH: usize = 4096;
/// Records of failed writes kept to be written again.
const MAX_UNWRITTEN: usize = 64 * 1024;
/// Records queued between the core and the writer thread.
pub const CHANNEL: usize = 16 * 1024;

/// Why the journal could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the call journal {} (sip.journal_path): {source}", path.display())]
pub struct JournalError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// An open, locked journal whose records were replayed.
pub struct Journal {
    path: PathBuf,
    /// Open for appending, and for reading the live lines back (compaction).
    file: File,
    _lock: File,
    /// Where each live dialog's line is in `file`.
    live: LiveDialogs,
    /// Records whose write failed, written again before the next ones (in order).
    unwritten: Vec<JournalRecord>,
}

impl Journal {
    /// Opens (creating) the journal at `path`, takes its lock and replays it; the file is
    /// compacted to the live dialogs at once.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let error = |source| JournalError {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(error)?;
        }
        let lock = lock_file(&with_suffix(path, ".lock")).map_err(error)?;
        let mut text = match fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) if err.kind() == io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(error(err)),
        };
        if !text.is_empty() && !text.ends_with('\n') {
            // A last line cut short, or complete but for its newline: either way a line.
            text.push('\n');
        }
        let (mut live, skipped) = LiveDialogs::replay(&text);
        if skipped > 0 {
            tracing::warn!(path = %path.display(), skipped, "journal lines that do not parse were skipped (a write cut short)");
        }
        let file = rewrite(path, &mut live, |place, line| {
            let found = place
                .in_text(text.as_bytes())
                .ok_or_else(|| bad_line(place))?;
            line.clear();
            line.extend_from_slice(found);
            Ok(())
        })
        .map_err(error)?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            _lock: lock,
            live,
            unwritten: Vec::new(),
        })
    }

    /// The dialogs that were up when the journal was last written, read back from the file
    /// (oldest line first).
    pub fn live_dialogs(&self) -> Vec<DialogRecord> {
        let mut line = Vec::new();
        let mut records = Vec::with_capacity(self.live.len());
        for place in self.live.places() {
            match read_line(&self.file, place, &mut line).map(|()| up_record(&line)) {
                Ok(Some(record)) => records.push(record),
                Ok(None) => self.report(&bad_line(place)),
                Err(err) => self.report(&err),
            }
        }
        records
    }

    /// Starts the writer thread; it ends once every sender is dropped and what they sent is
    /// on disk.
    pub fn spawn_writer(self) -> (mpsc::Sender<JournalRecord>, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let handle = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || self.write_until_closed(rx))
            .expect("spawn the journal thread");
        (tx, handle)
    }

    fn write_until_closed(mut self, mut rx: mpsc::Receiver<JournalRecord>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let mut last_sync: Option<std::time::Instant> = None;
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            self.write_queued(&mut rx, &mut batch);
            // Group commit in time: a sync within SYNC_INTERVAL of the last one waits for it,
            // taking in (and writing) what arrives meanwhile, so a busy gateway syncs at most
            // 1 / SYNC_INTERVAL times a second; after a quiet spell the sync is immediate.
            if let Some(wait) = last_sync.and_then(|t| SYNC_INTERVAL.checked_sub(t.elapsed())) {
                std::thread::sleep(wait);
                self.write_queued(&mut rx, &mut batch);
            }
            if let Err(err) = self.sync_and_compact() {
                self.report(&err);
            }
            last_sync = Some(std::time::Instant::now());
        }
        if !self.unwritten.is_empty() {
            // Records of a failed write, with no next batch to take them: a last try.
            if let Err(err) = self.append(&mut batch).and_then(|()| self.file.sync_data()) {
                self.report(&err);
            }
        }
    }

    /// Writes every record queued now (in batches of at most MAX_BATCH), without syncing.
    fn write_queued(
        &mut self,
        rx: &mut mpsc::Receiver<JournalRecord>,
        batch: &mut Vec<JournalRecord>,
    ) {
        loop {
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(record) => batch.push(record),
                    Err(_) => break,
                }
            }
            if batch.is_empty() {
                return;
            }
            let full = batch.len() == MAX_BATCH;
            if let Err(err) = self.append(batch) {
                self.report(&err);
            }
            batch.clear();
            if !full {
                return;
            }
        }
    }

    fn report(&self, err: &io::Error) {
        tracing::error!(path = %self.path.display(), %err, "call journal write failed: crash recovery may miss calls");
    }

    /// Appends a batch (after any records whose write failed before) with one `write`: in
    /// the page cache at once, so a SIGKILL loses nothing of it, and readable for a
    /// compaction before it is synced; [`Self::sync_and_compact`] makes it durable. Only
    /// lines written are placed in `live`; a failed write is cut off the file and retried.
    fn append(&mut self, batch: &mut Vec<JournalRecord>) -> io::Result<()> {
        if !self.unwritten.is_empty() {
            batch.splice(0..0, std::mem::take(&mut self.unwritten));
        }
        let mut text = String::new();
        let mut lines = Vec::with_capacity(batch.len());
        for (i, record) in batch.iter().enumerate() {
            let line = record.to_line();
            // Records come from SIP messages (`sip.max_message_bytes`): far below 4 GiB.
            let Ok(len) = u32::try_from(line.len()) else {
                tracing::error!(
                    len = line.len(),
                    "call journal record too long: not written"
                );
                continue;
            };
            lines.push((i, len));
            text.push_str(&line);
        }
        if let Err(err) = self.file.write_all(text.as_bytes()) {
            self.cut_after_failed_write();
            self.keep_unwritten(batch);
            return Err(err);
        }
        for (i, len) in lines {
            self.live.apply(&batch[i], len);
        }
        Ok(())
    }

    /// Keeps the records of a failed write for the next, at most MAX_UNWRITTEN (the oldest
    /// go first: a disk that stays full must not fill the memory too).
    fn keep_unwritten(&mut self, batch: &mut Vec<JournalRecord>) {
        self.unwritten = std::mem::take(batch);
        let excess = self.unwritten.len().saturating_sub(MAX_UNWRITTEN);
        if excess > 0 {
            self.unwritten.drain(..excess);
            tracing::error!(
                lost = excess,
                "call journal records dropped after failed writes"
            );
        }
    }

    /// After a failed write: cuts what part of it reached the file, so the places stay right.
    /// Where even that fails, the places follow the file's length, and a newline ends the
    /// torn line (the replay skips it).
    fn cut_after_failed_write(&mut self) {
        if self.file.set_len(self.live.end()).is_ok() {
            return;
        }
        let Ok(len) = self.file.metadata().map(|m| m.len()) else {
            return;
        };
        self.live.skip(len.saturating_sub(self.live.end()));
        if self.file.write_all(b"\n").is_ok() {
            self.live.skip(1);
        }
    }

    /// Syncs what was written, and compacts when the file has grown enough: the live lines
    /// are read back from the file (the page cache has them) and written as a new one. A
    /// failed compaction leaves the file as it was, and is tried again after as many records.
    fn sync_and_compact(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        if !self.live.wants_compaction() {
            return Ok(());
        }
        let file = &self.file;
        match rewrite(&self.path, &mut self.live, |place, line| {
            read_line(file, place, line)
        }) {
            Ok(file) => self.file = file,
            Err(err) => {
                self.live.records_since_compaction = 0;
                return Err(err);
            }
        }
        Ok(())
    }
}

/// Moves the gateway's journal records into the writer's channel while it has room; the rest
/// wait in the core (the core task never blocks on the journal).
pub fn move_records(gateway: &mut Gateway, tx: &mpsc::Sender<JournalRecord>) {
    while tx.capacity() > 0 {
        let Some(record) = gateway.poll_journal() else {
            return;
        };
        if tx.try_send(record).is_err() {
            return;
        }
    }
}

/// At the end of a run: every record still in the core goes to the writer, waiting for room.
pub async fn move_all(gateway: &mut Gateway, tx: &mpsc::Sender<JournalRecord>) {
    while let Some(record) = gateway.poll_journal() {
        if tx.send(record).await.is_err() {
            return;
        }
    }
}

/// Writes the live dialogs' lines, each got by `read` from its place, in file order, as the
/// whole journal: a temporary file, synced, renamed over the journal, directory synced. On
/// success `live`'s places are the new file's, and it is returned open for reading and
/// appending (opened before the rename, so it is the journal whatever fails after); on
/// failure the journal and `live` are as they were.
fn rewrite(
    path: &Path,
    live: &mut LiveDialogs,
    mut read: impl FnMut(Place, &mut Vec<u8>) -> io::Result<()>,
) -> io::Result<File> {
    let tmp = with_suffix(path, ".tmp");
    match fs::remove_file(&tmp) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .open(&tmp)?;
    let mut out = BufWriter::with_capacity(64 * 1024, &file);
    let mut line = Vec::new();
    for place in live.places() {
        read(place, &mut line)?;
        out.write_all(&line)?;
    }
    out.flush()?;
    drop(out);
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    live.compacted();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(err) = File::open(dir).and_then(|d| d.sync_all()) {
            tracing::warn!(path = %path.display(), %err, "call journal compacted, but its directory could not be synced");
        }
    }
    Ok(file)
}

/// Reads the line at `place` of the journal into `line`, checking it is an `up` line whole
/// (a place that no longer matches the file must not be copied into a compaction).
fn read_line(file: &File, place: Place, line: &mut Vec<u8>) -> io::Result<()> {
    line.resize(place.len as usize, 0);
    file.read_exact_at(line, place.offset)?;
    if !(line.starts_with(b"{\"up\":") && line.ends_with(b"\n")) {
        return Err(bad_line(place));
    }
    Ok(())
}

fn bad_line(place: Place) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "no journal line of a live dialog at offset {} ({} bytes)",
            place.offset, place.len
        ),
    )
}

/// `<path><suffix>`.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Opens `path` and takes an exclusive `flock` on it (held while the file stays open).
fn lock_file(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    // SAFETY: flock on a descriptor we own.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!("another gateway holds {} ({err})", path.display()),
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{DialogId, SdpState};

    fn record(call_id: &str) -> DialogRecord {
        record_at(call_id, 1)
    }

    fn record_at(call_id: &str, local_cseq: u32) -> DialogRecord {
        DialogRecord {
            call_id: call_id.into(),
            local_tag: "t".into(),
            remote_tag: "r".into(),
            local: "<sip:a@h>;tag=t".into(),
            remote: "<sip:b@h>".into(),
            remote_target: "sip:b@192.0.2.1".into(),
            route_set: vec![],
            local_cseq,
            transport: "UDP".into(),
            peer: "192.0.2.1:5060".parse().unwrap(),
            line: "1001".into(),
            outbound: true,
            sdp: SdpState {
                session_id: 1,
                version: 1,
                local_rtp: None,
                held_local: false,
                held_remote: false,
            },
            caller_id: String::new(),
            caller_id_name: String::new(),
            called_id: String::new(),
            called_id_name: String::new(),
        }
    }

    fn down(call_id: &str) -> JournalRecord {
        JournalRecord::Down(DialogId {
            call_id: call_id.into(),
            local_tag: "t".into(),
        })
    }

    #[test]
    fn records_written_by_the_thread_are_there_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let journal = Journal::open(&path).unwrap();
        assert!(journal.live_dialogs().is_empty());
        let (tx, thread) = journal.spawn_writer();
        for id in ["a", "b", "c"] {
            tx.blocking_send(JournalRecord::Up(Box::new(record(id))))
                .unwrap();
        }
        tx.blocking_send(down("b")).unwrap();
        drop(tx);
        thread.join().unwrap();
        let again = Journal::open(&path).unwrap();
        let ids: Vec<String> = again
            .live_dialogs()
            .into_iter()
            .map(|d| d.call_id)
            .collect();
        assert_eq!(ids, vec!["a", "c"]);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "compacted on open: {text}");
    }

    #[test]
    fn a_second_gateway_cannot_open_the_same_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let _first = Journal::open(&path).unwrap();
        let err = Journal::open(&path).err().expect("locked");
        assert!(err.to_string().contains("sip.journal_path"), "{err}");
        assert!(err.to_string().contains("another gateway"), "{err}");
    }

    #[test]
    fn the_file_is_compacted_once_it_grows_well_beyond_the_live_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (tx, thread) = Journal::open(&path).unwrap().spawn_writer();
        for i in 0..3000 {
            let id = i.to_string();
            tx.blocking_send(JournalRecord::Up(Box::new(record(&id))))
                .unwrap();
            tx.blocking_send(down(&id)).unwrap();
        }
        tx.blocking_send(JournalRecord::Up(Box::new(record("last"))))
            .unwrap();
        drop(tx);
        thread.join().unwrap();
        let lines = fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines < 2000, "{lines} lines: never compacted");
        let again = Journal::open(&path).unwrap();
        assert_eq!(again.live_dialogs().len(), 1);
    }

    /// What the journal should hold: the latest record of each dialog up.
    type Model = std::collections::BTreeMap<String, DialogRecord>;

    /// A deterministic mix of new dialogs, changes and ends over `ids` call IDs.
    fn churn(seed: &mut u64, ids: u64, model: &mut Model) -> Vec<JournalRecord> {
        (0..100)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let id = format!("c{}", (*seed >> 33) % ids);
                if (*seed >> 20) % 3 == 0 && model.remove(&id).is_some() {
                    return down(&id);
                }
                let cseq = model.get(&id).map_or(1, |r| r.local_cseq + 1);
                let up = record_at(&id, cseq);
                model.insert(id, up.clone());
                JournalRecord::Up(Box::new(up))
            })
            .collect()
    }

    fn sorted(mut records: Vec<DialogRecord>) -> Vec<DialogRecord> {
        records.sort_by(|a, b| a.call_id.cmp(&b.call_id));
        records
    }

    /// The journal's live dialogs are exactly the model's.
    fn assert_live(journal: &Journal, model: &Model) {
        assert_eq!(
            sorted(journal.live_dialogs()),
            model.values().cloned().collect::<Vec<_>>()
        );
    }

    /// The journal at `path`, opened again, holds exactly the model's dialogs.
    fn assert_reopens_to(path: &Path, model: Model) {
        let again = Journal::open(path).unwrap();
        let expected: Vec<DialogRecord> = model.into_values().collect();
        assert_eq!(sorted(again.live_dialogs()), expected);
    }

    /// Appends `rounds` of churn, syncing after each; returns the compactions seen, each
    /// checked: the file then holds exactly the live lines.
    fn churn_and_compact(
        journal: &mut Journal,
        seed: &mut u64,
        model: &mut Model,
        rounds: usize,
    ) -> usize {
        let mut compactions = 0;
        for _ in 0..rounds {
            journal.append(&mut churn(seed, 300, model)).unwrap();
            journal.sync_and_compact().unwrap();
            if journal.live.records_since_compaction == 0 {
                compactions += 1;
                let text = fs::read_to_string(&journal.path).unwrap();
                assert_eq!(text.lines().count(), model.len());
                let (replayed, skipped) = LiveDialogs::replay(&text);
                assert_eq!(skipped, 0);
                let records = sorted(replayed.records(text.as_bytes()));
                assert_eq!(records, model.values().cloned().collect::<Vec<_>>());
            }
        }
        compactions
    }

    #[test]
    fn compactions_read_the_live_lines_back_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let mut journal = Journal::open(&path).unwrap();
        let (mut seed, mut model) = (1, Model::new());
        let compactions = churn_and_compact(&mut journal, &mut seed, &mut model, 60);
        assert!(compactions >= 2, "{compactions} compactions");
        journal
            .append(&mut churn(&mut seed, 300, &mut model))
            .unwrap();
        assert_live(&journal, &model);
        drop(journal);
        assert_reopens_to(&path, model);
    }

    #[test]
    fn a_compaction_after_a_restart_keeps_the_dialogs_from_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (mut seed, mut model) = (7, Model::new());
        let mut journal = Journal::open(&path).unwrap();
        churn_and_compact(&mut journal, &mut seed, &mut model, 5);
        drop(journal);
        // A torn last write, as after a power loss: skipped at start-up.
        let torn = JournalRecord::Up(Box::new(record("torn"))).to_line();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&torn.as_bytes()[..torn.len() / 2]).unwrap();
        drop(file);
        let mut journal = Journal::open(&path).unwrap();
        assert_live(&journal, &model);
        let compactions = churn_and_compact(&mut journal, &mut seed, &mut model, 30);
        assert!(compactions >= 1, "never compacted after the restart");
        drop(journal);
        assert_reopens_to(&path, model);
    }

    #[test]
    fn a_line_that_is_not_where_its_place_says_is_not_copied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let mut journal = Journal::open(&path).unwrap();
        let mut batch = vec![
            JournalRecord::Up(Box::new(record("a"))),
            JournalRecord::Up(Box::new(record("b"))),
        ];
        journal.append(&mut batch).unwrap();
        let place = journal.live.places()[0];
        let shifted = Place {
            offset: place.offset + 1,
            ..place
        };
        let mut line = Vec::new();
        assert!(read_line(&journal.file, place, &mut line).is_ok());
        let err = read_line(&journal.file, shifted, &mut line).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn records_of_a_failed_write_are_written_with_the_next_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let mut journal = Journal::open(&path).unwrap();
        let (mut seed, mut model) = (3, Model::new());
        journal
            .append(&mut churn(&mut seed, 50, &mut model))
            .unwrap();
        // A descriptor that cannot write: every write fails, as on a full disk.
        let good = std::mem::replace(&mut journal.file, File::open(&path).unwrap());
        let failed = journal.append(&mut churn(&mut seed, 50, &mut model));
        assert!(failed.is_err());
        assert_eq!(journal.unwritten.len(), 100);
        journal.file = good;
        journal
            .append(&mut churn(&mut seed, 50, &mut model))
            .unwrap();
        assert!(journal.unwritten.is_empty());
        journal.sync_and_compact().unwrap();
        let expected: Vec<DialogRecord> = model.values().cloned().collect();
        assert_eq!(sorted(journal.live_dialogs()), expected);
        drop(journal);
        assert_eq!(
            sorted(Journal::open(&path).unwrap().live_dialogs()),
            expected
        );
    }
}
