//! The call's RTP session in the media engine, from the core's side: what the engine is told
//! and what it reports.
//!
//! The call keeps the engine in line with its offer/answer state in one place,
//! [`Call::sync_stream`], run before each of its actions is taken: a session is opened once the
//! call has the peer's media and is in a phase with media (early media of a 18x with SDP, our
//! 2xx sent, the dialog confirmed), updated when a re-INVITE or UPDATE changes the address,
//! codec, payload type or direction (hold, RFC 3264 §8.4), and closed when the call ends. The
//! stream uses the payload type the SDP negotiated (`RemoteMedia::payload_type`, the number our
//! answer or the peer's answer gave the codec), never the codec's static number.
//!
//! Digits go out by RFC 4733 through the engine when the peer offered telephone-event, else as
//! SIP INFO `application/dtmf-relay` (`dtmf_info`). Exactly one `GenerateDone` reaches TAPISRV
//! per current generate request: the engine answers every generate command it got (a newer one
//! cancels the older), so the call counts them and reports only when none is left.

use std::path::PathBuf;

use crate::media::{MediaCommand, MediaEvent, StreamParams, Tone};
use crate::sdp::Direction;
use crate::tapi::consts::{
    LINEDIGITMODE_DTMF, LINEDIGITMODE_DTMFEND, LINETONEMODE_BEEP, LINETONEMODE_BUSY,
    LINETONEMODE_RINGBACK,
};
use crate::tapi::{
    CallFeatures, LineErr, MediaControl, ProviderEvent, RequestId, LINEERR_INVALCALLSTATE,
    LINEERR_INVALDIGITS, LINEERR_INVALTONEMODE, LINEERR_OPERATIONUNAVAIL,
};

use super::dtmf_info::InfoDigits;
use super::{Action, Call, CallEnv, Phase};

/// The call's media session as the engine knows it.
#[derive(Default)]
pub struct CallStream {
    /// What the engine was last told (`None`: no session open).
    pub open: Option<StreamParams>,
    /// The session was closed: the sockets went with it, it is not opened again.
    closed: bool,
    /// Generate commands sent to the engine whose `GenerateDone` has not come back.
    generates: u32,
    /// SIP INFO digits being sent.
    pub info: Option<InfoDigits>,
}

fn sends(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::SendOnly)
}

fn receives(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::RecvOnly)
}

/// Our direction from what we asked for and what the peer said (RFC 3264 §6.1): we send only
/// if we want to and the peer receives, and the other way round.
fn effective(ours: Direction, peer: Direction) -> Direction {
    match (sends(ours) && receives(peer), receives(ours) && sends(peer)) {
        (true, true) => Direction::SendRecv,
        (true, false) => Direction::SendOnly,
        (false, true) => Direction::RecvOnly,
        (false, false) => Direction::Inactive,
    }
}

impl Call {
    fn engine_id(&self) -> u64 {
        self.id.0
    }

    fn media_command(&mut self, cmd: MediaCommand) {
        self.push(Action::Media(cmd));
    }

    /// The stream the engine should carry now, if any.
    fn desired_stream(&self) -> Option<StreamParams> {
        let with_media = matches!(
            self.phase,
            Phase::Early
                | Phase::Answering { .. }
                | Phase::Connected
                | Phase::Cancelling
                | Phase::Terminating
        );
        let remote = self.media.remote.as_ref().filter(|_| with_media)?;
        if remote.address.port() == 0 {
            return None;
        }
        Some(StreamParams {
            remote: remote.address,
            codec: remote.codec,
            payload_type: remote.payload_type,
            telephone_event: remote.telephone_event,
            direction: effective(self.hold.ours(), remote.direction),
        })
    }

    /// Opens, updates or closes the engine's session to match the call (see the module doc).
    pub(super) fn sync_stream(&mut self) {
        let desired = self.desired_stream();
        match (self.stream.open, desired) {
            (None, Some(stream)) if !self.stream.closed => {
                let Some((rtp, rtcp)) = self.media.lease.as_mut().and_then(|l| l.take_sockets())
                else {
                    return; // signalling only
                };
                self.stream.open = Some(stream);
                let call = self.engine_id();
                self.media_command(MediaCommand::Open {
                    call,
                    rtp,
                    rtcp,
                    stream,
                });
            }
            (Some(old), Some(stream)) if old != stream => {
                self.stream.open = Some(stream);
                let call = self.engine_id();
                self.media_command(MediaCommand::Update { call, stream });
            }
            (Some(_), None) if !self.is_live() || self.media.lease.is_none() => {
                self.stream.open = None;
                self.stream.closed = true;
                self.stream.generates = 0;
                let call = self.engine_id();
                self.media_command(MediaCommand::Close { call });
            }
            _ => {}
        }
    }

    /// What the engine reported about this call's session.
    pub fn handle_media_event(&mut self, event: MediaEvent) {
        let call = self.id;
        match event {
            MediaEvent::DigitStart { digit, .. } => {
                self.push(Action::Event(ProviderEvent::Digit {
                    call,
                    digit,
                    mode: LINEDIGITMODE_DTMF,
                }))
            }
            MediaEvent::DigitEnd { digit, .. } => self.push(Action::Event(ProviderEvent::Digit {
                call,
                digit,
                mode: LINEDIGITMODE_DTMFEND,
            })),
            MediaEvent::GenerateDone { cancelled, .. } => {
                self.stream.generates = self.stream.generates.saturating_sub(1);
                if self.stream.generates == 0 && self.stream.info.is_none() {
                    self.push(Action::Event(ProviderEvent::GenerateDone {
                        call,
                        cancelled,
                    }));
                }
            }
            // Completions: the provider answers them without the call.
            MediaEvent::PlayDone { .. }
            | MediaEvent::RecordDone { .. }
            | MediaEvent::FileRefused { .. } => {}
        }
    }

