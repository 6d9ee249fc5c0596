//! The core task: owns the [`Gateway`], feeds it what the drivers deliver, carries out what it
//! asks (datagrams, TCP writes, API lines) and sleeps until its next deadline.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, watch};

use super::api_server::{self, ApiInbound, ApiServerSettings};
use super::control::{Control, Signals};
use super::input::CoreInput;
use super::journal::{self, Journal};
use super::log_limit::StreamLogs;
use super::metrics_http::{self, SnapshotRequest};
use super::overload::Shedder;
use super::sip_tcp;
use super::sip_tls::{self, TlsConnectors};
use super::sip_udp;
use super::stream_pool::{ConnSlots, StreamPool, StreamShared};
use super::RuntimeError;
use crate::api::auth::TokenTable;
use crate::config::GatewayConfig;
use crate::gateway::Gateway;
use crate::media;
use crate::metrics::ApiCounters;
use crate::sip::transport::{FlowEvent, Transmit, Transport, TransportCommand};
use crate::tapi::server::ClientInput;
use crate::tapi::{ConnId, Output};

/// Inputs the core takes in one go before it flushes outputs (of each queue, at most).
const BATCH: usize = 256;
/// How long the core takes inputs before it flushes what they produced.
const BATCH_TIME: Duration = Duration::from_micros(200);
/// How long the last API lines may take to be written at the end of a stop.
const WRITER_GRACE: Duration = Duration::from_secs(2);
/// Capacity of the core's API input queue.
const API_QUEUE: usize = 16 * 1024;
/// Scrapes and health checks waiting for the core at once.
const METRICS_QUEUE: usize = 8;
/// Media commands kept while the engine's queue is full (about two per call change).
const MEDIA_BACKLOG: usize = 65_536;

/// Capacity of the media engine's event channel.
const MEDIA_EVENTS: usize = 4096;
/// Socket buffer sizes for the SIP UDP socket (bursts of thousands of calls per second).
const UDP_BUFFER: libc::c_int = 8 * 1024 * 1024;

/// Where outputs go.
struct Sinks {
    udp: Arc<UdpSocket>,
    /// The datagrams of the flush round under way (payload, destination), in order.
    datagrams: Vec<(bytes::Bytes, SocketAddr)>,
    streams: StreamPool,
    outboxes: FxHashMap<ConnId, mpsc::Sender<Output>>,
    aborts: FxHashMap<ConnId, tokio::task::AbortHandle>,
    /// Connections closed because their client read too slowly (metrics).
    slow_readers: u64,
    /// The media engine (`media.mode = "rtp"`).
    media: Option<media::MediaHandle>,
    /// Commands the engine's full queue could not take yet, sent first and in order when it
    /// has room again: a lost Close would leave a session running.
    media_backlog: VecDeque<media::MediaCommand>,
    /// The call journal's writer thread, when `sip.journal_path` is set.
    journal: Option<mpsc::Sender<crate::journal::JournalRecord>>,
}

/// A gateway whose sockets are bound and whose signal handlers are installed, ready to run
/// (mini-redis's `server::run` split: binding can fail and be reported before anything runs,
/// and tests can start the whole server in-process on ports 0).
pub struct Server {
    config: GatewayConfig,
    udp: UdpSocket,
    tcp: TcpListener,
    /// `sip.tls_listen`, when set.
    tls: Option<TcpListener>,
    api: TcpListener,
    /// The `metrics.listen` listener, when configured.
    metrics: Option<TcpListener>,
    signals: Signals,
    /// The call journal, opened and replayed (`None` with `sip.journal_path = ""`).
    journal: Option<Journal>,
}

