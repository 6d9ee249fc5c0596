//! baresip as the far-end softphone: its own config dir (`-f`), no audio device (a sine source
//! and no player), registered at Kamailio, driven through its `ctrl_tcp` module (netstring-framed
//! JSON commands; responses and events come back on the same connection).

use std::collections::VecDeque;
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::process::PeerProcess;
use crate::common::{free_port, wait_tcp_listening};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerMode {
    /// Answers every call at once (200 after 180).
    Auto,
    /// Rings (180) and waits for `accept` or `hangup`.
    Manual,
}

pub struct BaresipOptions {
    pub user: &'static str,
    pub password: &'static str,
    pub proxy_port: u16,
    pub transport: &'static str,
    pub answer: AnswerMode,
}

pub struct Baresip {
    pub user: &'static str,
    pub process: PeerProcess,
    ctrl: TcpStream,
    incoming: mpsc::Receiver<Value>,
    /// Events received but not consumed yet, in order.
    events: VecDeque<Value>,
    /// Every event received, for failure reports.
    pub history: Vec<Value>,
    next_token: u32,
    _dir: tempfile::TempDir,
}

impl Baresip {
    pub fn start(options: BaresipOptions) -> Baresip {
        let sip_port = free_port();
        let ctrl_port = free_port();
        let rtp = 41000 + (sip_port % 1000) * 10;
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{sip_port}\n\
             net_interface\t\t127.0.0.1\n\
             call_local_timeout\t60\n\
             call_max_calls\t\t4\n\
             audio_buffer\t\t20\n\
             audio_source\t\tausine,440\n\
             ausrc_srate\t\t48000\n\
             ausrc_channels\t\t2\n\
             ausrc_format\t\ts16\n\
             auplay_format\t\ts16\n\
             auenc_format\t\ts16\n\
             audec_format\t\ts16\n\
             rtp_ports\t\t{rtp}-{}\n\
             rtcp_mux\t\tno\n\
             jitter_buffer_delay\t1-10\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\tg711.so\n\
             module\t\t\tausine.so\n\
             module_tmp\t\taccount.so\n\
             module_app\t\tmenu.so\n\
             module_app\t\tctrl_tcp.so\n\
             ctrl_tcp_listen\t\t127.0.0.1:{ctrl_port}\n\
             statmode_default\toff\n\
             ringback_disabled\tyes\n",
            rtp + 9
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        let answermode = match options.answer {
            AnswerMode::Auto => "auto",
            AnswerMode::Manual => "manual",
        };
        let account = format!(
            "<sip:{}@127.0.0.1:{};transport={}>;auth_pass={};answermode={answermode};regint=600\n",
            options.user, options.proxy_port, options.transport, options.password
        );
        std::fs::write(dir.path().join("accounts"), account).unwrap();
        std::fs::write(dir.path().join("contacts"), "").unwrap();
        let mut cmd = Command::new("baresip");
        // -s: SIP trace on stdout; -t: quits by itself whatever happens to the test.
        cmd.arg("-f")
            .arg(dir.path())
            .args(["-s", "-t", "300"])
            .current_dir(dir.path());
        let mut process = PeerProcess::spawn("baresip", cmd);
        if let Err(e) = process.wait_for_line_after(0, "baresip is ready", Duration::from_secs(10))
        {
            panic!("{e}\n{}", process.output());
        }
        wait_tcp_listening(ctrl_port);
        let ctrl = TcpStream::connect(("127.0.0.1", ctrl_port)).expect("connect to ctrl_tcp");
        let (tx, incoming) = mpsc::channel();
        let reader = ctrl.try_clone().unwrap();
        std::thread::spawn(move || read_netstrings(reader, tx));
        Baresip {
            user: options.user,
            process,
            ctrl,
            incoming,
            events: VecDeque::new(),
            history: Vec::new(),
            next_token: 1,
            _dir: dir,
        }
    }

    /// Runs a menu command (`dial`, `accept`, `hangup`, `hold`, ...) and returns its response's
    /// `data`; `Err` when baresip says `ok: false`.
    pub fn command(&mut self, command: &str, params: &str) -> Result<String, String> {
        let token = format!("t{}", self.next_token);
        self.next_token += 1;
        let body = json!({"command": command, "params": params, "token": token}).to_string();
        let frame = format!("{}:{},", body.len(), body);
        self.ctrl
            .write_all(frame.as_bytes())
            .expect("write to ctrl_tcp");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = self
                .incoming
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("baresip: no response to {command} within 10 s"));
            if msg.get("response").is_some() && msg["token"] == token.as_str() {
                let data = msg["data"].as_str().unwrap_or("").to_string();
                return if msg["ok"] == true {
                    Ok(data)
                } else {
                    Err(data)
                };
            }
            self.push_event(msg);
        }
    }

    fn push_event(&mut self, msg: Value) {
        if msg.get("event").is_some() {
            self.history.push(msg.clone());
            self.events.push_back(msg);
        }
    }

    /// Waits for the next event of `kind` (`CALL_ESTABLISHED`, `CALL_CLOSED`, `CALL_INCOMING`,
    /// ...), skipping others; returns it.
    pub fn wait_event(&mut self, kind: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(pos) = self.events.iter().position(|e| e["type"] == kind) {
                let event = self.events.remove(pos).unwrap();
                self.events.drain(..pos);
                return event;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(msg) => self.push_event(msg),
                Err(_) => panic!(
                    "baresip {}: no {kind} event within {timeout:?}; events: {}\n{}",
                    self.user,
                    self.history
                        .iter()
                        .map(|e| format!("{} {}", e["type"], e["param"]))
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.process.output()
                ),
            }
        }
    }

    /// Whether an event of `kind` has arrived (without waiting).
    pub fn has_event(&mut self, kind: &str) -> bool {
        while let Ok(msg) = self.incoming.try_recv() {
            self.push_event(msg);
        }
        self.events.iter().any(|e| e["type"] == kind)
    }

    /// Its SIP trace (`-s`) and log.
    pub fn trace(&mut self) -> String {
        self.process.output()
    }
}

/// Reads `len:json,` frames until the connection closes.
fn read_netstrings(stream: TcpStream, tx: mpsc::Sender<Value>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut len = String::new();
        let mut byte = [0u8; 1];
        loop {
            if reader.read_exact(&mut byte).is_err() {
                return;
            }
            match byte[0] {
                b':' => break,
                b'0'..=b'9' => len.push(byte[0] as char),
                _ => {} // stray separators
            }
        }
        let Ok(n) = len.parse::<usize>() else { return };
        let mut body = vec![0u8; n + 1];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        body.pop(); // the trailing ','
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            if tx.send(v).is_err() {
                return;
            }
        }
    }
}
