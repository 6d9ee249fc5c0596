//! The application API's wire protocol (sans-I/O): JSON-RPC 2.0 lines into typed TAPI
//! requests, TAPISRV's typed outputs into JSON lines, and the `authenticate` handshake of a
//! connection ([`auth`]). Contract: docs/api.md. The tokio server that carries it is
//! `crate::runtime::api_server`; the Rust client is `crate::client`.

pub mod auth;
pub mod protocol;
