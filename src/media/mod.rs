//! Media: RTP port leases and the media engine that carries each call's audio.
//!
//! Two layers (see docs/architecture.md, "Media engine"):
//! - sans-I/O parts, each a state machine or a pure function with time passed in:
//!   [`g711`], [`rtp`], [`rtcp`], [`dtmf`] (RFC 4733), [`tones`], [`wav`], [`files`] (path
//!   confinement), [`recorder`], [`mixer`] and the per-call [`session`] that ties them together;
//! - the tokio driver, [`engine`]: [`MediaEngine::start`] returns a [`MediaHandle`] the core sends
//!   [`MediaCommand`]s to without blocking; it owns the sockets and reports [`MediaEvent`]s.
//!
//! The port allocator ([`MediaAllocator`], [`SignallingOnly`], [`MediaLease`])
//! lives in `allocator.rs`; in `rtp` mode it is [`PreboundPool`] (`prebound.rs`), whose binder
//! thread keeps port pairs bound ahead so the core never binds a socket itself.

mod allocator;
pub mod dtmf;
pub mod engine;
pub mod files;
pub mod g711;
pub mod mixer;
mod prebound;
pub mod recorder;
pub mod rtcp;
pub mod rtp;
pub mod session;
pub mod tones;
pub mod wav;

pub use allocator::{
    allocator_for, LeaseId, MediaAllocator, MediaError, MediaLease, SignallingOnly,
};
pub use engine::{
    EngineCounters, MediaCommand, MediaEngine, MediaEngineConfig, MediaEvent, MediaHandle,
    MediaSocket,
};
pub use files::{confine, PathError};
pub use prebound::PreboundPool;
pub use session::{our_direction, StreamParams};
pub use tones::Tone;
