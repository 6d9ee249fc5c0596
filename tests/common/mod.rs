//! Shared test harness: free ports, the real `tapigw` binary with a generated config, SIPp
//! runs bounded by `-m`/`-timeout`/`-timeout_error`, a raw UDP SIP socket, and a TCP proxy
//! that cuts API connections (`cut_proxy`).
#![allow(dead_code)]

pub mod cut_proxy;
mod proc_net;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A port free on 127.0.0.1 for both UDP and TCP right now.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().unwrap().port();
        if port % 2 == 0 && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The port of `field=IP:PORT` in a log line (ANSI colours ignored).
pub fn bound_port(line: &str, field: &str) -> Option<u16> {
    let plain = strip_ansi(line);
    let key = format!("{field}=");
    let start = plain
        .match_indices(&key)
        .find(|(i, _)| {
            *i == 0
                || !plain.as_bytes()[i - 1].is_ascii_alphanumeric()
                    && plain.as_bytes()[i - 1] != b'_'
        })?
        .0
        + key.len();
    let value = plain[start..].split_whitespace().next()?;
    value.parse::<SocketAddr>().ok().map(|a| a.port())
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A running gateway binary; stopped with SIGTERM on drop.
pub struct GatewayProcess {
    pub child: Child,
    /// The SIP listen IP (127.0.0.1 unless started in a network namespace).
    pub sip_ip: std::net::IpAddr,
    pub sip_port: u16,
    pub api_port: u16,
    pub dir: tempfile::TempDir,
    logs: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    /// The `[sip]` and `[api]` sections of the config file, kept for [`GatewayProcess::reload`].
    head: String,
}

impl GatewayProcess {
    /// Starts `tapigw` with `[sip]`/`[api]` on free ports and `rest` appended (lines, media),
    /// and waits for its "listening" log line.
    pub fn start(rest: &str) -> GatewayProcess {
        Self::start_on(free_port(), 0, rest)
    }

    pub fn start_on(sip_port: u16, api_port: u16, rest: &str) -> GatewayProcess {
        Self::launch(sip_port, api_port, "", "", rest, &[])
    }

    /// Like [`GatewayProcess::start_on`] with extra `[sip]` keys (`sip_extra`, TOML lines).
    pub fn start_on_with_sip(
        sip_port: u16,
        api_port: u16,
        sip_extra: &str,
        rest: &str,
    ) -> GatewayProcess {
        Self::launch(sip_port, api_port, sip_extra, "", rest, &[])
    }

    /// Like [`GatewayProcess::start`] with extra `[api]` keys.
    pub fn start_with_api(api_extra: &str, rest: &str) -> GatewayProcess {
        Self::launch(free_port(), 0, "", api_extra, rest, &[])
    }

    /// Like [`GatewayProcess::start`] with extra `[sip]` keys.
    pub fn start_with_sip(sip_extra: &str, rest: &str) -> GatewayProcess {
        Self::launch(free_port(), 0, sip_extra, "", rest, &[])
    }

    /// Like [`GatewayProcess::start_with_api`] with environment variables for the binary.
    pub fn start_with_env(api_extra: &str, rest: &str, env: &[(&str, &str)]) -> GatewayProcess {
        Self::launch(free_port(), 0, "", api_extra, rest, env)
    }

    /// The resident set size of the gateway process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    fn launch(
        sip_port: u16,
        api_port: u16,
        sip_extra: &str,
        api_extra: &str,
        rest: &str,
        env: &[(&str, &str)],
    ) -> GatewayProcess {
        let sip = SocketAddr::from(([127, 0, 0, 1], sip_port));
        Self::spawn_gateway(None, sip, api_port, sip_extra, api_extra, rest, env)
    }

    /// A gateway inside network namespace `netns` (run with `ip netns exec`), SIP on `sip`,
    /// the API on 127.0.0.1:`api_port` of that namespace. `sip_extra` may set `t1_ms` (the
    /// default here is 100).
    pub fn start_in_netns(
        netns: &str,
        sip: SocketAddr,
        api_port: u16,
        sip_extra: &str,
        rest: &str,
    ) -> GatewayProcess {
        Self::spawn_gateway(Some(netns), sip, api_port, sip_extra, "", rest, &[])
    }

    fn spawn_gateway(
        netns: Option<&str>,
        sip: SocketAddr,
        api_port: u16,
        sip_extra: &str,
        api_extra: &str,
        rest: &str,
        env: &[(&str, &str)],
    ) -> GatewayProcess {
        let dir = tempfile::tempdir().unwrap();
        let t1 = if sip_extra.contains("t1_ms") {
            ""
        } else {
            "t1_ms = 100\n"
        };
        let head = format!(
            "[sip]\nlisten = \"{sip}\"\n{t1}{sip_extra}\n\n[api]\nlisten = \"127.0.0.1:{api_port}\"\n{api_extra}\n"
        );
        let path = dir.path().join("tapigw.toml");
        std::fs::write(&path, format!("{head}{rest}")).unwrap();
        let mut command = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_tapigw")]);
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_tapigw")),
        };
        let mut child = command
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "tapigw=debug")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start tapigw");
        let stderr = child.stderr.take().unwrap();
        let (tx, logs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut gw = GatewayProcess {
            child,
            sip_ip: sip.ip(),
            sip_port: sip.port(),
            api_port,
            dir,
            logs,
            seen: Vec::new(),
            head,
        };
        let listening = gw.wait_for_log("tapigw listening", Duration::from_secs(20));
        if gw.api_port == 0 {
            // API port 0: the kernel's choice, read from the log, so no other process can take
            // the port between a test's choice and the gateway's bind.
            gw.api_port = bound_port(&listening, "api").expect("api= in the listening line");
            gw.head = gw.head.replace(
                "listen = \"127.0.0.1:0\"",
                &format!("listen = \"127.0.0.1:{}\"", gw.api_port),
            );
        }
        gw
    }

    /// The gateway's process ID (for /proc readings such as its RSS).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn sip_addr(&self) -> SocketAddr {
        SocketAddr::new(self.sip_ip, self.sip_port)
    }

    pub fn api_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.api_port))
    }

    /// Waits for a log line containing `needle` (panics with the log so far on timeout).
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        self.wait_for_next_log(needle, timeout)
    }

    /// Takes every log line printed so far into `seen`, without waiting.
    pub fn drain_log(&mut self) {
        while let Ok(line) = self.logs.try_recv() {
            self.seen.push(line);
        }
    }

    /// Waits for a log line containing `needle` that has not been read yet (older lines,
    /// already read, do not count).
    pub fn wait_for_next_log(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.logs.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no new log line with {needle:?} within {timeout:?}; log:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Rewrites the config file with the same `[sip]`/`[api]` and `rest` after them, and sends
    /// SIGHUP (the gateway re-reads it).
    pub fn reload(&mut self, rest: &str) {
        let path = self.dir.path().join("tapigw.toml");
        std::fs::write(&path, format!("{}{rest}", self.head)).unwrap();
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGHUP);
        }
    }

    /// SIGKILL (a crash): nothing is cleaned up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("tapigw did not stop within 10 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Directory of our SIPp scenarios.
