//! Kamailio as the provider's registrar and proxy: its config generated from
//! `kamailio.cfg.tmpl` into a temp dir (ports, digest algorithm, TCP connection lifetime,
//! session-timer interval), run in the foreground, bindings read with `kamcmd ul.dump`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use super::process::PeerProcess;
use crate::common::free_port;

const TEMPLATE: &str = include_str!("kamailio.cfg.tmpl");

/// Passwords of the users in Kamailio's htable.
pub const PASSWORD_1001: &str = "gw-secret-1001";
pub const PASSWORD_2001: &str = "bs-secret-2001";
pub const PASSWORD_2002: &str = "bs-secret-2002";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }
}

#[derive(Clone, Debug)]
pub struct KamailioOptions {
    pub algorithm: Algorithm,
    /// `tcp_connection_lifetime` (s): idle TCP connections are closed after it.
    pub tcp_lifetime_s: u32,
    /// The sst module's `min_se`: the `Session-Expires` it inserts into INVITEs that have none.
    pub session_expires_s: u32,
    /// Whether requests of 2001/2002 (baresip) are challenged too; baresip 1.0 only does MD5.
    pub phones_authenticate: bool,
    /// The registrar's RFC 5626 `outbound_mode` (0 ignores reg-id, 1 keeps flows).
    pub outbound_mode: u32,
    /// The registrar's `flow_timer`: the Flow-Timer of its 200s (0: none; needs outbound_mode).
    pub flow_timer_s: u32,
}

impl Default for KamailioOptions {
    fn default() -> Self {
        KamailioOptions {
            algorithm: Algorithm::Md5,
            tcp_lifetime_s: 120,
            session_expires_s: 90,
            phones_authenticate: true,
            outbound_mode: 0,
            flow_timer_s: 0,
        }
    }
}

/// One binding in Kamailio's location table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub aor: String,
    pub address: String,
    pub expires: String,
    pub socket: String,
}

pub struct Kamailio {
    pub port: u16,
    pub process: PeerProcess,
    ctl: String,
    _dir: tempfile::TempDir,
}

fn module_path() -> PathBuf {
    [
        "/usr/lib/x86_64-linux-gnu/kamailio/modules",
        "/usr/lib/kamailio/modules",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.join("sst.so").exists())
    .or_else(|| {
        // other multiarch triplets
        std::fs::read_dir("/usr/lib").ok()?.flatten().find_map(|e| {
            let p = e.path().join("kamailio/modules");
            p.join("sst.so").exists().then_some(p)
        })
    })
    .expect("Kamailio modules not found: run scripts/setup-interop.sh")
}

/// `kamailio`/`kamcmd` live in /usr/sbin, which a non-root PATH may lack.
fn sbin(tool: &str) -> PathBuf {
    let path = PathBuf::from("/usr/sbin").join(tool);
    if path.exists() {
        path
    } else {
        PathBuf::from(tool)
    }
}

impl Kamailio {
    pub fn start(options: KamailioOptions) -> Kamailio {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().to_str().unwrap().to_string();
        let config = fill(
            TEMPLATE,
            &[
                ("DEBUG", "2"),
                ("PORT", &port.to_string()),
                ("TCP_LIFETIME", &options.tcp_lifetime_s.to_string()),
                ("MPATH", &format!("{}/", module_path().display())),
                ("RUNDIR", &run),
                ("ALGORITHM", options.algorithm.name()),
                ("SST_MIN_SE", &options.session_expires_s.to_string()),
                (
                    "PHONES_AUTH",
                    if options.phones_authenticate {
                        "1"
                    } else {
                        "0"
                    },
                ),
                ("OUTBOUND_MODE", &options.outbound_mode.to_string()),
                ("FLOW_TIMER", &options.flow_timer_s.to_string()),
                ("PASSWORD_1001", PASSWORD_1001),
                ("PASSWORD_2001", PASSWORD_2001),
                ("PASSWORD_2002", PASSWORD_2002),
            ],
        );
        let cfg = dir.path().join("kamailio.cfg");
        std::fs::write(&cfg, config).unwrap();
        let mut cmd = Command::new(sbin("kamailio"));
        cmd.args([
            "-DD", "-E", "-m", "32", "-M", "4", "-Y", &run, "-w", &run, "-f",
        ])
        .arg(&cfg)
        .current_dir(dir.path());
        let process = PeerProcess::spawn("kamailio", cmd);
        let mut kamailio = Kamailio {
            port,
            process,
            ctl: format!("unix:{run}/kamailio_ctl"),
            _dir: dir,
        };
        kamailio.wait_ready();
        kamailio
    }

