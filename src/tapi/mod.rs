//! The TAPI side of the gateway: our TAPISRV.
//!
//! - [`consts`] and [`lineerr`]: Microsoft's constants and LINEERR_ codes.
//! - [`ids`]: handle and identifier newtypes.
//! - [`provider`]: the TSPI-like seam to the SIP provider.
//! - [`server`]: TAPISRV itself (apps, line opens, call handles, requests, message delivery).
//! - [`message`]: LINEMESSAGE, the unit of delivery to apps.
//! - [`types`]: typed TAPI values (call states with their modes, privileges, bit sets).
//! - [`request`] and [`answer`]: the functions apps call and what TAPISRV gives back, typed.
//! - [`session`]: session IDs, the per-app stamp (seq) of every message, session counters.
//! - [`scope`]: what an authenticated API connection may see and do.
//!
//! This layer knows no wire format: `crate::api::protocol` turns its values into JSON.

pub mod answer;
pub mod consts;
pub mod ids;
pub mod lineerr;
pub mod message;
pub mod phoneerr;
pub mod provider;
pub mod request;
pub mod scope;
pub mod server;
pub mod session;
pub mod types;

pub use answer::{
    AddressCapsAnswer, AddressStatusAnswer, Answer, CallInfoAnswer, CallStatusAnswer, Fault,
    LineDevStatusAnswer, Output, PhoneCapsAnswer, PhoneStatusAnswer,
};
pub use ids::{
    CallId, ConnId, DeviceId, HCall, HLine, HLineApp, HPhone, HPhoneApp, ReplyTag, RequestId,
};
pub use lineerr::*;
pub use message::{Digits, LineMessage, MAX_GATHER_DIGITS};
pub use phoneerr::*;
pub use provider::{
    CallOp, DevCaps, ForwardEntry, LineDevStatus, LineProvider, MediaControl, ProviderCallInfo,
    ProviderEvent,
};
pub use request::Request;
pub use scope::{LineScope, Scope, Token};
pub use session::{SessionId, SessionStats, Stamp};
pub use types::*;
