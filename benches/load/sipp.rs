//! SIPp runs for the bench: built-in uac/uas scenarios, large socket buffers, bounded, with a
//! statistics file read at the end (exit codes alone are not trusted).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Sipp {
    child: Child,
    stats: PathBuf,
}

/// Final figures of a SIPp run.
#[derive(Debug, Default, Clone, Copy)]
pub struct SippStats {
    pub exit_ok: bool,
    pub created: u64,
    pub successful: u64,
    pub failed: u64,
}

impl SippStats {
    pub fn clean(&self, expected: u64) -> bool {
        self.exit_ok && self.failed == 0 && self.successful == expected
    }
}

impl Sipp {
    /// Starts SIPp with `args` in `dir`, with the options every bench run needs.
    pub fn start(dir: &Path, name: &str, args: &[String], timeout: Duration) -> Sipp {
        let stats = dir.join(format!("{name}.csv"));
        let child = Command::new("sipp")
            .current_dir(dir)
            .args(args)
            .args(["-i", "127.0.0.1", "-nostdin", "-buff_size", "4194304"])
            .args(["-trace_stat", "-fd", "1", "-stf"])
            .arg(&stats)
            .args([
                "-timeout",
                &format!("{}s", timeout.as_secs()),
                "-timeout_error",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp (apt-get install sip-tester)");
        Sipp { child, stats }
    }

    /// Waits (at most 10 s) until SIPp has bound UDP `port`.
    pub fn wait_bound(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if crate::proc_net::udp_port_bound(self.child.id(), port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the exit (killing it after `limit`) and reads the statistics.
    pub fn finish(mut self, limit: Duration) -> SippStats {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stats = read_stats(&self.stats);
        stats.exit_ok = status.is_some_and(|s| s.success());
        stats
    }
}

fn read_stats(path: &Path) -> SippStats {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let (Some(header), Some(last)) = (lines.first(), lines.last()) else {
        return SippStats::default();
    };
    if lines.len() < 2 {
        return SippStats::default();
    }
    let names: Vec<&str> = header.split(';').collect();
    let values: Vec<&str> = last.split(';').collect();
    let get = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| values.get(i))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    SippStats {
        exit_ok: false,
        created: get("TotalCallCreated"),
        successful: get("SuccessfulCall(C)"),
        failed: get("FailedCall(C)"),
    }
}
