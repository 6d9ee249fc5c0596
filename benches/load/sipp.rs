//! SIPp runs for the bench: built-in uac/uas scenarios, large socket buffers, bounded, with a
//! statistics file read at the end (exit codes alone are not trusted), the process's CPU time
//! read from /proc before it is reaped, and (for the reference uac) its INVITE -> 180 times.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Sipp {
    child: Child,
    stats: PathBuf,
    /// Where `-trace_rtt` writes (the scenario file's stem, the pid): set by `with_rtt`.
    rtt: Option<PathBuf>,
}

/// The reference uac: SIPp's built-in `uac` with its response time measured INVITE -> 180
/// (SIPp's built-in `uas` answers 180 then 200 at once, as the gateway's LINE_REPLY waits for
/// the first provisional response).
pub fn reference_uac_scenario(dir: &Path) -> PathBuf {
    let out = Command::new("sipp")
        .args(["-sd", "uac"])
        .output()
        .expect("sipp -sd uac");
    let xml = String::from_utf8_lossy(&out.stdout)
        .replace(
            r#"<recv response="180" optional="true">"#,
            r#"<recv response="180" rtd="true">"#,
        )
        .replace(
            r#"<recv response="200" rtd="true">"#,
            r#"<recv response="200">"#,
        );
    assert!(
        xml.contains(r#"response="180" rtd="true""#),
        "sipp's uac changed"
    );
    let path = dir.join("ref_uac.xml");
    std::fs::write(&path, xml).unwrap();
    path
}

/// Final figures of a SIPp run.
#[derive(Debug, Default, Clone)]
pub struct SippStats {
    pub exit_ok: bool,
    pub created: u64,
    pub successful: u64,
    pub failed: u64,
    /// utime + stime of the process over its whole run.
    pub cpu: Duration,
    /// Response times (ms, SIPp's clock) of `-trace_rtt`, one per call; empty without it.
    pub rtt_ms: Vec<u64>,
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
        Sipp {
            child,
            stats,
            rtt: None,
        }
    }

    /// Starts the reference uac (`scenario`, from `reference_uac_scenario`) with `-trace_rtt`.
    pub fn start_rtt(
        dir: &Path,
        name: &str,
        scenario: &Path,
        args: &[String],
        timeout: Duration,
    ) -> Sipp {
        let mut all = vec![
            "-sf".to_string(),
            scenario.display().to_string(),
            "-trace_rtt".into(),
            "-rtt_freq".into(),
            "1".into(),
        ];
        all.extend_from_slice(args);
        let mut sipp = Sipp::start(dir, name, &all, timeout);
        let stem = scenario.file_stem().unwrap().to_string_lossy();
        sipp.rtt = Some(dir.join(format!("{stem}_{}_rtt.csv", sipp.child.id())));
        sipp
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
        let pid = self.child.id();
        let (cpu, status) = loop {
            if exited_unreaped(pid) {
                // A zombie's /proc/PID/stat still holds its final utime and stime.
                let cpu = crate::procfs::cpu_time(pid);
                break (cpu, self.child.wait().ok());
            }
            if Instant::now() > deadline {
                let cpu = crate::procfs::cpu_time(pid);
                let _ = self.child.kill();
                let _ = self.child.wait();
                break (cpu, None);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stats = read_stats(&self.stats);
        stats.exit_ok = status.is_some_and(|s| s.success());
        stats.cpu = cpu;
        stats.rtt_ms = self.rtt.as_deref().map(read_rtt).unwrap_or_default();
        stats
    }
}

/// Whether child `pid` has exited, without reaping it (waitid with WNOWAIT).
fn exited_unreaped(pid: u32) -> bool {
    // SAFETY: waitid on our own child with a zeroed siginfo_t it fills in.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let rc = libc::waitid(
            libc::P_PID,
            pid,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        rc == 0 && info.si_pid() != 0
    }
}

/// `Date_ms;response_time_ms;rtd_no` lines of a `-trace_rtt` file: the response times.
fn read_rtt(path: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split(';').nth(1)?.trim().parse::<f64>().ok())
        .map(|ms| ms as u64)
        .collect()
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
        created: get("TotalCallCreated"),
        successful: get("SuccessfulCall(C)"),
        failed: get("FailedCall(C)"),
        ..SippStats::default()
    }
}
