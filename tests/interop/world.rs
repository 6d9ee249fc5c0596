//! One test's set-up: Kamailio, the gateway (line 1001 registered through Kamailio) and baresip
//! phones registered as 2001/2002, all on loopback ports chosen at run time. When a test fails
//! (or with `INTEROP_TRACE=1`), everyone's log and SIP trace is printed.

use std::time::{Duration, Instant};

use serde_json::json;

use super::baresip::{AnswerMode, Baresip, BaresipOptions};
use super::kamailio::{
    Binding, Kamailio, KamailioOptions, PASSWORD_1001, PASSWORD_2001, PASSWORD_2002,
};
use crate::common::app::*;
use crate::common::GatewayProcess;

/// Bound of every single wait for a SIP or TAPI event.
pub const STEP: Duration = Duration::from_secs(10);

pub struct World {
    pub kamailio: Kamailio,
    pub gateway: GatewayProcess,
    pub phones: Vec<Baresip>,
}

/// The gateway's `[[lines]]` (1001 at Kamailio, with the extra keys `line_extra`) and
/// `[media]`.
pub fn line_config(kamailio_port: u16, transport: &str, line_extra: &str) -> String {
    let rtp = 10000 + (kamailio_port % 500) * 20;
    format!(
        "[[lines]]\nname = \"Line 1001\"\nuser = \"1001\"\ndomain = \"127.0.0.1\"\n\
         proxy = \"127.0.0.1:{kamailio_port}\"\ntransport = \"{transport}\"\nregister = true\n\
         expires = 120\nauth_user = \"1001\"\npassword = \"{PASSWORD_1001}\"\n{line_extra}\n\n\
         [media]\nmode = \"rtp\"\naddress = \"127.0.0.1\"\nport_min = {rtp}\nport_max = {}\n",
        rtp + 19
    )
}

impl World {
    /// Kamailio with `options`, then the gateway with its line on `transport`, waiting until
    /// Kamailio holds a binding for 1001.
    pub fn start(options: KamailioOptions, transport: &'static str) -> World {
        World::start_with_line(options, transport, "")
    }

    /// Like [`World::start`], with extra `[[lines]]` keys for the gateway's line.
    pub fn start_with_line(
        options: KamailioOptions,
        transport: &'static str,
        line_extra: &str,
    ) -> World {
        World::start_with(options, transport, line_extra, "")
    }

    /// Like [`World::start`], with extra `[media]` keys for the gateway (`files_dir`, ...).
    pub fn start_with_media(
        options: KamailioOptions,
        transport: &'static str,
        media_extra: &str,
    ) -> World {
        World::start_with(options, transport, "", media_extra)
    }

    fn start_with(
        options: KamailioOptions,
        transport: &'static str,
        line_extra: &str,
        media_extra: &str,
    ) -> World {
        let kamailio = Kamailio::start(options);
        let config = line_config(kamailio.port, transport, line_extra) + media_extra;
        let gateway = GatewayProcess::start(&config);
        let mut world = World {
            kamailio,
            gateway,
            phones: Vec::new(),
        };
        world.wait_gateway_registered();
        world
    }

    pub fn wait_gateway_registered(&mut self) -> Vec<Binding> {
        self.kamailio
            .wait_bindings("1001", STEP, "present", |b| !b.is_empty())
    }

    /// Adds baresip 2001 (UDP) registered at Kamailio.
    pub fn add_phone(&mut self, answer: AnswerMode) -> usize {
        self.add_phone_as("2001", PASSWORD_2001, answer)
    }

    /// Adds baresip 2002 (UDP) registered at Kamailio: a second phone (a transfer target).
    pub fn add_second_phone(&mut self, answer: AnswerMode) -> usize {
        self.add_phone_as("2002", PASSWORD_2002, answer)
    }

    fn add_phone_as(
        &mut self,
        user: &'static str,
        password: &'static str,
        answer: AnswerMode,
    ) -> usize {
        let phone = Baresip::start(BaresipOptions {
            user,
            password,
            proxy_port: self.kamailio.port,
            transport: "udp",
            answer,
        });
        self.kamailio
            .wait_bindings(user, STEP, "present", |b| !b.is_empty());
        self.phones.push(phone);
        self.phones.len() - 1
    }

    /// The first phone (2001).
    pub fn phone(&mut self) -> &mut Baresip {
        self.phones.first_mut().expect("a phone")
    }

    /// Phone number `index` in the order they were added (0: 2001, 1: 2002).
    pub fn phone_at(&mut self, index: usize) -> &mut Baresip {
        self.phones.get_mut(index).expect("that phone")
    }

    /// A URI of user `user` at Kamailio (what a phone or the gateway dials to reach it).
    pub fn uri_of(&self, user: &str) -> String {
        format!("sip:{user}@127.0.0.1:{}", self.kamailio.port)
    }

    /// The AOR baresip dials to reach the gateway's line through Kamailio.
    pub fn line_uri(&self) -> String {
        format!("sip:1001@127.0.0.1:{}", self.kamailio.port)
    }

    /// Waits for `needle` in Kamailio's log after its first `from` lines.
    pub fn kamailio_line_after(&mut self, from: usize, needle: &str, timeout: Duration) -> String {
        match self
            .kamailio
            .process
            .wait_for_line_after(from, needle, timeout)
        {
            Ok(line) => line,
            Err(e) => panic!("{e}"),
        }
    }

