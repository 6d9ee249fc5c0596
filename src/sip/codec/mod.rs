//! The SIP codec: wire bytes <-> our message model (`crate::sip::message`).
//!
//! This is the only module that uses rsip. (Decoding, normalisation and stream framing are being
//! written; encoding is in [`encode`].)

mod encode;

pub use encode::{encode, encode_request, encode_response};
