//! Sessions that survive a dropped connection (api.md, "Sessions that survive a dropped
//! connection"). Every app gets a session ID at initialisation; one initialised with
//! `resumable` is *kept* when its connection drops without lineShutdown: its lines, calls and
//! pending requests stay, its messages (LINE_REPLYs included) queue, and a deadline
//! `api.resume_grace_s` ahead is set in TAPISRV's own deadline heap (fired by `handle_*` with
//! the core's `now`, so the simulator's fake clock drives it). lineResume on any connection
//! re-attaches it: the response first, then every message after the client's `lastSeq` in
//! order, then live ones. Resuming a session that is still attached elsewhere takes it over:
//! the old connection is told (`Output::TakenOver`) and closed as if it had dropped.
//!
//! What is kept for a replay: a resumable app's messages already written (pushed, or handed
//! out by lineGetMessage) stay in its replay buffer, since the client may not have read them
//! when the connection dropped; the buffer holds at most `api.max_event_queue` messages (the
//! oldest go first), and messages produced while the app is away count against the same bound:
//! when all of them are unsent the app is shut down as the event-queue limit does.

use std::cmp::Reverse;
use std::time::Instant;

use rand::RngCore;

use crate::tapi::{
    Answer, ConnId, HLineApp, LineProvider, NotifyMode, Output, ReplyTag, SessionId, SessionStats,
    TapiErr, LINEERR_INVALAPPHANDLE, PHONEERR_INVALAPPHANDLE,
};

use super::delivery::pushed;
use super::Tapisrv;

/// Which resume function was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ResumeFn {
    /// lineResume: any session, LINEERR_ errors.
    Line,
    /// phoneResume: phone sessions only, PHONEERR_ errors.
    Phone,
}

impl ResumeFn {
    fn invalid(self) -> TapiErr {
        match self {
            ResumeFn::Line => LINEERR_INVALAPPHANDLE.into(),
            ResumeFn::Phone => PHONEERR_INVALAPPHANDLE.into(),
        }
    }
}

/// A lineResume / phoneResume request.
pub(super) struct Resume {
    pub conn: ConnId,
    pub tag: ReplyTag,
    pub session: SessionId,
    pub last_seq: u64,
    pub function: ResumeFn,
}

impl Tapisrv {
    /// 128 bits from the session RNG (a CSPRNG seeded by the OS at start-up).
    pub(super) fn new_session_id(&mut self) -> SessionId {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        SessionId::from_bytes(bytes)
    }

    /// The session counters (metrics).
    pub fn session_stats(&self) -> SessionStats {
        SessionStats {
            detached: self.apps.values().filter(|a| a.conn.is_none()).count() as u64,
            ..self.stats
        }
    }

    /// The connection of a resumable app dropped: keep the app until the grace period ends.
    /// Its waiting lineGetMessage calls went with the connection.
    pub(super) fn keep_app(&mut self, now: Instant, app: HLineApp) {
        let grace = self.config.resume_grace;
        let Some(a) = self.apps.get_mut(&app) else {
            return;
        };
        let until = now + grace;
        a.conn = None;
        a.waiters.clear();
        a.unsent = 0;
        a.kept_until = Some(until);
        self.session_deadlines.push(Reverse((until, app)));
        self.stats.kept += 1;
        tracing::info!(
            app = %a.name,
            handle = app.0,
            grace_s = grace.as_secs_f64(),
            "API connection dropped: app kept for a resume"
        );
    }

    /// Shuts down every kept app whose grace period has ended (as version 1 does when a
    /// connection closes: calls it alone owned are dropped).
    pub(super) fn expire_sessions(&mut self, now: Instant, provider: &mut dyn LineProvider) {
        while let Some(&Reverse((at, app))) = self.session_deadlines.peek() {
            if at > now {
                break;
            }
            self.session_deadlines.pop();
            // Entries of apps resumed (or kept again) since are stale.
            let Some(a) = self
                .apps
                .get(&app)
                .filter(|a| a.conn.is_none() && a.kept_until == Some(at))
            else {
                continue;
            };
            tracing::warn!(
                app = %a.name,
                handle = app.0,
                "no resume within api.resume_grace_s: session expired, shutting the app down"
            );
            self.stats.expired += 1;
            self.shutdown_app(now, provider, app);
        }
    }

