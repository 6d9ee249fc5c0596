//! The provider's side of the media engine: the commands its calls queued (taken by the
//! runtime, which hands them to the engine without blocking) and the engine's events routed to
//! their call. Play and record completions need no call: their operation number is the TAPI
//! request ID, so they complete even after the call is gone.

use std::time::Instant;

use crate::media::files::lexical;
use crate::media::{MediaCommand, MediaEvent};
use crate::tapi::{
    CallId, LineErr, MediaControl, ProviderEvent, RequestId, LINEERR_INVALCALLHANDLE,
    LINEERR_INVALPARAM, LINEERR_OPERATIONFAILED, LINEERR_OPERATIONUNAVAIL,
};

use super::SipProvider;

/// A mediaPlay or mediaRecord request.
pub enum FileOp {
    Play {
        file: String,
        looped: bool,
    },
    Record {
        file: String,
        max_ms: u32,
        silence_ms: Option<u32>,
    },
}

impl SipProvider {
    /// The next command for the media engine.
    pub fn poll_media(&mut self) -> Option<MediaCommand> {
        self.media_out.pop_front()
    }

    /// An event of the media engine.
    pub fn handle_media_event(&mut self, now: Instant, event: MediaEvent) {
        self.fire_due(now);
        match event {
            MediaEvent::PlayDone {
                op,
                result,
                stopped,
                ..
            } => {
                if let Err(err) = &result {
                    tracing::warn!(op, %err, "mediaPlay failed");
                }
                let ok = result.is_ok() && !stopped;
                self.complete_file_op(op, ok);
            }
            MediaEvent::RecordDone { op, result, .. } => {
                if let Err(err) = &result {
                    tracing::warn!(op, %err, "mediaRecord failed");
                }
                self.complete_file_op(op, result.is_ok());
            }
            MediaEvent::FileRefused { op, reason, .. } => {
                tracing::info!(op, %reason, "media file refused");
                self.complete_op(op, Err(LINEERR_INVALPARAM));
            }
            event => {
                let call = CallId(match &event {
                    MediaEvent::DigitStart { call, .. }
                    | MediaEvent::DigitEnd { call, .. }
                    | MediaEvent::GenerateDone { call, .. }
                    | MediaEvent::PlayDone { call, .. }
                    | MediaEvent::RecordDone { call, .. }
                    | MediaEvent::FileRefused { call, .. } => *call,
                });
                self.with_call(now, call, |c, _| c.handle_media_event(event));
            }
        }
    }

    fn complete_file_op(&mut self, op: u64, ok: bool) {
        let result = if ok {
            Ok(())
        } else {
            Err(LINEERR_OPERATIONFAILED)
        };
        self.complete_op(op, result);
    }

    /// The LINE_REPLY of the mediaPlay / mediaRecord whose request ID is `op`.
    fn complete_op(&mut self, op: u64, result: Result<(), LineErr>) {
        let Ok(request) = u32::try_from(op) else {
            return;
        };
        self.events.push_back(ProviderEvent::Completion {
            request: RequestId(request),
            result,
        });
    }

    /// lineGenerateDigits, lineGenerateTone, mediaStop on `call`.
    pub(super) fn call_media_control(
        &mut self,
        now: Instant,
        call: CallId,
        control: MediaControl,
    ) -> Result<(), LineErr> {
        self.with_call(now, call, |c, env| c.media_control(env, control))
            .unwrap_or(Err(LINEERR_INVALCALLHANDLE))
    }

    /// mediaPlay / mediaRecord: the name is confined to `media.files_dir` lexically (absolute
    /// or `..` out of it: LINEERR_INVALPARAM at once), then the call starts it; the engine
    /// resolves symlinks before it opens the file and answers FileRefused (LINE_REPLY
    /// LINEERR_INVALPARAM) when they lead out. The core itself never touches the file system.
    pub(super) fn file_op(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
        op: FileOp,
    ) -> Result<(), LineErr> {
        let dir = self.files_dir.clone().ok_or(LINEERR_OPERATIONUNAVAIL)?;
        let name = match &op {
            FileOp::Play { file, .. } | FileOp::Record { file, .. } => file.as_str(),
        };
        let path = lexical(&dir, name).map_err(|err| {
            tracing::info!(%err, "media file refused");
            LINEERR_INVALPARAM
        })?;
        let within = Some(dir);
        self.with_call(now, call, |c, _| match op {
            FileOp::Play { looped, .. } => c.play(request, path, within, looped),
            FileOp::Record {
                max_ms, silence_ms, ..
            } => c.record(request, path, within, max_ms, silence_ms),
        })
        .unwrap_or(Err(LINEERR_INVALCALLHANDLE))
    }
}
