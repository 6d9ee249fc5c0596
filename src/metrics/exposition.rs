//! A snapshot rendered as OpenMetrics text (what Prometheus scrapes) with `prometheus-client`:
//! the snapshot becomes a list of families with constant samples, which a [`Collector`]
//! encodes on the registry's behalf. docs/operations.md describes each family.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::api_counters::{ApiCounters, DropReason};
use super::snapshot::CoreSnapshot;
use crate::tapi::server::stats::Histogram;

/// The Content-Type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, String)>;

#[derive(Debug)]
enum Value {
    Counter(u64),
    Gauge(i64),
    Histogram(Histogram),
}

#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    kind: MetricType,
    samples: Vec<(Labels, Value)>,
}

impl Family {
    fn new(name: &'static str, kind: MetricType, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    fn with(mut self, labels: Labels, value: Value) -> Family {
        self.samples.push((labels, value));
        self
    }

    fn counters<K>(
        mut self,
        entries: impl IntoIterator<Item = (K, u64)>,
        labels: impl Fn(K) -> Labels,
    ) -> Family {
        for (key, n) in entries {
            self.samples.push((labels(key), Value::Counter(n)));
        }
        self
    }

    fn gauges<K>(
        mut self,
        entries: impl IntoIterator<Item = (K, u64)>,
        labels: impl Fn(K) -> Labels,
    ) -> Family {
        for (key, n) in entries {
            self.samples.push((labels(key), Value::Gauge(n as i64)));
        }
        self
    }
}

/// Process figures an operator watches during floods (Linux /proc; absent elsewhere).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessFigures {
    pub resident_bytes: Option<u64>,
    pub open_fds: Option<u64>,
}

impl ProcessFigures {
    pub fn read() -> ProcessFigures {
        let page = 4096;
        let resident_bytes = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|pages| pages * page);
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|d| d.count() as u64);
        ProcessFigures {
            resident_bytes,
            open_fds,
        }
    }
}

