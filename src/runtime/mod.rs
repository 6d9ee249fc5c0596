//! tokio drivers around the sans-I/O core: the SIP UDP, TCP and TLS transports (`sip_udp`;
//! `sip_tcp`, `sip_tls` and `stream_pool` around one stream runner, `sip_stream`), the API server
//! (`api_server`, with overload shedding in `overload`), the metrics listener
//! (`metrics_http`), the timer, and the signals (`control`). One task (`core_loop`) owns the [`crate::gateway::Gateway`]; the
//! drivers talk to it over channels (no shared state, no locks).

pub mod api_server;
mod control;
mod core_loop;
mod input;
mod journal;
mod limits;
mod log_limit;
pub mod metrics_http;
mod overload;
mod sip_stream;
mod sip_tcp;
mod sip_tls;
mod sip_udp;
mod stream_pool;
mod udp_batch;
mod udp_errors;

use std::io;

use crate::config::GatewayConfig;

pub use core_loop::Server;
pub use input::CoreInput;

/// Why the gateway could not run.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("cannot bind {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: std::net::SocketAddr,
        source: io::Error,
    },
}

/// Runs the gateway until SIGINT/SIGTERM, then stops gracefully.
pub fn run(config: GatewayConfig) -> Result<(), RuntimeError> {
    limits::raise_open_file_limit();
    if !config.transparent_huge_pages {
        limits::disable_transparent_huge_pages();
    }
    let runtime = runtime_for(config.threads)
        .enable_all()
        .build()
        .map_err(RuntimeError::Runtime)?;
    runtime.block_on(async {
        let server = Server::bind(config).await?;
        server.run(std::future::pending()).await;
        Ok(())
    })
}

/// `runtime.threads`: 1 builds a current-thread runtime, where the core, the SIP drivers and the
/// API connections share one thread and hand each other work without waking another thread
/// (a futex and a context switch per hop); more builds a multi-thread runtime with that many
/// workers (docs/performance.md, "One thread").
fn runtime_for(threads: usize) -> tokio::runtime::Builder {
    if threads <= 1 {
        return tokio::runtime::Builder::new_current_thread();
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(threads);
    builder
}
