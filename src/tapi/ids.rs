//! Newtypes for the handles and identifiers TAPI hands around.
//!
//! App-facing handles (`HLineApp`, `HLine`, `HCall`) are 32-bit like TAPI's `DECLARE_OPAQUE32`
//! handles and are unique per gateway, so a handle of one app is never valid for another.
//! `CallId` is the provider's own call identity (TSPI's `HDRVCALL`): one per physical call,
//! however many apps hold handles to it. `ConnId` names one client connection and `ReplyTag`
//! is the client's own tag for a request, echoed untouched in its response.

use std::fmt;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_newtype!(
    /// An application's registration with TAPI (lineInitializeEx).
    HLineApp(u32)
);
id_newtype!(
    /// One app's open of one line device (lineOpen).
    HLine(u32)
);
id_newtype!(
    /// One app's handle to one call.
    HCall(u32)
);
id_newtype!(
    /// A pending asynchronous request; always positive as an i32 (1..=0x7FFF_FFFF).
    RequestId(u32)
);
id_newtype!(
    /// A line device ID, 0..numDevs-1 in config file order.
    DeviceId(u32)
);
id_newtype!(
    /// The provider's identity for a physical call (TSPI HDRVCALL).
    CallId(u64)
);

id_newtype!(
    /// An application's registration for phone devices (phoneInitializeEx).
    HPhoneApp(u32)
);
id_newtype!(
    /// One app's open of one phone device (phoneOpen).
    HPhone(u32)
);
id_newtype!(
    /// One client connection to TAPISRV (an API connection).
    ConnId(u64)
);

/// The tag a client attached to a request (the JSON-RPC `id`, as its JSON text), echoed in the
/// response. TAPISRV never looks inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplyTag(Box<str>);

impl ReplyTag {
    pub fn new(text: impl Into<Box<str>>) -> Self {
        ReplyTag(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<u64> for ReplyTag {
    fn from(n: u64) -> Self {
        ReplyTag(n.to_string().into())
    }
}