#[derive(Debug)]
struct Families(Vec<Family>);

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for family in &self.0 {
            let mut metric =
                encoder.encode_descriptor(family.name, family.help, None, family.kind)?;
            match family.samples.as_slice() {
                // One sample without labels: written as `name value`, not `name{} value`.
                [(labels, value)] if labels.is_empty() => encode_value(value, metric)?,
                samples => {
                    for (labels, value) in samples {
                        encode_value(value, metric.encode_family(labels)?)?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn encode_value(value: &Value, mut sample: MetricEncoder) -> Result<(), std::fmt::Error> {
    match value {
        Value::Counter(n) => ConstCounter::new(*n).encode(sample),
        Value::Gauge(n) => ConstGauge::new(*n).encode(sample),
        Value::Histogram(h) => {
            sample.encode_histogram::<NoLabelSet>(h.sum_seconds, h.count, &h.buckets(), None)
        }
    }
}

/// The OpenMetrics text of everything the gateway measures.
pub fn render(core: &CoreSnapshot, api: &ApiCounters, process: ProcessFigures) -> String {
    let mut families = call_families(core);
    families.extend(sip_families(core));
    families.extend(api_families(core, api));
    families.extend(session_families(core));
    families.extend(process_families(process));
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families(families)));
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}

fn call_families(core: &CoreSnapshot) -> Vec<Family> {
    let t = &core.tapi;
    let latency = t.reply_latency.iter().fold(
        Family::new(
            "tapigw_line_reply_seconds",
            MetricType::Histogram,
            "Time from an asynchronous request to its LINE_REPLY, by function.",
        ),
        |f, (function, h)| {
            f.with(
                vec![("function", function.to_string())],
                Value::Histogram(h.clone()),
            )
        },
    );
    vec![
        Family::new(
            "tapigw_calls",
            MetricType::Gauge,
            "Calls TAPISRV holds now, by state and direction.",
        )
        .gauges(t.calls.iter().map(|(k, n)| (*k, *n)), |(state, dir)| {
            vec![("state", state.into()), ("direction", dir.into())]
        }),
        Family::new(
            "tapigw_calls_started",
            MetricType::Counter,
            "Calls started, by direction.",
        )
        .counters(
            t.call_counters.started.iter().map(|(k, n)| (*k, *n)),
            |dir| vec![("direction", dir.into())],
        ),
        Family::new(
            "tapigw_calls_completed",
            MetricType::Counter,
            "Calls completed (IDLE or refused), by direction and outcome.",
        )
        .counters(
            t.call_counters.completed.iter().map(|(k, n)| (*k, *n)),
            |(dir, outcome)| vec![("direction", dir.into()), ("outcome", outcome.into())],
        ),
        latency,
        Family::new(
            "tapigw_pending_requests",
            MetricType::Gauge,
            "Asynchronous requests waiting for their LINE_REPLY.",
        )
        .with(vec![], Value::Gauge(t.pending_requests as i64)),
        Family::new(
            "tapigw_provider_calls",
            MetricType::Gauge,
            "Calls the SIP provider holds (live or being released).",
        )
        .with(vec![], Value::Gauge(core.provider.calls as i64)),
    ]
}

fn sip_families(core: &CoreSnapshot) -> Vec<Family> {
    let p = &core.provider;
    let retransmissions = [
        ("sent", p.retransmissions.sent),
        ("received", p.retransmissions.received),
    ];
    vec![
        Family::new(
            "tapigw_sip_messages",
            MetricType::Counter,
            "SIP messages by direction, method (CSeq method for responses) and status (empty for requests).",
        )
        .counters(core.sip_messages.counts.iter().map(|(k, n)| (*k, *n)), |(dir, method, status)| {
            let status = if status == 0 { String::new() } else { status.to_string() };
            vec![("direction", dir.into()), ("method", method.into()), ("status", status)]
        }),
        Family::new(
            "tapigw_sip_retransmissions",
            MetricType::Counter,
            "Retransmissions: sent by our timers (A, E, G), received from peers.",
        )
        .counters(retransmissions, |dir| vec![("direction", dir.into())]),
        Family::new("tapigw_sip_transactions", MetricType::Gauge, "Live SIP transactions.")
            .with(vec![], Value::Gauge(p.transactions as i64)),
        Family::new("tapigw_registrations", MetricType::Gauge, "Configured lines by registration state.")
            .gauges(p.registrations.iter().map(|(k, n)| (*k, *n)), |state| {
                vec![("state", state.into())]
            }),
        admission_family(p.admission),
    ]
}

/// SIP requests admission refused, by reason (docs/operations.md "SIP admission").
fn admission_family(a: crate::provider::AdmissionStats) -> Family {
    let reasons = [
        ("server_transactions", a.server_transactions_refused),
        ("invite_rate", a.invite_rate_refused),
        ("invite_rate_silent", a.invite_rate_dropped),
        ("overload", a.overload_refused),
        ("untrusted", a.untrusted_refused),
    ];
    Family::new(
        "tapigw_sip_refused",
        MetricType::Counter,
        "SIP requests refused before a transaction existed, by reason (invite_rate_silent: dropped unanswered).",
    )
    .counters(reasons, |reason| vec![("reason", reason.into())])
}

fn api_families(core: &CoreSnapshot, api: &ApiCounters) -> Vec<Family> {
    let t = &core.tapi;
    let drops = DropReason::ALL
        .iter()
        .map(|r| (r.label(), api.dropped_total(*r)))
        .chain([("slow_reader", core.slow_readers)]);
    let runtime_limits = [
        (
            "max_connections",
            api.dropped_total(DropReason::MaxConnections),
        ),
        ("auth_timeout", api.dropped_total(DropReason::AuthTimeout)),
    ];
    let limits = t
        .limit_hits
        .iter()
        .map(|(k, n)| (*k, *n))
        .chain(runtime_limits);
    vec![
        Family::new(
            "tapigw_api_connections",
            MetricType::Gauge,
            "API connections open now.",
        )
        .with(vec![], Value::Gauge(api.open_now() as i64)),
        Family::new(
            "tapigw_api_connections_accepted",
            MetricType::Counter,
            "API connections accepted.",
        )
        .with(vec![], Value::Counter(api.accepted_total())),
        Family::new(
            "tapigw_api_connections_dropped",
            MetricType::Counter,
            "API connections the gateway closed itself, by reason.",
        )
        .counters(drops, |reason| vec![("reason", reason.into())]),
        Family::new(
            "tapigw_api_authentications",
            MetricType::Counter,
            "Successful authenticate requests.",
        )
        .with(vec![], Value::Counter(api.authenticated_total())),
        Family::new(
            "tapigw_api_auth_failures",
            MetricType::Counter,
            "Refused requests before authentication and wrong tokens.",
        )
        .with(vec![], Value::Counter(api.auth_failures_total())),
        Family::new(
            "tapigw_apps",
            MetricType::Gauge,
            "Registered apps (lineInitializeEx, phoneInitializeEx).",
        )
        .gauges(t.apps.iter().map(|(k, n)| (*k, *n)), |kind| {
            vec![("kind", kind.into())]
        }),
        Family::new(
            "tapigw_line_opens",
            MetricType::Gauge,
            "Open lines (lineOpen) of all apps.",
        )
        .with(vec![], Value::Gauge(t.line_opens as i64)),
        Family::new(
            "tapigw_api_limit_hits",
            MetricType::Counter,
            "Requests or connections refused by an API limit, by limit.",
        )
        .counters(limits, |limit| vec![("limit", limit.into())]),
        Family::new(
            "tapigw_event_queue_overflows",
            MetricType::Counter,
            "Event-mode apps shut down because they left api.max_event_queue messages unfetched.",
        )
        .with(vec![], Value::Counter(t.event_queue_overflows)),
        Family::new(
            "tapigw_overload_shed",
            MetricType::Counter,
            "lineMakeCall refused at once because the core was behind.",
        )
        .with(vec![], Value::Counter(core.shed)),
        Family::new(
            "tapigw_core_queue_depth",
            MetricType::Gauge,
            "API inputs waiting for the core task.",
        )
        .with(vec![], Value::Gauge(core.api_queue.0 as i64)),
        Family::new(
            "tapigw_core_queue_capacity",
            MetricType::Gauge,
            "Capacity of the core task's API input queue.",
        )
        .with(vec![], Value::Gauge(core.api_queue.1 as i64)),
    ]
}

/// Sessions that survive a dropped connection (docs/api.md "Sessions").
fn session_families(core: &CoreSnapshot) -> Vec<Family> {
    let s = core.tapi.sessions;
    let counter = |name, help, n| {
        Family::new(name, MetricType::Counter, help).with(vec![], Value::Counter(n))
    };
    vec![
        counter(
            "tapigw_sessions_kept",
            "Resumable apps kept when their connection dropped.",
            s.kept,
        ),
        counter(
            "tapigw_sessions_resumed",
            "Sessions re-attached by lineResume or phoneResume (take-overs included).",
            s.resumed,
        ),
        counter(
            "tapigw_sessions_expired",
            "Kept apps shut down when api.resume_grace_s ran out.",
            s.expired,
        ),
        counter(
            "tapigw_sessions_taken_over",
            "Resumes of a session still attached to another connection.",
            s.taken_over,
        ),
        counter(
            "tapigw_sessions_overflowed",
            "Kept apps shut down because their message queue overflowed while away.",
            s.overflowed,
        ),
        counter(
            "tapigw_sessions_resume_refused",
            "lineResume or phoneResume refused (unknown, expired or not resumable).",
            s.refused,
        ),
        Family::new(
            "tapigw_sessions_detached",
            MetricType::Gauge,
            "Apps kept right now, waiting for a resume.",
        )
        .with(vec![], Value::Gauge(s.detached as i64)),
    ]
}

fn process_families(p: ProcessFigures) -> Vec<Family> {
    let mut families = Vec::new();
    if let Some(bytes) = p.resident_bytes {
        families.push(
            Family::new(
                "process_resident_memory_bytes",
                MetricType::Gauge,
                "Resident memory size in bytes.",
            )
            .with(vec![], Value::Gauge(bytes as i64)),
        );
    }
    if let Some(fds) = p.open_fds {
        families.push(
            Family::new(
                "process_open_fds",
                MetricType::Gauge,
                "Open file descriptors.",
            )
            .with(vec![], Value::Gauge(fds as i64)),
        );
    }
    families
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let mut core = CoreSnapshot::default();
        core.tapi.call_counters.started.insert("outbound", 2);
        core.tapi.calls.insert(("connected", "inbound"), 1);
        let mut h = Histogram::default();
        h.observe(std::time::Duration::from_millis(2));
        core.tapi.reply_latency.insert("lineMakeCall", h);
        core.sip_messages.counts.insert(("out", "INVITE", 0), 3);
        core.sip_messages.counts.insert(("in", "INVITE", 180), 1);
        let api = ApiCounters::default();
        api.dropped(DropReason::AuthFailed);
        core.tapi.sessions.kept = 1;
        core.provider.admission.untrusted_refused = 2;
        core.tapi.sessions.detached = 1;
        let text = render(&core, &api, ProcessFigures::default());
        for line in [
            "tapigw_calls_started_total{direction=\"outbound\"} 2",
            "tapigw_calls{state=\"connected\",direction=\"inbound\"} 1",
            "tapigw_line_reply_seconds_bucket{le=\"0.0025\",function=\"lineMakeCall\"} 1",
            "tapigw_line_reply_seconds_bucket{le=\"+Inf\",function=\"lineMakeCall\"} 1",
            "tapigw_line_reply_seconds_count{function=\"lineMakeCall\"} 1",
            "tapigw_sip_messages_total{direction=\"out\",method=\"INVITE\",status=\"\"} 3",
            "tapigw_sip_messages_total{direction=\"in\",method=\"INVITE\",status=\"180\"} 1",
            "tapigw_api_connections_dropped_total{reason=\"auth_failed\"} 1",
            "tapigw_api_connections 0",
            "tapigw_sessions_kept_total 1",
            "tapigw_sip_refused_total{reason=\"untrusted\"} 2",
            "tapigw_sessions_detached 1",
            "# EOF",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }
}