    /// Lines Kamailio printed so far (a mark for [`World::kamailio_line_after`]).
    pub fn kamailio_mark(&mut self) -> usize {
        self.kamailio.process.drain();
        self.kamailio.process.seen.len()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if !std::thread::panicking() && std::env::var_os("INTEROP_TRACE").is_none() {
            return;
        }
        let mut report = String::new();
        report.push_str("===== tapigw log (lines read so far) =====\n");
        report.push_str(&self.gateway.seen.join("\n"));
        report.push_str("\n===== kamailio log and SIP trace =====\n");
        report.push_str(&self.kamailio.trace());
        for phone in &mut self.phones {
            report.push_str(&format!("\n===== baresip {} SIP trace =====\n", phone.user));
            report.push_str(&phone.trace());
        }
        eprintln!("{report}");
    }
}

/// An app with line 0 open as owner, and the line's status messages enabled. Every TAPI
/// message it receives is kept in `seen`, so a test can count calls at the end.
pub struct App {
    pub client: Client,
    pub h_line: u32,
    pub seen: Vec<TapiMessage>,
}

impl App {
    pub async fn open(world: &World) -> App {
        let (mut client, _, h_line) =
            open_line(world.gateway.api_addr(), LINECALLPRIVILEGE_OWNER).await;
        client
            .line_set_status_messages(h_line, LINEDEVSTATE_INSERVICE | LINEDEVSTATE_OUTOFSERVICE)
            .await
            .unwrap();
        App {
            client,
            h_line,
            seen: Vec::new(),
        }
    }

    /// Waits (at most [`STEP`]) for a message matching `pred`, keeping everything received.
    pub async fn wait(
        &mut self,
        what: &str,
        pred: impl FnMut(&TapiMessage) -> bool,
    ) -> TapiMessage {
        match self.client.wait_for(STEP, pred).await {
            Ok((m, skipped)) => {
                self.seen.extend(skipped);
                self.seen.push(m.clone());
                m
            }
            Err(e) => panic!(
                "no {what} within {STEP:?} ({e}); messages so far:\n{}",
                self.describe_seen()
            ),
        }
    }

    /// Polls lineGetLineDevStatus until the line says it is registered.
    pub async fn wait_registered(&mut self) {
        let deadline = Instant::now() + STEP;
        loop {
            let status = self
                .client
                .call("lineGetLineDevStatus", json!({"hLine": self.h_line}))
                .await
                .unwrap();
            if status["registered"] == true {
                return;
            }
            assert!(Instant::now() < deadline, "line never registered: {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for LINE_REPLY(`request`); returns its result.
    pub async fn reply(&mut self, request: u32) -> i32 {
        self.wait(&format!("LINE_REPLY for {request}"), |m| {
            m.msg.dw_message_id == LINE_REPLY && m.msg.dw_param1 == request
        })
        .await
        .msg
        .reply_result()
    }

    /// lineMakeCall to `dest`; waits for LINE_REPLY(0) and returns hCall.
    pub async fn make_call(&mut self, dest: &str) -> u32 {
        let (request, h_call) = self.client.line_make_call(self.h_line, dest).await.unwrap();
        assert_eq!(self.reply(request).await, 0, "lineMakeCall");
        h_call
    }

    /// Runs lineAnswer/lineDrop/... on `h_call` and waits for its LINE_REPLY.
    pub async fn op(&mut self, method: &str, h_call: u32) -> i32 {
        let request = self.client.call_op(method, h_call).await.unwrap();
        self.reply(request).await
    }

    /// Waits for LINE_CALLSTATE(`state`) on `h_call`; returns its mode.
    pub async fn state(&mut self, h_call: u32, state: u32) -> u32 {
        self.wait(&format!("LINE_CALLSTATE {state:#x} on {h_call}"), |m| {
            m.msg.dw_message_id == LINE_CALLSTATE
                && m.msg.h_device == h_call
                && m.msg.dw_param1 == state
        })
        .await
        .msg
        .dw_param2
    }

    /// Waits for the next inbound call (LINE_APPNEWCALL then OFFERING); returns hCall.
    pub async fn offered(&mut self) -> u32 {
        let m = self
            .wait("LINE_APPNEWCALL", |m| {
                m.msg.dw_message_id == LINE_APPNEWCALL
            })
            .await;
        let (h_call, privilege) = (m.msg.dw_param2, m.msg.dw_param3);
        assert_eq!(privilege, LINECALLPRIVILEGE_OWNER);
        self.state(h_call, LINECALLSTATE_OFFERING).await;
        h_call
    }

    /// Collects whatever comes within `window` (nothing is awaited); returns it.
    pub async fn quiet_for(&mut self, window: Duration) -> Vec<TapiMessage> {
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.client.next_message(left).await {
                Ok(m) => got.push(m),
                Err(ClientError::Timeout) => break,
                Err(e) => panic!("API connection: {e}"),
            }
        }
        self.seen.extend(got.iter().cloned());
        got
    }

    /// Every message received so far, one per line.
    pub fn describe_seen(&self) -> String {
        self.seen
            .iter()
            .map(TapiMessage::describe)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// How many calls the app was handed (LINE_APPNEWCALL) so far.
    pub fn new_calls(&self) -> usize {
        self.seen
            .iter()
            .filter(|m| m.msg.dw_message_id == LINE_APPNEWCALL)
            .count()
    }
}