pub fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
}

/// The result of one bounded SIPp run.
pub struct SippRun {
    pub output: Output,
    pub dir: tempfile::TempDir,
}

impl SippRun {
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// The contents of SIPp's error trace, for assertion messages.
    pub fn errors(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with("_errors.log") || name.ends_with("_messages.log") {
                text.push_str(&format!("--- {name}\n"));
                text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        text.push_str(&String::from_utf8_lossy(&self.output.stderr));
        text
    }

    pub fn assert_success(&self, what: &str) {
        assert_eq!(
            self.code(),
            Some(0),
            "{what}: sipp failed\n{}",
            self.errors()
        );
    }
}

/// Builds a SIPp command with the options every test run needs: loopback, bounded, traced.
pub fn sipp(args: &[&str]) -> SippBuilder {
    SippBuilder {
        args: args.iter().map(|s| s.to_string()).collect(),
        timeout_s: 20,
        netns: None,
        ip: "127.0.0.1".into(),
    }
}

pub struct SippBuilder {
    args: Vec<String>,
    timeout_s: u32,
    /// Run inside this network namespace (`ip netns exec`).
    netns: Option<String>,
    /// `-i`: the address SIPp writes into its messages.
    ip: String,
}

impl SippBuilder {
    pub fn timeout(mut self, secs: u32) -> Self {
        self.timeout_s = secs;
        self
    }

