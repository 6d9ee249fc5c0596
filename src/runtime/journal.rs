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
//! `<path>.lock` is held with `flock` for the process's life: a second gateway on the same
//! journal refuses to start.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use crate::gateway::Gateway;
use crate::journal::{DialogRecord, JournalRecord, LiveDialogs};

/// Syncs are at least this far apart (group commit in time; see the module doc).
const SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);
/// Records one `write` takes at most.
const MAX_BATCH: usize = 4096;
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
    file: File,
    _lock: File,
    live: LiveDialogs,
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
        let text = match fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) if err.kind() == io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(error(err)),
        };
        let (live, skipped) = LiveDialogs::replay(&text);
        if skipped > 0 {
            tracing::warn!(path = %path.display(), skipped, "journal lines that do not parse were skipped (a write cut short)");
        }
        let file = rewrite(path, &live).map_err(error)?;
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
            _lock: lock,
            live,
        };
        journal.live.records_since_compaction = 0;
        Ok(journal)
    }

    /// The dialogs that were up when the journal was last written.
    pub fn live_dialogs(&self) -> Vec<DialogRecord> {
        self.live.records()
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

    /// Appends a batch with one `write` (in the page cache at once: a SIGKILL loses nothing of
    /// it); [`Self::sync_and_compact`] makes it durable.
    fn append(&mut self, batch: &[JournalRecord]) -> io::Result<()> {
        let mut text = String::new();
        for record in batch {
            let line = record.to_line();
            self.live.apply_line(record, &line);
            text.push_str(&line);
        }
        self.file.write_all(text.as_bytes())
    }

    /// Syncs what was written, and compacts when the file has grown enough.
    fn sync_and_compact(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        if self.live.wants_compaction() {
            self.file = rewrite(&self.path, &self.live)?;
            self.live.records_since_compaction = 0;
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

/// Writes `live` as the whole journal (temporary file, sync, rename, directory sync) and
/// returns the journal opened for appending.
fn rewrite(path: &Path, live: &LiveDialogs) -> io::Result<File> {
    let tmp = with_suffix(path, ".tmp");
    {
        let mut file = File::create(&tmp)?;
        file.write_all(live.to_text().as_bytes())?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    OpenOptions::new().append(true).open(path)
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
        DialogRecord {
            call_id: call_id.into(),
            local_tag: "t".into(),
            remote_tag: "r".into(),
            local: "<sip:a@h>;tag=t".into(),
            remote: "<sip:b@h>".into(),
            remote_target: "sip:b@192.0.2.1".into(),
            route_set: vec![],
            local_cseq: 1,
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
}