    /// When the next grace period ends.
    pub(super) fn next_session_deadline(&self) -> Option<Instant> {
        self.session_deadlines.peek().map(|Reverse((at, _))| *at)
    }

    /// lineResume / phoneResume: answers first, then replays, then takes the session from the
    /// connection that had it (if another one still did).
    pub(super) fn resume(&mut self, now: Instant, provider: &mut dyn LineProvider, r: Resume) {
        let Some(app) = self.resumable_app(&r) else {
            self.stats.refused += 1;
            tracing::info!(
                function = ?r.function,
                "resume refused: unknown or expired session"
            );
            return self.respond(r.conn, r.tag, Err(r.function.invalid()));
        };
        if !self.replayable(app, r.last_seq) {
            // Messages the client never read are gone: honest only by ending the session.
            self.stats.refused += 1;
            tracing::warn!(
                handle = app.0,
                last_seq = r.last_seq,
                "resume refused: messages after lastSeq no longer kept; shutting the app down"
            );
            self.respond(r.conn, r.tag, Err(r.function.invalid()));
            return self.shutdown_app(now, provider, app);
        }
        let old = self.detach(app);
        let phone = self.apps[&app].phone;
        let taken_from = old.filter(|c| *c != r.conn);
        if let Some(old) = taken_from {
            self.stats.taken_over += 1;
            self.outputs.push_back(Output::TakenOver {
                conn: old,
                app: app.0,
                phone,
            });
        }
        self.respond::<TapiErr>(r.conn, r.tag, Ok(Answer::Resumed { app: app.0, phone }));
        self.attach(app, r.conn, r.last_seq);
        self.stats.resumed += 1;
        tracing::info!(
            handle = app.0,
            last_seq = r.last_seq,
            taken_over = taken_from.is_some(),
            "session resumed"
        );
        if let Some(old) = taken_from {
            // The old connection's copy ends: closed as if it had dropped (its other
            // resumable apps are kept, the rest shut down).
            self.connection_closed(now, provider, old);
        }
    }

    /// The app a resume names, if it may be resumed by that function.
    fn resumable_app(&self, r: &Resume) -> Option<HLineApp> {
        let app = *self.sessions.get(&r.session)?;
        let a = self.apps.get(&app).filter(|a| a.resumable)?;
        (r.function == ResumeFn::Line || a.phone).then_some(app)
    }

    /// True when every message after `last_seq` is still kept (in the replay buffer or, in
    /// event mode, in the queue).
    fn replayable(&self, app: HLineApp, last_seq: u64) -> bool {
        let Some(a) = self.apps.get(&app) else {
            return false;
        };
        let needed = last_seq.min(a.last_seq) + 1;
        if needed > a.last_seq {
            return true;
        }
        let oldest = a.replay.front().or(a.queue.front()).map(|n| n.seq);
        oldest.is_some_and(|seq| seq <= needed)
    }

    /// Takes the app off its connection; returns that connection. Waiting lineGetMessage calls
    /// there are answered INVALAPPHANDLE (the app is not theirs any more).
    fn detach(&mut self, app: HLineApp) -> Option<ConnId> {
        let a = self.apps.get_mut(&app)?;
        let old = a.conn.take();
        let waiters: Vec<_> = a.waiters.drain(..).collect();
        let err: TapiErr = if a.phone {
            PHONEERR_INVALAPPHANDLE.into()
        } else {
            LINEERR_INVALAPPHANDLE.into()
        };
        self.wake_waiters(waiters, err);
        old
    }

    /// Puts the app on `conn` and replays what came after `last_seq`: pushed again (modes 1
    /// and 3), or back at the head of the event queue for lineGetMessage (mode 2).
    fn attach(&mut self, app: HLineApp, conn: ConnId, last_seq: u64) {
        let Some(a) = self.apps.get_mut(&app) else {
            return;
        };
        a.conn = Some(conn);
        a.kept_until = None;
        a.unsent = 0;
        while a.replay.front().is_some_and(|n| n.seq <= last_seq) {
            a.replay.pop_front();
        }
        if a.mode == NotifyMode::Event {
            while let Some(numbered) = a.replay.pop_back() {
                a.queue.push_front(numbered);
            }
            return;
        }
        let replayed: Vec<Output> = a.replay.iter().map(|n| pushed(a, conn, *n)).collect();
        self.outputs.extend(replayed);
    }
}