    /// Runs SIPp inside network namespace `netns`, with `ip` as its own address.
    pub fn netns(mut self, netns: &str, ip: &str) -> Self {
        self.netns = Some(netns.into());
        self.ip = ip.into();
        self
    }

    fn command(&self, dir: &Path) -> Command {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "sipp"]);
                c
            }
            None => Command::new("sipp"),
        };
        cmd.current_dir(dir)
            .args(&self.args)
            .args(["-i", &self.ip, "-nostdin", "-trace_err", "-trace_msg"])
            .args([
                "-timeout",
                &format!("{}s", self.timeout_s),
                "-timeout_error",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs to completion.
    pub fn run(self) -> SippRun {
        let dir = tempfile::tempdir().unwrap();
        let output = self
            .command(dir.path())
            .output()
            .expect("run sipp (apt-get install sip-tester)");
        SippRun { output, dir }
    }

    /// Starts in the background (a server-side SIPp); finish with [`SippChild::wait`]. With
    /// `-p PORT` over UDP it returns once SIPp has bound that port: a request sent to a port
    /// nobody holds yet draws ICMP port unreachable, which fails its transaction at once.
    pub fn spawn(self) -> SippChild {
        let dir = tempfile::tempdir().unwrap();
        let child = self
            .command(dir.path())
            .spawn()
            .expect("run sipp (apt-get install sip-tester)");
        let arg = |name: &str| {
            self.args
                .iter()
                .position(|a| a == name)
                .and_then(|i| self.args.get(i + 1))
        };
        let udp = arg("-t").is_none_or(|t| t.starts_with('u'));
        if let Some(port) = arg("-p")
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|_| udp)
        {
            wait_udp_bound(child.id(), port);
        }
        SippChild { child, dir }
    }
}

pub struct SippChild {
    child: Child,
    dir: tempfile::TempDir,
}

impl SippChild {
    /// SIGKILL: the provider vanishes (its port then answers with ICMP port unreachable).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn wait(self) -> SippRun {
        let output = self.child.wait_with_output().unwrap();
        SippRun {
            output,
            dir: self.dir,
        }
    }
}

/// Sends raw SIP over UDP and reads one answer.
pub fn udp_exchange(to: SocketAddr, message: &str, wait: Duration) -> Option<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(wait)).unwrap();
    let local = socket.local_addr().unwrap();
    let message = message.replace("LOCALPORT", &local.port().to_string());
    socket.send_to(message.as_bytes(), to).unwrap();
    let mut buf = vec![0u8; 65535];
    let (n, _) = socket.recv_from(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).to_string())
}

