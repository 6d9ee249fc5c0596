//! Shared by libtapi's integration tests: where the built library, header and gateway binary
//! are, compiling C programs with `cc` the way an application is built, running them with a
//! time limit, the real gateway on free ports, bounded SIPp runs, and a scripted JSON-RPC
//! server that stands in for a gateway.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// target/<profile>, where cargo put libtapi.so (the test binary lives in its deps/).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_path_buf()
}

/// Where this test build's libtapi.so is: `cargo test` writes the fresh one to deps/ (only
/// `cargo build` copies it up to target/<profile>).
pub fn lib_dir() -> PathBuf {
    target_dir().join("deps")
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn include_dir() -> PathBuf {
    manifest_dir().join("include")
}

/// The gateway binary: `TAPIGW_BIN`, or `tapigw` in this profile's or the release directory.
pub fn gateway_binary() -> PathBuf {
    if let Ok(p) = std::env::var("TAPIGW_BIN") {
        return PathBuf::from(p);
    }
    let here = target_dir().join("tapigw");
    let release = target_dir().with_file_name("release").join("tapigw");
    for p in [here, release] {
        if p.exists() {
            return p;
        }
    }
    panic!("no tapigw binary: run `cargo build --bin tapigw` (or set TAPIGW_BIN) first");
}

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Scratch {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = target_dir()
            .join("libtapi-tests")
            .join(format!("{what}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Compiles `src` as an application would: `cc src -I include -L lib -ltapi` (plus `extra`).
pub fn compile(scratch: &Scratch, src: &Path, extra: &[&str]) -> PathBuf {
    let stem = src.file_stem().unwrap().to_string_lossy().to_string();
    let exe = scratch.path(&stem);
    let out = Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror"])
        .arg(src)
        .arg("-I")
        .arg(include_dir())
        .arg("-L")
        .arg(lib_dir())
        .arg("-ltapi")
        .arg("-lpthread")
        .args(extra)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "cc {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// A C test program of tests/c.
pub fn c_source(name: &str) -> PathBuf {
    manifest_dir().join("tests/c").join(name)
}

/// An example of examples/.
pub fn example(name: &str) -> PathBuf {
    manifest_dir().join("examples").join(name)
}

/// What a finished program did.
#[derive(Debug)]
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Ran {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status {:?} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// A program started with libtapi on its library path and `env` set.
pub struct Program {
    child: Child,
    started: Instant,
    out: PathBuf,
    err: PathBuf,
}

impl Program {
    pub fn start(scratch: &Scratch, exe: &Path, args: &[&str], env: &[(&str, String)]) -> Program {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let out = scratch.path(&format!("out-{n}.txt"));
        let err = scratch.path(&format!("err-{n}.txt"));
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .env("LD_LIBRARY_PATH", lib_dir())
            .env_remove("TAPIGW_TOKEN")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start the C program");
        Program {
            child,
            started: Instant::now(),
            out,
            err,
        }
    }

    /// Waits for the exit (killing the program after `limit`).
    pub fn wait(mut self, limit: Duration) -> Ran {
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Ran {
            status,
            stdout: std::fs::read_to_string(&self.out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.err).unwrap_or_default(),
            elapsed: self.started.elapsed(),
        }
    }

    /// Waits until the program's stdout contains `needle`.
    pub fn wait_for_output(&self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if std::fs::read_to_string(&self.out)
                .unwrap_or_default()
                .contains(needle)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "no {needle:?} in the program's output within {limit:?}:\n{}",
            std::fs::read_to_string(&self.out).unwrap_or_default()
        );
    }
}

/// Runs a program to its end.
pub fn run(
    scratch: &Scratch,
    exe: &Path,
    args: &[&str],
    env: &[(&str, String)],
    limit: Duration,
) -> Ran {
    Program::start(scratch, exe, args, env).wait(limit)
}

/// A port free on 127.0.0.1 for both UDP and TCP now.
/// The port of ` field=IP:PORT` in a log line written to a file (no colours).
fn logged_port(line: &str, field: &str) -> Option<u16> {
    let key = format!(" {field}=");
    let start = line.find(&key)? + key.len();
    let value = line[start..].split_whitespace().next()?;
    value.parse::<std::net::SocketAddr>().ok().map(|a| a.port())
}

pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().unwrap().port();
        if port % 2 == 0 && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The real gateway with `[sip]`/`[api]` on free ports and one line whose provider is
/// 127.0.0.1:`proxy_port`; SIGTERM on drop.
pub struct Gateway {
    child: Child,
    pub api_port: u16,
    pub sip_port: u16,
    _scratch: Scratch,
}

impl Gateway {
    pub fn start(proxy_port: u16) -> Gateway {
        let media = 30000 + (proxy_port % 1000) * 20;
        let media = format!(
            "mode = \"rtp\"\naddress = \"127.0.0.1\"\nport_min = {media}\nport_max = {}\n",
            media + 19
        );
        Gateway::start_with(proxy_port, "", &media)
    }

    /// Like [`Gateway::start`] with extra `[api]` keys and the `[media]` section's keys.
    pub fn start_with(proxy_port: u16, api_extra: &str, media: &str) -> Gateway {
        let scratch = Scratch::new("gateway");
        let sip_port = free_port();
        // API port 0: the gateway logs the port the kernel gave it, so no other process can
        // take it between our choice and the gateway's bind.
        let config = format!(
            "[sip]\nlisten = \"127.0.0.1:{sip_port}\"\nt1_ms = 100\n\n[api]\nlisten = \"127.0.0.1:0\"\n{api_extra}\n\n\
             [[lines]]\nname = \"Line 1\"\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:{proxy_port}\"\ntransport = \"udp\"\n\n\
             [media]\n{media}"
        );
        let path = scratch.path("tapigw.toml");
        std::fs::write(&path, config).unwrap();
        let log = scratch.path("tapigw.log");
        let mut child = Command::new(gateway_binary())
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "tapigw=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start tapigw");
        let deadline = Instant::now() + Duration::from_secs(20);
        let api_port = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(port) = text
                .lines()
                .find(|l| l.contains("tapigw listening"))
                .and_then(|l| logged_port(l, "api"))
            {
                break port;
            }
            if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                panic!(
                    "tapigw did not listen:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Gateway {
            child,
            api_port,
            sip_port,
            _scratch: scratch,
        }
    }

    /// The environment pointing libtapi at this gateway.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("TAPIGW_API", format!("127.0.0.1:{}", self.api_port))]
    }

    /// Waits for a line of the gateway's log (RUST_LOG=tapigw=info) containing `needle`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) {
        let path = self._scratch.path("tapigw.log");
        let deadline = Instant::now() + limit;
        loop {
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            if log.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the gateway's log within {limit:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our scenarios are the gateway's own SIPp scenarios.
pub fn scenario(name: &str) -> PathBuf {
    manifest_dir().join("../tests/sipp").join(name)
}

/// A copy of scenario `name` with `@KEY@` placeholders replaced.
pub fn scenario_with(scratch: &Scratch, name: &str, values: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(scenario(name)).unwrap();
    for (k, v) in values {
        text = text.replace(&format!("@{k}@"), v);
    }
    let path = scratch.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A bounded SIPp run in the background.
pub struct Sipp {
    child: Child,
    log: PathBuf,
}

impl Sipp {
    /// SIPp with `args` plus loopback, `-m 1` unless given, `-timeout 30s -timeout_error`.
    pub fn spawn(scratch: &Scratch, args: &[&str]) -> Sipp {
        let log = scratch.path(&format!(
            "sipp-{}.log",
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let mut cmd = Command::new("sipp");
        cmd.current_dir(&scratch.0)
            .args(args)
            .args([
                "-i",
                "127.0.0.1",
                "-nostdin",
                "-trace_err",
                "-timeout",
                "30s",
                "-timeout_error",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if !args.contains(&"-m") {
            cmd.args(["-m", "1"]);
        }
        let child = cmd.spawn().expect("run sipp (apt-get install sip-tester)");
        Sipp { child, log }
    }

    /// SIPp playing the provider (UAS) on a free port.
    pub fn provider(scratch: &Scratch, scenario: &Path, extra: &[&str]) -> (u16, Sipp) {
        let port = free_port();
        let p = port.to_string();
        let mut args = vec!["-sf", scenario.to_str().unwrap(), "-p", &p, "-t", "u1"];
        args.extend_from_slice(extra);
        (port, Sipp::spawn(scratch, &args))
    }

    /// SIPp calling line user 1001 of `gw`.
    pub fn caller(scratch: &Scratch, gw: &Gateway, scenario: &Path, extra: &[&str]) -> Sipp {
        let target = format!("127.0.0.1:{}", gw.sip_port);
        let mut args = vec![
            target.as_str(),
            "-sf",
            scenario.to_str().unwrap(),
            "-s",
            "1001",
        ];
        args.extend_from_slice(extra);
        Sipp::spawn(scratch, &args)
    }

    pub fn assert_success(mut self, what: &str) {
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "{what}: sipp failed ({status:?})\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A raw JSON-RPC client of the real gateway (a second application in a test).
pub struct RawApp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_id: u64,
    pub messages: Vec<Value>,
}

impl RawApp {
    pub fn connect(gw: &Gateway) -> RawApp {
        let s = TcpStream::connect(("127.0.0.1", gw.api_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        RawApp {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
            next_id: 1,
            messages: Vec::new(),
        }
    }

    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let line = json!({"jsonrpc":"2.0","id":id,"method":method,"params":params});
        writeln!(self.writer, "{line}").unwrap();
        loop {
            let v = self.read();
            if v["id"] == json!(id) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
            self.messages.push(v);
        }
    }

    /// Waits for a notification `method` (messages before it are kept).
    pub fn wait_for(&mut self, method: &str) -> Value {
        if let Some(i) = self.messages.iter().position(|m| m["method"] == method) {
            return self.messages.remove(i);
        }
        loop {
            let v = self.read();
            if v["method"] == method {
                return v;
            }
            self.messages.push(v);
        }
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .expect("read from the gateway");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}"))
    }
}

/// A stand-in gateway: each accepted connection is handed to the next script, in order.
pub struct FakeGateway {
    pub port: u16,
    thread: Option<std::thread::JoinHandle<Vec<String>>>,
}

/// One accepted connection, seen from the fake gateway.
pub struct FakeConn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// Every request received, for the test's assertions.
    pub log: Vec<String>,
}

pub type Script = Box<dyn FnOnce(&mut FakeConn) + Send>;

impl FakeGateway {
    /// Serves `scripts` on successive connections; `join` returns the problems seen.
    pub fn start(scripts: Vec<Script>) -> FakeGateway {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let thread = std::thread::spawn(move || {
            let mut log = Vec::new();
            for script in scripts {
                let (stream, _) = listener.accept().unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                let mut conn = FakeConn {
                    reader: BufReader::new(stream.try_clone().unwrap()),
                    writer: stream,
                    log: Vec::new(),
                };
                script(&mut conn);
                log.append(&mut conn.log);
            }
            log
        });
        FakeGateway {
            port,
            thread: Some(thread),
        }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("TAPIGW_API", format!("127.0.0.1:{}", self.port))]
    }

    /// Every request the scripts received.
    pub fn join(mut self) -> Vec<String> {
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("fake gateway script panicked")
    }
}

impl FakeConn {
    /// Reads the next request and checks its method; returns (id, params).
    pub fn expect(&mut self, method: &str) -> (Value, Value) {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).unwrap_or(0);
        assert!(n > 0, "connection closed while waiting for {method}");
        self.log.push(line.trim().to_string());
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["method"], method, "request {line}");
        (v["id"].clone(), v["params"].clone())
    }

    /// Reads the next request whatever it is; returns (id, method, params).
    pub fn expect_any(&mut self) -> (Value, String, Value) {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).unwrap_or(0);
        assert!(n > 0, "connection closed while waiting for a request");
        self.log.push(line.trim().to_string());
        let v: Value = serde_json::from_str(&line).unwrap();
        let method = v["method"].as_str().unwrap_or_default().to_string();
        (v["id"].clone(), method, v["params"].clone())
    }

    /// Answers request `id`.
    pub fn reply(&mut self, id: &Value, result: Value) {
        self.send(json!({"jsonrpc":"2.0","id":id,"result":result}));
    }

    pub fn error(&mut self, id: &Value, code: i64, message: &str) {
        self.send(json!({"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}}));
    }

    /// A TAPI message notification.
    pub fn message(&mut self, name: &str, fields: Value) {
        self.send(json!({"jsonrpc":"2.0","method":name,"params":fields}));
    }

    /// Several lines in one write (so they arrive together).
    pub fn send_all(&mut self, lines: &[Value]) {
        let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
        self.writer.write_all(text.as_bytes()).unwrap();
    }

    pub fn send(&mut self, v: Value) {
        self.send_all(&[v]);
    }

    /// Waits until the client closes its side.
    pub fn expect_eof(&mut self) {
        let mut line = String::new();
        while self.reader.read_line(&mut line).unwrap_or(0) > 0 {
            self.log.push(line.trim().to_string());
            line.clear();
        }
    }

    /// Drops the connection abruptly.
    pub fn drop_connection(&mut self) {
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
    }
}

/// A TAPI message's six fields.
pub fn fields(h_device: u32, id: u32, instance: u64, p1: i64, p2: i64, p3: i64) -> Value {
    json!({"hDevice":h_device,"dwMessageID":id,"dwCallbackInstance":instance,
        "dwParam1":p1,"dwParam2":p2,"dwParam3":p3})
}
