//! The `tapigw` binary: command line, logging, configuration, then the tokio runtime.
//!
//! `tapigw [--config FILE]` (default `config/default.toml`). A bad configuration prints one line
//! naming the file, the key and the problem, and exits with status 2 before anything binds.

use std::path::PathBuf;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

/// mimalloc: less memory per live call than the system allocator (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: tapigw [--config FILE]\n\
  --config FILE   configuration file (TOML), default config/default.toml\n\
  --version       print the version and exit\n\
  --healthcheck [ADDR]  ask a running gateway's API (default 127.0.0.1:8274) and exit 0 if it answers\n\
                        (authenticates with TAPIGW_TOKEN or TAPIGW__API__TOKEN[_FILE] when set)\n\
Environment: TAPIGW__SECTION__KEY overrides a scalar key; RUST_LOG filters logs.";

enum Command {
    Run(PathBuf),
    Health(String),
    Exit(String, u8),
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Command {
    let mut config = PathBuf::from("config/default.toml");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => match args.next() {
                Some(path) => config = PathBuf::from(path),
                None => return Command::Exit(format!("--config needs a FILE\n{USAGE}"), 2),
            },
            "--help" | "-h" => return Command::Exit(USAGE.to_string(), 0),
            "--healthcheck" => {
                return Command::Health(args.next().unwrap_or_else(|| "127.0.0.1:8274".into()))
            }
            "--version" | "-V" => {
                return Command::Exit(format!("tapigw {}", env!("CARGO_PKG_VERSION")), 0)
            }
            other => match other.strip_prefix("--config=") {
                Some(path) => config = PathBuf::from(path),
                None => return Command::Exit(format!("unknown argument `{other}`\n{USAGE}"), 2),
            },
        }
    }
    Command::Run(config)
}

fn main() -> ExitCode {
    let path = match parse_args(std::env::args().skip(1)) {
        Command::Run(path) => path,
        Command::Health(addr) => return healthcheck(&addr),
        Command::Exit(text, code) => {
            if code == 0 {
                println!("{text}");
            } else {
                eprintln!("{text}");
            }
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match tapigw::config::load(&path) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("tapigw: {err}");
            return ExitCode::from(2);
        }
    };
    match tapigw::runtime::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tapigw: {err}");
            ExitCode::from(1)
        }
    }
}

/// The token the health check sends: `TAPIGW_TOKEN`, `TAPIGW__API__TOKEN`, or the first line of
/// the file `TAPIGW__API__TOKEN_FILE` names.
fn health_token() -> Option<String> {
    let set = |k: &str| std::env::var(k).ok().filter(|t| !t.is_empty());
    set("TAPIGW_TOKEN")
        .or_else(|| set("TAPIGW__API__TOKEN"))
        .or_else(|| {
            let text = std::fs::read_to_string(set("TAPIGW__API__TOKEN_FILE")?).ok()?;
            Some(text.lines().next()?.trim().to_string())
        })
}

/// Container health check: a real API round trip. lineShutdown of handle 0 must come back as
/// LINEERR_INVALAPPHANDLE, which proves the core task is answering. With a token
/// ([`health_token`]) it authenticates first. (The metrics listener's
/// `GET /healthz` is the HTTP alternative.)
fn healthcheck(addr: &str) -> ExitCode {
    use std::io::{BufRead, BufReader, Write};
    use std::time::Duration;
    let probe = || -> std::io::Result<bool> {
        let addr: std::net::SocketAddr = addr
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        let token = health_token();
        if let Some(token) = token {
            let auth = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "authenticate",
                "params": {"token": token}});
            stream.write_all(format!("{auth}\n").as_bytes())?;
        }
        stream.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"lineShutdown\",\"params\":{\"hLineApp\":0}}\n")?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line)? > 0 {
            if line.contains("\"id\":1") {
                return Ok(line.contains("LINEERR_INVALAPPHANDLE"));
            }
            line.clear();
        }
        Ok(false)
    };
    match probe() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("tapigw: unexpected answer from {addr}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("tapigw: {addr}: {e}");
            ExitCode::from(1)
        }
    }
}
