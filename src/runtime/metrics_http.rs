//! The metrics listener (`metrics.listen`): HTTP/1.1 `GET /metrics` (OpenMetrics text) and
//! `GET /healthz` (200 when the core task answers within [`HEALTH_WAIT`], 503 otherwise).
//!
//! Two fixed routes with no bodies need no HTTP framework: the request head is parsed with
//! `httparse` (hyper's parser), bounded in size and time, and answered with one response and
//! `Connection: close` (docs/architecture.md says why not hyper). Both routes ask the core task
//! for a snapshot over a bounded channel with a oneshot reply, so a scrape costs the core one
//! copy of its counters and a core that does not answer shows as unhealthy.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::metrics::exposition::{self, ProcessFigures, CONTENT_TYPE};
use crate::metrics::{ApiCounters, CoreSnapshot};

/// How long `/healthz` waits for the core.
pub const HEALTH_WAIT: Duration = Duration::from_secs(1);
/// How long `/metrics` waits for the core.
const SCRAPE_WAIT: Duration = Duration::from_secs(5);
/// How long a client may take to send its request head.
const HEAD_WAIT: Duration = Duration::from_secs(5);
const MAX_HEAD: usize = 8 * 1024;
/// Requests served at once (scrapers are few; more wait for their turn).
const MAX_CONCURRENT: usize = 16;

/// A question for the core task.
pub type SnapshotRequest = oneshot::Sender<CoreSnapshot>;

/// Serves until the process stops.
pub async fn serve(
    listener: TcpListener,
    core: mpsc::Sender<SnapshotRequest>,
    api: Arc<ApiCounters>,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (core, api) = (core.clone(), api.clone());
        tokio::spawn(async move {
            let _ = answer(stream, &core, &api).await;
            drop(permit);
        });
    }
}

async fn answer(
    mut stream: TcpStream,
    core: &mpsc::Sender<SnapshotRequest>,
    api: &ApiCounters,
) -> std::io::Result<()> {
    let Ok(Some((method, path))) = tokio::time::timeout(HEAD_WAIT, read_head(&mut stream)).await?
    else {
        return respond(&mut stream, 400, "text/plain", "bad request\n").await;
    };
    if method != "GET" {
        return respond(&mut stream, 405, "text/plain", "only GET\n").await;
    }
    match path.split('?').next().unwrap_or("") {
        "/metrics" => match ask(core, SCRAPE_WAIT).await {
            Some(snapshot) => {
                let body = exposition::render(&snapshot, api, ProcessFigures::read());
                respond(&mut stream, 200, CONTENT_TYPE, &body).await
            }
            None => respond(&mut stream, 503, "text/plain", "core not answering\n").await,
        },
        "/healthz" => match ask(core, HEALTH_WAIT).await {
            Some(_) => respond(&mut stream, 200, "text/plain", "ok\n").await,
            None => respond(&mut stream, 503, "text/plain", "core not answering\n").await,
        },
        _ => respond(&mut stream, 404, "text/plain", "not found\n").await,
    }
}

/// The core's snapshot, if it answers within `wait` (a full queue counts as no answer).
async fn ask(core: &mpsc::Sender<SnapshotRequest>, wait: Duration) -> Option<CoreSnapshot> {
    let (tx, rx) = oneshot::channel();
    core.try_send(tx).ok()?;
    tokio::time::timeout(wait, rx).await.ok()?.ok()
}

/// Reads until the end of the request head; its method and path.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<(String, String)>> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                let method = request.method.unwrap_or("").to_string();
                let path = request.path.unwrap_or("").to_string();
                return Ok(Some((method, path)));
            }
            Ok(httparse::Status::Partial) if head.len() < MAX_HEAD => continue,
            _ => return Ok(None),
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(addr: std::net::SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        text
    }

    async fn listener() -> (TcpListener, std::net::SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    }

    #[tokio::test]
    async fn healthz_is_503_when_the_core_does_not_answer_and_200_when_it_does() {
        let (l, addr) = listener().await;
        let (tx, _silent_core) = mpsc::channel(1);
        tokio::spawn(serve(l, tx, Arc::new(ApiCounters::default())));
        assert!(get(addr, "/healthz").await.starts_with("HTTP/1.1 503 "));

        let (l, addr) = listener().await;
        let (tx, mut rx) = mpsc::channel::<SnapshotRequest>(1);
        tokio::spawn(async move {
            while let Some(reply) = rx.recv().await {
                let _ = reply.send(CoreSnapshot::default());
            }
        });
        tokio::spawn(serve(l, tx, Arc::new(ApiCounters::default())));
        let ok = get(addr, "/healthz").await;
        assert!(
            ok.starts_with("HTTP/1.1 200 ") && ok.ends_with("\r\n\r\nok\n"),
            "{ok}"
        );
        assert!(get(addr, "/metrics")
            .await
            .contains("Content-Type: application/openmetrics-text"));
        assert!(get(addr, "/x").await.starts_with("HTTP/1.1 404 "));
    }
}
