//! The real gateway binary under a bench configuration, with its metrics endpoint scraped for
//! the refusal counters (docs/operations.md, "Graceful overload").

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Picks an even port free for UDP and TCP on loopback.
pub fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if port % 2 == 0 && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub struct Gateway {
    child: Child,
    pub api: SocketAddr,
    pub sip: SocketAddr,
    metrics: SocketAddr,
}

/// Refusals counted by the gateway so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct Refusals {
    /// lineMakeCall shed with LINEERR_RESOURCEUNAVAIL (`tapigw_overload_shed_total`).
    pub shed: u64,
    /// SIP requests refused before a transaction, all reasons (`tapigw_sip_refused_total`).
    pub sip: u64,
}

impl Refusals {
    pub fn since(self, before: Refusals) -> Refusals {
        Refusals {
            shed: self.shed.saturating_sub(before.shed),
            sip: self.sip.saturating_sub(before.sip),
        }
    }
}

impl Gateway {
    pub fn start(dir: &Path, name: &str, proxy: u16, media: &str) -> Gateway {
        let (sip, api, metrics) = (free_port(), free_port(), free_port());
        let path = dir.join(format!("{name}.toml"));
        // LOAD_SIP_EXTRA: more `[sip]` keys, e.g. `journal_path = ""` to weigh the journal.
        let sip_extra = std::env::var("LOAD_SIP_EXTRA").unwrap_or_default();
        // LOAD_RUNTIME_EXTRA: `[runtime]` keys, e.g. `transparent_huge_pages = true`.
        let runtime_extra = std::env::var("LOAD_RUNTIME_EXTRA").unwrap_or_default();
        std::fs::write(
            &path,
            format!(
                "[sip]\nlisten = \"127.0.0.1:{sip}\"\ninvite_rate_per_source = 0\nmax_server_transactions = 10000000\n{sip_extra}\n[api]\nlisten = \"127.0.0.1:{api}\"\nmax_outgoing_messages = 1000000\n\
                 max_calls_per_line = 1000000\nmax_pending_requests = 1000000\n\
                 [metrics]\nlisten = \"127.0.0.1:{metrics}\"\n\
                 [media]\nmode = \"{media}\"\naddress = \"127.0.0.1\"\nport_min = 20000\nport_max = 32766\n\
                 [runtime]\n{runtime_extra}\n\
                 [[lines]]\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:{proxy}\"\n"
            ),
        )
        .unwrap();
        // LOAD_GATEWAY_WRAPPER="valgrind --tool=callgrind ...": the gateway under a profiler.
        let wrapper = std::env::var("LOAD_GATEWAY_WRAPPER").unwrap_or_default();
        let mut words = wrapper
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>();
        words.push(env!("CARGO_BIN_EXE_tapigw").to_string());
        let mut child = Command::new(&words[0])
            .args(&words[1..])
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "warn,tapigw::runtime=info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("tapigw binary");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("tapigw did not start");
            if line.contains("tapigw listening") {
                break;
            }
        }
        Gateway {
            child,
            api: ([127, 0, 0, 1], api).into(),
            sip: ([127, 0, 0, 1], sip).into(),
            metrics: ([127, 0, 0, 1], metrics).into(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The refusal counters from `GET /metrics` (zero if the endpoint does not answer).
    pub fn refusals(&self) -> Refusals {
        let text = self.scrape().unwrap_or_default();
        let sum = |name: &str| -> u64 {
            text.lines()
                .filter(|l| l.starts_with(name))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .map(|v| v as u64)
                .sum()
        };
        Refusals {
            shed: sum("tapigw_overload_shed_total"),
            sip: sum("tapigw_sip_refused_total"),
        }
    }

    fn scrape(&self) -> std::io::Result<String> {
        let mut s = TcpStream::connect_timeout(&self.metrics, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        Ok(text)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}