/// A copy of scenario `name` with `@KEY@` placeholders replaced (SIPp's `-key` does not reach
/// status codes), written into `dir`.
pub fn scenario_with(name: &str, dir: &Path, values: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(scenario(name)).unwrap();
    for (key, value) in values {
        text = text.replace(&format!("@{key}@"), value);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The first of 20 RTP ports for a test whose provider is on `port`: 10000-19999, below the
/// range the load bench takes (20000-32766) and the kernel's ephemeral ports (32768-), so
/// tests running beside a bench or each other rarely meet.
pub fn rtp_base(port: u16) -> u16 {
    10000 + (port % 500) * 20
}

/// `[[lines]]` for one line whose provider is SIPp on `proxy_port`.
pub fn line_config(proxy_port: u16, transport: &str) -> String {
    format!(
        "[[lines]]\nname = \"Line 1\"\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:{proxy_port}\"\ntransport = \"{transport}\"\n\n[media]\nmode = \"rtp\"\naddress = \"127.0.0.1\"\nport_min = {}\nport_max = {}\n",
        rtp_base(proxy_port),
        rtp_base(proxy_port) + 19
    )
}

pub mod app {
    //! An API client driving the gateway like a TAPI app would.
    use std::net::SocketAddr;
    use std::time::Duration;

    #[allow(unused_imports)]
    pub use tapigw::client::{Client, ClientError, TapiMessage};
    pub use tapigw::tapi::consts::*;

    pub const WAIT: Duration = Duration::from_secs(15);

    /// Connects, initializes (callback mode) and opens line 0 with `privileges`.
    pub async fn open_line(addr: SocketAddr, privileges: u32) -> (Client, u32, u32) {
        let mut client = Client::connect(addr).await.expect("connect to the API");
        let (app, devs) = client.line_initialize_ex("test", 1, 0).await.unwrap();
        assert!(devs >= 1);
        let line = client
            .line_open(app, 0, privileges, LINEMEDIAMODE_INTERACTIVEVOICE, 77)
            .await
            .unwrap();
        (client, app, line)
    }

    /// Waits for LINE_REPLY(request) and returns its result.
    pub async fn reply(client: &mut Client, request: u32) -> i32 {
        let (m, _) = client
            .wait_for(WAIT, |m| {
                m.msg.dw_message_id == LINE_REPLY && m.msg.dw_param1 == request
            })
            .await
            .unwrap_or_else(|e| panic!("no LINE_REPLY for {request}: {e}"));
        m.msg.reply_result()
    }

    /// Waits for LINE_CALLSTATE(state) on `h_call`; returns (mode, states seen before).
    pub async fn state(client: &mut Client, h_call: u32, state: u32) -> (u32, Vec<u32>) {
        let (m, skipped) = client
            .wait_for(WAIT, |m| {
                m.msg.dw_message_id == LINE_CALLSTATE
                    && m.msg.h_device == h_call
                    && m.msg.dw_param1 == state
            })
            .await
            .unwrap_or_else(|e| panic!("no LINE_CALLSTATE {state:#x} on {h_call}: {e}"));
        let before = skipped
            .iter()
            .filter(|m| m.msg.dw_message_id == LINE_CALLSTATE && m.msg.h_device == h_call)
            .map(|m| m.msg.dw_param1)
            .collect();
        (m.msg.dw_param2, before)
    }

    /// Waits for LINE_APPNEWCALL; returns (hCall, privilege).
    pub async fn new_call(client: &mut Client) -> (u32, u32) {
        let (m, _) = client
            .wait_for(WAIT, |m| m.msg.dw_message_id == LINE_APPNEWCALL)
            .await
            .expect("LINE_APPNEWCALL");
        (m.msg.dw_param2, m.msg.dw_param3)
    }
}

/// Waits until SIPp (process `pid`, once it runs the sipp binary: `ip netns exec` first
/// switches namespaces, then becomes sipp) has bound UDP `port` in its network namespace (read
/// from /proc/PID/net/udp and udp6).
pub fn wait_udp_bound(pid: u32, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if !exe.to_string_lossy().ends_with("sipp") {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        if proc_net::udp_port_bound(pid, port) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("nothing bound UDP port {port}");
}

/// Waits until something listens on TCP `port` (read from /proc/net/tcp, so no probe connection
/// disturbs the listener).
pub fn wait_tcp_listening(port: u16) {
    let needle = format!(":{port:04X} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        let listening = table.lines().skip(1).any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && format!("{} ", &f[1][f[1].len() - 5..]) == needle && f[3] == "0A"
        });
        if listening {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on TCP port {port}");
}

/// One HTTP/1.1 GET (the gateway answers with `Connection: close`): (status, body).
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the metrics listener");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// `GET /metrics` as a map from `name{labels}` to value (labels as the gateway writes them).
pub fn scrape(addr: SocketAddr) -> std::collections::BTreeMap<String, f64> {
    let (status, body) = http_get(addr, "/metrics");
    assert_eq!(status, 200, "GET /metrics: {body}");
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}
