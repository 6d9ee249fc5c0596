//! Issue 17 item 3 end to end: `GET /metrics` before and after one call moves the counters by
//! exactly what the call did; `GET /healthz` answers 200 while the core answers.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use common::app::*;
use common::{free_port, http_get, line_config, scenario, scrape, sipp, GatewayProcess};

type Metrics = BTreeMap<String, f64>;

/// `after - before` for every series that moved.
fn moved(before: &Metrics, after: &Metrics, prefix: &str) -> BTreeMap<String, f64> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| k.starts_with(prefix))
        .filter_map(|k| {
            let delta = after.get(k).unwrap_or(&0.0) - before.get(k).unwrap_or(&0.0);
            (delta != 0.0).then(|| (k.clone(), delta))
        })
        .collect()
}

fn expected(entries: &[(&str, f64)]) -> BTreeMap<String, f64> {
    entries.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn start(proxy_port: u16) -> (GatewayProcess, SocketAddr) {
    let port = free_port();
    let rest = format!(
        "{}\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n",
        line_config(proxy_port, "tcp")
    );
    let gw = GatewayProcess::start(&rest);
    (gw, SocketAddr::from(([127, 0, 0, 1], port)))
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_move_by_exactly_what_one_call_did() {
    // Over TCP nothing is retransmitted, so every message is counted exactly once.
    let port = free_port();
    let p = port.to_string();
    let sf = scenario("uas_answer_gw_hangs_up.xml");
    let provider = sipp(&["-sf", sf.to_str().unwrap(), "-p", &p, "-t", "t1", "-m", "1"])
        .timeout(30)
        .spawn();
    common::wait_tcp_listening(port);
    let (gw, metrics) = start(port);
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let before = scrape(metrics);
    assert_eq!(before["tapigw_api_connections"], 1.0);
    assert_eq!(before["tapigw_apps{kind=\"line\"}"], 1.0);
    assert_eq!(before["tapigw_line_opens"], 1.0);
    assert_eq!(before["tapigw_registrations{state=\"off\"}"], 1.0);

    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    let during = scrape(metrics);
    assert_eq!(
        during["tapigw_calls{state=\"connected\",direction=\"outbound\"}"],
        1.0
    );
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    c.line_deallocate_call(h_call).await.unwrap();
    let run = tokio::task::spawn_blocking(move || provider.wait())
        .await
        .unwrap();
    run.assert_success("provider");
    let after = scrape(metrics);

    let sip = |dir: &str, method: &str, status: &str| {
        format!("tapigw_sip_messages_total{{direction=\"{dir}\",method=\"{method}\",status=\"{status}\"}}")
    };
    let want = expected(&[
        (&sip("out", "INVITE", ""), 1.0),
        (&sip("in", "INVITE", "100"), 1.0),
        (&sip("in", "INVITE", "180"), 1.0),
        (&sip("in", "INVITE", "200"), 1.0),
        (&sip("out", "ACK", ""), 1.0),
        (&sip("out", "BYE", ""), 1.0),
        (&sip("in", "BYE", "200"), 1.0),
    ]);
    assert_eq!(moved(&before, &after, "tapigw_sip_messages"), want);
    assert_eq!(
        moved(&before, &after, "tapigw_sip_retransmissions"),
        BTreeMap::new()
    );
    let calls = expected(&[
        ("tapigw_calls_started_total{direction=\"outbound\"}", 1.0),
        (
            "tapigw_calls_completed_total{direction=\"outbound\",outcome=\"answered\"}",
            1.0,
        ),
    ]);
    assert_eq!(moved(&before, &after, "tapigw_calls_"), calls);
    assert_eq!(moved(&before, &after, "tapigw_calls{"), BTreeMap::new());
    let replies = moved(&before, &after, "tapigw_line_reply_seconds_count");
    assert_eq!(
        replies,
        expected(&[
            (
                "tapigw_line_reply_seconds_count{function=\"lineMakeCall\"}",
                1.0
            ),
            (
                "tapigw_line_reply_seconds_count{function=\"lineDrop\"}",
                1.0
            ),
        ])
    );
    let inf = "tapigw_line_reply_seconds_bucket{le=\"+Inf\",function=\"lineMakeCall\"}";
    assert_eq!(after[inf], 1.0);
    assert_eq!(after["tapigw_pending_requests"], 0.0);
    assert_eq!(moved(&before, &after, "tapigw_api_"), BTreeMap::new());
}

#[test]
fn healthz_answers_while_the_core_does() {
    let (_gw, metrics) = start(free_port());
    assert_eq!(http_get(metrics, "/healthz"), (200, "ok\n".to_string()));
    assert_eq!(http_get(metrics, "/nothing").0, 404);
    let (status, body) = http_get(metrics, "/metrics");
    assert_eq!(status, 200);
    assert!(body.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    assert!(body.contains("# TYPE tapigw_line_reply_seconds histogram"));
}