impl Server {
    /// Installs SIGTERM/SIGINT handlers, then binds SIP UDP and TCP (the same port; a port 0
    /// in `sip.listen` takes the UDP socket's) and the API listener.
    pub async fn bind(mut config: GatewayConfig) -> Result<Server, RuntimeError> {
        // Signals first: a SIGTERM right after "listening" must already be a graceful stop.
        let signals = Signals::install();
        let (udp, tcp, bound) = bind_sip(config.sip.listen).await?;
        if config.sip.advertised_port == 0 {
            config.sip.advertised_port = bound.port();
        }
        config.sip.listen = bound;
        let tls = match config.sip.tls.as_mut() {
            Some(tls) => {
                let listener = TcpListener::bind(tls.listen)
                    .await
                    .map_err(bind_error("SIP TLS", tls.listen))?;
                tls.listen = listener
                    .local_addr()
                    .map_err(bind_error("SIP TLS", tls.listen))?;
                Some(listener)
            }
            None => None,
        };
        let api_addr = config.api.listen;
        let api = TcpListener::bind(api_addr)
            .await
            .map_err(bind_error("API", api_addr))?;
        config.api.listen = api.local_addr().map_err(bind_error("API", api_addr))?;
        let metrics = match config.metrics.listen {
            None => None,
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .map_err(bind_error("metrics", addr))?;
                config.metrics.listen =
                    Some(listener.local_addr().map_err(bind_error("metrics", addr))?);
                Some(listener)
            }
        };
        let journal = match &config.sip.lifecycle.journal {
            Some(path) => Some(Journal::open(path)?),
            None => None,
        };
        Ok(Server {
            config,
            udp,
            tcp,
            tls,
            api,
            metrics,
            signals,
            journal,
        })
    }

    /// The SIP address bound (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        self.config.sip.listen
    }

    /// The SIP TLS address bound, when `sip.tls_listen` is set.
    pub fn sip_tls_addr(&self) -> Option<SocketAddr> {
        self.config.sip.tls.as_ref().map(|t| t.listen)
    }

    /// The API address bound.
    pub fn api_addr(&self) -> SocketAddr {
        self.config.api.listen
    }

    /// The metrics address bound, when `metrics.listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.config.metrics.listen
    }

    /// Runs until SIGTERM, SIGINT or `shutdown` completes, then stops gracefully.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let config = self.config;
        let tls_addr = config.sip.tls.as_ref().map(|t| t.listen.to_string());
        tracing::info!(sip = %config.sip.listen, sip_tls = tls_addr.as_deref().unwrap_or("off"), api = %config.api.listen, api_tls = config.api.tls.is_some(), tokens = config.api.tokens.len(), metrics = ?config.metrics.listen, lines = config.lines.len(), "tapigw listening");
        let (core_tx, core_rx) = mpsc::channel(16 * 1024);
        let (api_tx, api_rx) = mpsc::channel(API_QUEUE);
        let udp = Arc::new(self.udp);
        tokio::spawn(sip_udp::receive_loop(udp.clone(), core_tx.clone()));
        let shared = StreamShared {
            core: core_tx.clone(),
            limits: config.sip.streams,
            logs: Arc::new(StreamLogs::default()),
        };
        let slots = ConnSlots::new(config.sip.streams.max_connections);
        tokio::spawn(sip_tcp::accept_loop(
            self.tcp,
            shared.clone(),
            slots.clone(),
        ));
        if let (Some(listener), Some(tls)) = (self.tls, config.sip.tls.as_ref()) {
            let server = tls.server.clone();
            tokio::spawn(sip_tls::accept_loop(
                listener,
                server,
                shared.clone(),
                slots,
            ));
        }
        let (writers, writers_done) = mpsc::channel::<()>(1);
        let counters = Arc::new(ApiCounters::default());
        let (tokens, tokens_rx) =
            watch::channel(Arc::new(TokenTable::new(config.api.tokens.clone())));
        let settings = ApiServerSettings {
            max_outgoing: config.api.max_outgoing_messages,
            max_connections: config.api.limits.max_connections,
            auth_timeout: config.api.limits.auth_timeout,
            tls: config.api.tls.clone().map(tokio_rustls::TlsAcceptor::from),
            tokens: tokens_rx,
            counters: counters.clone(),
        };
        let api_task = tokio::spawn(api_server::run(self.api, api_tx, settings, writers));
        let (metrics_tx, metrics_rx) = mpsc::channel(METRICS_QUEUE);
        let metrics_task = self
            .metrics
            .map(|listener| tokio::spawn(metrics_http::serve(listener, metrics_tx, counters)));
        let (control, control_task) = self.signals.watch(shutdown);
        let allocator = media::allocator_for(&config.media);
        let mut gateway = Gateway::new(&config, allocator, seed(), Instant::now());
        let (journal, journal_thread) = start_journal(self.journal, &mut gateway, &config);
        let sinks = Sinks {
            udp,
            datagrams: Vec::new(),
            streams: StreamPool::new(shared, Arc::new(TlsConnectors::from_lines(&config.lines))),
            outboxes: FxHashMap::default(),
            aborts: FxHashMap::default(),
            slow_readers: 0,
            journal,
            media: start_media(&config, core_tx.clone()),
            media_backlog: VecDeque::new(),
        };
        CoreTask {
            shedder: Shedder::new(
                config.api.limits.overload_delay,
                config.sip.admission.overload_queue,
            ),
            gateway,
            pending_closes: Vec::new(),
            config,
            sinks,
            core_rx,
            api_rx,
            metrics_rx,
            tokens,
            control,
        }
        .run()
        .await;
        control_task.abort();
        if let Some(task) = metrics_task {
            task.abort();
        }
        // What the apps were last told (LINE_CLOSE, the last replies) is still in the
        // connections' queues: let the writers finish before the process goes.
        api_task.abort();
        let _ = api_task.await;
        let mut writers_done = writers_done;
        let _ = tokio::time::timeout(WRITER_GRACE, writers_done.recv()).await;
        if let Some(thread) = journal_thread {
            // Everything the core sent is on disk once the thread ends.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        tracing::info!("tapigw stopped");
    }
}

