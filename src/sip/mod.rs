//! SIP: the message model, the codec (the only rsip user), RFC 3261 transactions and the
//! transport-level rules, digest authentication. Everything here is sans-I/O.

pub mod auth;
pub mod codec;
pub mod message;
pub mod message_stats;
pub mod timers;
pub mod transaction;
pub mod transport;
