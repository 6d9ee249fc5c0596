//! The application API: the JSON-RPC wire protocol (`protocol`), its tokio server (`server`)
//! and a Rust client (`client`). Contract: docs/api.md.

pub mod client;
pub mod protocol;
pub mod server;

pub use protocol::{
    ApiCall, ApiEvent, ApiOutput, AppParams, CallParams, CallPrivilegeParams, ConnId,
    DevCapsParams, GetMessageParams, InitializeParams, LineParams, MakeCallParams, NegotiateParams,
    OpenParams, RedirectParams, StatusMessagesParams,
};
pub use server::ApiInbound;