/// Ends or keeps (`sip.recover_calls`) the dialogs the journal says were up, then starts the
/// journal's writer thread.
fn start_journal(
    journal: Option<Journal>,
    gateway: &mut Gateway,
    config: &GatewayConfig,
) -> (
    Option<mpsc::Sender<crate::journal::JournalRecord>>,
    Option<std::thread::JoinHandle<()>>,
) {
    let Some(journal) = journal else {
        return (None, None);
    };
    let records = journal.live_dialogs();
    if !records.is_empty() {
        let keep = config.sip.lifecycle.recover_calls;
        let summary = gateway.recover(Instant::now(), records, keep);
        tracing::warn!(
            ended = summary.ended,
            kept = summary.kept,
            dropped = summary.dropped,
            "dialogs from the call journal (the last run did not stop gracefully)"
        );
    }
    let (tx, thread) = journal.spawn_writer();
    (Some(tx), Some(thread))
}

/// Resolves when the media engine can take a command again (never without one).
async fn media_room(engine: &Option<media::MediaHandle>) {
    match engine {
        Some(engine) => engine.ready().await,
        None => std::future::pending().await,
    }
}

/// Starts the media engine in `rtp` mode, on threads of its own (RTP never waits for the
/// core, whatever `runtime.threads` is); its events reach the core as [`CoreInput::Media`],
/// through a forwarding task (the engine keeps a backlog while the core's queue is full, so
/// neither side blocks the other). Its thread ends by itself once the core drops the handle.
fn start_media(
    config: &GatewayConfig,
    core: mpsc::Sender<CoreInput>,
) -> Option<media::MediaHandle> {
    if config.media.mode != crate::config::MediaMode::Rtp {
        return None;
    }
    let (events_tx, mut events_rx) = mpsc::channel(MEDIA_EVENTS);
    let config = media::MediaEngineConfig::default();
    let handle = match media::MediaEngine::start_on_own_threads(config, events_tx) {
        Ok((handle, _thread)) => handle,
        Err(err) => {
            tracing::error!(%err, "cannot start the media engine's threads: calls get no RTP");
            return None;
        }
    };
    tokio::spawn(async move {
        while let Some(event) = events_rx.recv().await {
            if core.send(CoreInput::Media(event)).await.is_err() {
                break;
            }
        }
    });
    Some(handle)
}

/// A seed for tags, branches and Call-IDs from the OS.
fn seed() -> u64 {
    use rand::TryRngCore;
    rand::rngs::OsRng.try_next_u64().unwrap_or_else(|_| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| d.as_nanos() as u64) ^ u64::from(std::process::id())
    })
}

/// Binds SIP UDP and then TCP on the same port. With port 0 the kernel picks the UDP port, and
/// that port may already be in use for TCP (another listener, or a connection's local port):
/// then both are given up and another port is tried, a few times.
async fn bind_sip(addr: SocketAddr) -> Result<(UdpSocket, TcpListener, SocketAddr), RuntimeError> {
    const ATTEMPTS: usize = 16;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let udp = UdpSocket::bind(addr)
            .await
            .map_err(bind_error("SIP UDP", addr))?;
        set_buffers(&udp);
        let bound = udp.local_addr().map_err(bind_error("SIP UDP", addr))?;
        match TcpListener::bind(bound).await {
            Ok(tcp) => return Ok((udp, tcp, bound)),
            Err(err)
                if addr.port() == 0
                    && err.kind() == std::io::ErrorKind::AddrInUse
                    && attempt < ATTEMPTS =>
            {
                tracing::debug!(%bound, "SIP TCP port taken; choosing another port");
            }
            Err(err) => return Err(bind_error("SIP TCP", bound)(err)),
        }
    }
}