    /// Ready once its control socket answers (the ctl process is forked with the SIP workers).
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !self.process.is_running() {
                panic!("kamailio exited at start-up:\n{}", self.process.output());
            }
            if self.kamcmd(&["core.version"]).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("kamailio not ready within 10 s:\n{}", self.process.output());
    }

    pub fn kamcmd(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(sbin("kamcmd"))
            .arg("-s")
            .arg(&self.ctl)
            .args(args)
            .output()
            .map_err(|e| format!("kamcmd: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).to_string())
        } else {
            Err(format!(
                "kamcmd {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Every binding of the location table (`kamcmd ul.dump`).
    pub fn bindings(&self) -> Vec<Binding> {
        parse_ul_dump(&self.kamcmd(&["ul.dump"]).expect("kamcmd ul.dump"))
    }

    pub fn bindings_of(&self, aor: &str) -> Vec<Binding> {
        self.bindings()
            .into_iter()
            .filter(|b| b.aor == aor)
            .collect()
    }

    /// Polls the location table until `done` holds for `aor`'s bindings.
    pub fn wait_bindings(
        &mut self,
        aor: &str,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Binding]) -> bool,
    ) -> Vec<Binding> {
        let deadline = Instant::now() + timeout;
        loop {
            let now = self.bindings_of(aor);
            if done(&now) {
                return now;
            }
            if Instant::now() > deadline {
                panic!("{aor}: bindings never became {what} within {timeout:?}: {now:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The SIP messages Kamailio received and sent (its trace), for failure reports.
    pub fn trace(&mut self) -> String {
        self.process.output()
    }

    /// Every SIP message of the trace so far, in order.
    pub fn messages(&mut self) -> Vec<Traced> {
        parse_trace(&self.trace())
    }
}

/// One message of Kamailio's trace (`event_route[sipdump:msg]`).
#[derive(Clone, Debug)]
pub struct Traced {
    /// `rcv` or `snd`.
    pub tag: String,
    pub from: String,
    pub to: String,
    pub text: String,
}

impl Traced {
    pub fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }

    /// Values of header `name` (case-insensitive, full names only).
    pub fn headers(&self, name: &str) -> Vec<&str> {
        self.text
            .lines()
            .take_while(|l| !l.is_empty())
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
            })
            .collect()
    }

    pub fn is_request(&self, method: &str) -> bool {
        self.first_line().starts_with(&format!("{method} "))
    }

    pub fn is_response(&self, status: u16) -> bool {
        self.first_line().starts_with(&format!("SIP/2.0 {status} "))
    }
}

/// Splits the log into messages: each starts after an `interop: trace TAG proto=P SRC -> DST`
/// line and runs until the next log line (log lines start with a process rank and pid).
pub fn parse_trace(log: &str) -> Vec<Traced> {
    let mut out: Vec<Traced> = Vec::new();
    let mut current: Option<Traced> = None;
    for line in log.lines() {
        let is_log_line = line
            .trim_start()
            .split_once('(')
            .is_some_and(|(rank, _)| !rank.is_empty() && rank.chars().all(|c| c.is_ascii_digit()));
        if is_log_line {
            out.extend(current.take());
            if let Some((_, rest)) = line.split_once("interop: trace ") {
                let f: Vec<&str> = rest.split_whitespace().collect();
                if f.len() >= 5 {
                    current = Some(Traced {
                        tag: f[0].to_string(),
                        from: f[2].to_string(),
                        to: f[4].to_string(),
                        text: String::new(),
                    });
                }
            }
        } else if let Some(m) = current.as_mut() {
            m.text.push_str(line);
            m.text.push('\n');
        }
    }
    out.extend(current);
    out
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = template.to_string();
    for (key, value) in values {
        text = text.replace(&format!("@{key}@"), value);
    }
    let unfilled = text.split('@').skip(1).step_by(2).find(|k| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    });
    assert!(unfilled.is_none(), "template key {unfilled:?} not filled");
    text
}

/// Parses kamcmd's pretty-printed `ul.dump`: `AoR:` opens a record, each `Address:` a binding.
pub fn parse_ul_dump(text: &str) -> Vec<Binding> {
    let mut out: Vec<Binding> = Vec::new();
    let mut aor = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("AoR: ") {
            aor = v.to_string();
        } else if let Some(v) = line.strip_prefix("Address: ") {
            out.push(Binding {
                aor: aor.clone(),
                address: v.to_string(),
                expires: String::new(),
                socket: String::new(),
            });
        } else if let (Some(v), Some(b)) = (line.strip_prefix("Expires: "), out.last_mut()) {
            b.expires = v.to_string();
        } else if let (Some(v), Some(b)) = (line.strip_prefix("Socket: "), out.last_mut()) {
            b.socket = v.to_string();
        }
    }
    out
}
