//! The TAPI side of the gateway: our TAPISRV.
//!
//! - [`consts`] and [`lineerr`]: Microsoft's constants and LINEERR_ codes.
//! - [`ids`]: handle and identifier newtypes.
//! - [`provider`]: the TSPI-like seam to the SIP provider.
//! - [`server`]: TAPISRV itself (apps, line opens, call handles, requests, message delivery).
//! - [`message`]: LINEMESSAGE, the unit of delivery to apps.

pub mod consts;
pub mod ids;
pub mod lineerr;
pub mod message;
pub mod provider;
pub mod server;

pub use ids::{CallId, DeviceId, HCall, HLine, HLineApp, RequestId};
pub use lineerr::*;
pub use message::LineMessage;
pub use provider::{DevCaps, LineDevStatus, LineProvider, ProviderCallInfo, ProviderEvent};