fn bind_error(what: &'static str, addr: SocketAddr) -> impl FnOnce(std::io::Error) -> RuntimeError {
    move |source| RuntimeError::Bind { what, addr, source }
}

/// Larger kernel buffers so a burst of datagrams is not dropped while the core is busy.
fn set_buffers(socket: &UdpSocket) {
    let fd = socket.as_raw_fd();
    for option in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: setsockopt reads `UDP_BUFFER` for the given length only.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                option,
                &UDP_BUFFER as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

struct CoreTask {
    gateway: Gateway,
    /// Connections to close once what is queued now is flushed (after a framing refusal).
    pending_closes: Vec<(crate::sip::transport::Peer, u64)>,
    /// The configuration running now (the base of a reload).
    config: GatewayConfig,
    sinks: Sinks,
    core_rx: mpsc::Receiver<CoreInput>,
    api_rx: mpsc::Receiver<ApiInbound>,
    /// Snapshot requests of the metrics listener.
    metrics_rx: mpsc::Receiver<SnapshotRequest>,
    /// The accepted API tokens (a reload replaces them).
    tokens: watch::Sender<Arc<TokenTable>>,
    /// lineMakeCall refused while the core is behind.
    shedder: Shedder,
    /// Stop and reload orders (signals, an in-process owner's shutdown): [`super::control`].
    control: mpsc::Receiver<Control>,
}

impl CoreTask {
    async fn run(mut self) {
        let mut stop_by: Option<Instant> = None;
        loop {
            self.flush().await;
            if let Some(deadline) = stop_by {
                if self.gateway.is_shutdown_complete() || Instant::now() >= deadline {
                    self.flush().await;
                    if let Some(tx) = &self.sinks.journal {
                        journal::move_all(&mut self.gateway, tx).await;
                    }
                    // Dropping the outboxes lets each writer finish what is queued and close.
                    self.sinks.outboxes.clear();
                    self.sinks.aborts.clear();
                    return;
                }
            }
            let wake = self.next_wake(stop_by);
            tokio::select! {
                biased;
                Some(order) = self.control.recv(), if stop_by.is_none() => match order {
                    Control::Stop(cause) => stop_by = Some(self.begin_stop(cause)),
                    Control::Reload => self.reload(),
                },
                input = self.core_rx.recv() => match input {
                    Some(input) => self.on_core_input(input),
                    None => return,
                },
                inbound = self.api_rx.recv() => match inbound {
                    Some(inbound) => self.on_api(inbound),
                    None => return,
                },
                Some(reply) = self.metrics_rx.recv() => {
                    let _ = reply.send(self.snapshot());
                }
                _ = media_room(&self.sinks.media), if !self.sinks.media_backlog.is_empty() => {
                    self.sinks.send_media_backlog();
                }
                _ = tokio::time::sleep_until(wake.into()) => {
                    self.gateway.handle_timeout(Instant::now());
                }
            }
            self.drain_ready();
        }
    }

    /// SIGHUP: the configuration file is read and checked again; a bad one changes nothing
    /// (one line names the key). Only `[[lines]]` apply without a restart.
    fn reload(&mut self) {
        match crate::config::load(&self.config.file) {
            Ok(config) => {
                warn_unreloadable(&self.config, &config);
                tracing::info!(file = %config.file.display(), lines = config.lines.len(), tokens = config.api.tokens.len(), "configuration reloaded");
                self.gateway.reload(Instant::now(), &config);
                // New connections authenticate against the new tokens; open ones keep theirs.
                self.tokens
                    .send_replace(Arc::new(TokenTable::new(config.api.tokens.clone())));
                self.config = config;
            }
            Err(err) => tracing::error!("reload refused, nothing changed: {err}"),
        }
    }

    fn next_wake(&self, stop_by: Option<Instant>) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let next = self.gateway.poll_timeout().unwrap_or(far);
        stop_by.map_or(next, |stop| next.min(stop))
    }

    fn begin_stop(&mut self, signal: &str) -> Instant {
        tracing::info!(
            signal,
            "stopping: dropping calls, unregistering, closing lines"
        );
        let now = Instant::now();
        self.gateway.begin_shutdown(now);
        // `sip.shutdown_grace_s`: BYEs, CANCELs and un-REGISTERs answered, or given up.
        now + self.config.sip.lifecycle.shutdown_grace
    }

    /// Takes whatever else is already queued before flushing: from both queues in turn, up to a
    /// batch or for [`BATCH_TIME`], whichever ends first. A longer batch would save system calls
    /// (one `sendmmsg` and one API write per connection for the round) but hold the first
    /// input's datagram and LINE_REPLY until the last input was handled.
    fn drain_ready(&mut self) {
        let started = Instant::now();
        for _ in 0..BATCH {
            let mut took = false;
            if let Ok(input) = self.core_rx.try_recv() {
                self.on_core_input(input);
                took = true;
            }
            if let Ok(inbound) = self.api_rx.try_recv() {
                self.on_api(inbound);
                took = true;
            }
            if !took || started.elapsed() >= BATCH_TIME {
                break;
            }
        }
    }

    fn on_core_input(&mut self, input: CoreInput) {
        let now = Instant::now();
        match input {
            CoreInput::Sip(incoming) => self.gateway.handle_sip(now, *incoming),
            CoreInput::Received { incoming, at } => {
                let queued = now.saturating_duration_since(at);
                self.shedder.note_sip_wait(queued, now);
                self.gateway.handle_sip_queued(now, *incoming, queued)
            }
            CoreInput::DriverRefusals(count) => self.gateway.note_driver_refusals(count),
            CoreInput::Malformed { source, response } => {
                self.gateway.send_raw(source, response.into());
            }
            CoreInput::TransportFailure(failure) => {
                self.gateway.handle_transport_failure(now, &failure)
            }
            CoreInput::StreamOpened { peer, id, sender } => {
                self.sinks.streams.opened(peer, id, sender)
            }
            CoreInput::StreamClosed { peer, id } => {
                if self.sinks.streams.closed(peer, id) {
                    self.gateway.handle_flow_event(now, FlowEvent::Closed(peer));
                }
            }
            CoreInput::Flow(event) => self.gateway.handle_flow_event(now, event),
            CoreInput::CloseStream { peer, id } => {
                // After the refusal queued just before: flushed in order, then closed.
                self.pending_closes.push((peer, id));
            }
            CoreInput::Media(event) => self.gateway.handle_media_event(now, event),
        }
    }

    fn on_api(&mut self, inbound: ApiInbound) {
        let now = Instant::now();
        match inbound {
            ApiInbound::Opened {
                conn,
                outbox,
                abort,
            } => {
                self.sinks.outboxes.insert(conn, outbox);
                self.sinks.aborts.insert(conn, abort);
                self.gateway
                    .handle_client(now, ClientInput::Connected { conn });
            }
            ApiInbound::Input { input, received } => {
                let queued = self.api_rx.len();
                let capacity = self.api_rx.max_capacity();
                let input = self.shedder.admit(input, received, now, queued, capacity);
                self.gateway.handle_client(now, input)
            }
        }
    }

    /// The core's counters for the metrics listener, with the runtime's own.
    fn snapshot(&self) -> crate::metrics::CoreSnapshot {
        let mut snapshot = self.gateway.snapshot();
        snapshot.api_queue = (self.api_rx.len() as u64, self.api_rx.max_capacity() as u64);
        snapshot.shed = self.shedder.shed();
        snapshot.slow_readers = self.sinks.slow_readers;
        snapshot
    }

    /// Carries out every queued output of the gateway.
    async fn flush(&mut self) {
        loop {
            let mut progressed = false;
            // Closes first: a flow given up is closed before the REGISTER that replaces it.
            while let Some(command) = self.gateway.poll_transport_command() {
                match command {
                    TransportCommand::Close(peer) => self.sinks.streams.close(peer),
                }
                progressed = true;
            }
            while let Some(transmit) = self.gateway.poll_transmit() {
                self.sinks.queue_sip(transmit);
                progressed = true;
            }
            self.sinks.send_datagrams().await;
            for (peer, id) in self.pending_closes.drain(..) {
                self.sinks.streams.close_id(peer, id);
            }
            while let Some(output) = self.gateway.poll_output() {
                if let Some(conn) = self.sinks.deliver_api(output) {
                    // The app's reader is too slow: its connection is gone, shut its apps down.
                    self.gateway
                        .handle_client(Instant::now(), ClientInput::Disconnected { conn });
                }
                progressed = true;
            }
            if let Some(tx) = &self.sinks.journal {
                journal::move_records(&mut self.gateway, tx);
            }
            while let Some(command) = self.gateway.poll_media() {
                self.sinks.send_media(command);
            }
            if !progressed {
                return;
            }
        }
    }
}