    /// Whether the call is in a phase where digits and tones make sense.
    fn media_phase(&self) -> bool {
        matches!(self.phase, Phase::Early | Phase::Connected)
    }

    /// lineGenerateDigits, lineGenerateTone, mediaStop.
    pub fn media_control(
        &mut self,
        env: &mut CallEnv<'_>,
        control: MediaControl,
    ) -> Result<(), LineErr> {
        match control {
            MediaControl::GenerateDigits {
                digits,
                duration_ms,
            } => self.generate_digits(env, digits, duration_ms),
            MediaControl::GenerateTone {
                tone_mode,
                duration_ms,
            } => {
                let tone = match tone_mode {
                    LINETONEMODE_RINGBACK => Tone::Ringback,
                    LINETONEMODE_BUSY => Tone::Busy,
                    LINETONEMODE_BEEP => Tone::Beep,
                    _ => return Err(LINEERR_INVALTONEMODE),
                };
                self.engine_ready()?;
                self.stream.info = None;
                self.stream.generates += 1;
                let call = self.engine_id();
                self.media_command(MediaCommand::GenerateTone {
                    call,
                    tone,
                    duration_ms,
                });
                Ok(())
            }
            MediaControl::CancelGenerate => {
                if self.stream.info.take().is_some() {
                    let call = self.id;
                    let cancelled = true;
                    self.push(Action::Event(ProviderEvent::GenerateDone {
                        call,
                        cancelled,
                    }));
                }
                if self.stream.open.is_some() && self.stream.generates > 0 {
                    let call = self.engine_id();
                    self.media_command(MediaCommand::CancelGenerate { call });
                }
                Ok(())
            }
            MediaControl::StopMedia => {
                self.engine_ready()?;
                let call = self.engine_id();
                self.media_command(MediaCommand::StopMedia { call });
                Ok(())
            }
        }
    }

    /// The call has a session in the engine: else LINEERR_INVALCALLSTATE before media, or
    /// LINEERR_OPERATIONUNAVAIL in signalling-only mode.
    fn engine_ready(&self) -> Result<(), LineErr> {
        if self.stream.open.is_some() && self.media_phase() {
            return Ok(());
        }
        if self.media_phase() {
            Err(LINEERR_OPERATIONUNAVAIL)
        } else {
            Err(LINEERR_INVALCALLSTATE)
        }
    }

    fn generate_digits(
        &mut self,
        env: &mut CallEnv<'_>,
        digits: String,
        duration_ms: u32,
    ) -> Result<(), LineErr> {
        crate::media::dtmf::validate_digits(&digits).map_err(|_| LINEERR_INVALDIGITS)?;
        if !self.media_phase() {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let rfc4733 = self
            .stream
            .open
            .is_some_and(|s| s.telephone_event.is_some());
        if rfc4733 {
            self.stream.info = None;
            self.stream.generates += 1;
            let call = self.engine_id();
            self.media_command(MediaCommand::GenerateDigits {
                call,
                digits,
                duration_ms,
            });
            return Ok(());
        }
        // SIP INFO needs the confirmed dialog (RFC 6086 §4.2.1 allows early dialogs, but our
        // early dialogs are the peer's to route).
        if self.phase != Phase::Connected {
            return Err(LINEERR_INVALCALLSTATE);
        }
        if self.stream.open.is_some() && self.stream.generates > 0 {
            let call = self.engine_id();
            self.media_command(MediaCommand::CancelGenerate { call });
        }
        self.stream.info = Some(InfoDigits::new(&digits, duration_ms, env.now));
        self.step_info(env);
        Ok(())
    }

    /// mediaPlay of a file lexically confined to `within` (`media.files_dir`; the engine
    /// resolves its symlinks).
    pub fn play(
        &mut self,
        request: RequestId,
        file: PathBuf,
        within: Option<PathBuf>,
        looped: bool,
    ) -> Result<(), LineErr> {
        self.engine_ready()?;
        let call = self.engine_id();
        self.media_command(MediaCommand::Play {
            call,
            op: u64::from(request.0),
            file,
            within,
            looped,
        });
        Ok(())
    }

    /// mediaRecord into a file lexically confined to `within`, as [`Self::play`].
    pub fn record(
        &mut self,
        request: RequestId,
        file: PathBuf,
        within: Option<PathBuf>,
        max_ms: u32,
        silence_ms: Option<u32>,
    ) -> Result<(), LineErr> {
        self.engine_ready()?;
        let call = self.engine_id();
        self.media_command(MediaCommand::Record {
            call,
            op: u64::from(request.0),
            file,
            within,
            max_ms,
            silence_ms,
        });
        Ok(())
    }

    /// LINECALLFEATURE_ bits of the media functions usable now.
    pub(super) fn media_features(&self) -> CallFeatures {
        if !self.media_phase() {
            return CallFeatures::NONE;
        }
        let mut f = CallFeatures::MONITORDIGITS | CallFeatures::GATHERDIGITS;
        if self.stream.open.is_some() {
            f |= CallFeatures::GENERATEDIGITS | CallFeatures::GENERATETONE;
        } else if self.phase == Phase::Connected {
            f |= CallFeatures::GENERATEDIGITS;
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_direction_is_what_both_sides_allow() {
        use Direction::*;
        assert_eq!(effective(SendRecv, SendRecv), SendRecv);
        assert_eq!(effective(SendOnly, RecvOnly), SendOnly);
        assert_eq!(effective(SendRecv, SendOnly), RecvOnly);
        assert_eq!(effective(SendOnly, SendOnly), Inactive);
        assert_eq!(effective(SendRecv, Inactive), Inactive);
    }
}