impl Sinks {
    /// Hands a command to the media engine without blocking; while its queue is full the
    /// command waits in the backlog (bounded; past it a command is lost, logged).
    fn send_media(&mut self, command: media::MediaCommand) {
        if self.media.is_none() {
            return;
        }
        if self.media_backlog.len() >= MEDIA_BACKLOG {
            tracing::warn!("media engine behind by {MEDIA_BACKLOG} commands: command dropped");
            return;
        }
        self.media_backlog.push_back(command);
        self.send_media_backlog();
    }

    /// Sends the backlog, oldest first, while the engine takes commands.
    fn send_media_backlog(&mut self) {
        let Some(engine) = &self.media else {
            self.media_backlog.clear();
            return;
        };
        while let Some(command) = self.media_backlog.pop_front() {
            match engine.send_or_return(command) {
                Ok(()) => {}
                Err(media::engine::Refused::Full(command)) => {
                    self.media_backlog.push_front(command);
                    return;
                }
                Err(media::engine::Refused::Stopped) => {
                    tracing::warn!("media engine stopped: commands dropped");
                    self.media_backlog.clear();
                    return;
                }
            }
        }
    }

    /// A stream transmit goes to its connection now; a datagram waits in `datagrams` for
    /// [`Sinks::send_datagrams`] (one `sendmmsg` for the round, in the order queued).
    fn queue_sip(&mut self, transmit: Transmit) {
        let Transmit {
            destination,
            payload,
        } = transmit;
        match destination.transport {
            Transport::Udp => self.datagrams.push((payload, destination.addr)),
            Transport::Tcp | Transport::Tls => self.streams.send(destination, payload),
        }
    }

    /// Sends the datagrams queued by [`Sinks::queue_sip`].
    async fn send_datagrams(&mut self) {
        if self.datagrams.is_empty() {
            return;
        }
        sip_udp::send_datagrams(&self.udp, &self.datagrams).await;
        self.datagrams.clear();
    }

    /// Queues an output for its connection; returns the connection when its queue overflowed
    /// and it was closed.
    fn deliver_api(&mut self, output: Output) -> Option<ConnId> {
        let conn = output.conn();
        if let Output::Close { .. } = output {
            // The writer finishes what is queued, then the connection closes.
            self.outboxes.remove(&conn);
            self.aborts.remove(&conn);
            return None;
        }
        let outbox = self.outboxes.get(&conn)?;
        match outbox.try_send(output) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(conn = conn.0, "API client too slow: closing its connection");
                self.slow_readers += 1;
                self.outboxes.remove(&conn);
                if let Some(abort) = self.aborts.remove(&conn) {
                    abort.abort();
                }
                Some(conn)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.outboxes.remove(&conn);
                None
            }
        }
    }
}

/// Keys a reload cannot change (they need a restart): logged, the old values stay.
fn warn_unreloadable(running: &GatewayConfig, new: &GatewayConfig) {
    let changed = [
        (
            "sip.listen",
            running.sip.listen != new.sip.listen && new.sip.listen.port() != 0,
        ),
        (
            "api.listen",
            running.api.listen != new.api.listen && new.api.listen.port() != 0,
        ),
        ("media", running.media.mode != new.media.mode),
        ("runtime.threads", running.threads != new.threads),
        (
            "sip.tls_listen",
            match (&running.sip.tls, &new.sip.tls) {
                (None, None) => false,
                (Some(a), Some(b)) => a.listen != b.listen && b.listen.port() != 0,
                _ => true,
            },
        ),
        (
            "sip.max_connections, sip.tcp_idle_s, sip.max_message_bytes",
            running.sip.streams != new.sip.streams,
        ),
    ];
    for (key, differs) in changed {
        if differs {
            tracing::warn!(key, "changed in the file, takes effect at the next restart");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sip_udp_and_tcp_share_the_port_picked_for_port_zero() {
        let (udp, tcp, bound) = bind_sip("127.0.0.1:0".parse().unwrap()).await.unwrap();
        assert_ne!(bound.port(), 0);
        assert_eq!(udp.local_addr().unwrap(), bound);
        assert_eq!(tcp.local_addr().unwrap(), bound);
    }

    #[tokio::test]
    async fn a_taken_tcp_port_that_was_asked_for_is_an_error_naming_sip_tcp() {
        let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = squatter.local_addr().unwrap();
        match bind_sip(addr).await {
            Err(RuntimeError::Bind { what, addr: at, .. }) => {
                assert_eq!((what, at), ("SIP TCP", addr));
            }
            other => panic!(
                "expected a SIP TCP bind error, got {:?}",
                other.map(|o| o.2)
            ),
        }
    }
}
