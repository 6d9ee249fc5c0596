//! PHONEERR_ codes (tapi.h; ../shared/reference/tapi.md §5), carried as [`PhoneErr`] whose wire
//! form is the 0x9000xxxx value read as a signed 32-bit integer, and [`TapiErr`], either kind,
//! as a response carries it.

use std::fmt;

use super::lineerr::LineErr;

/// A PHONEERR_ code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneErr(pub u32);

impl PhoneErr {
    /// The code as TAPI's LONG return value (always negative).
    pub fn code(self) -> i32 {
        self.0 as i32
    }

    /// `PHONEERR_<NAME>`, or `PHONEERR_0x...` for a value TAPI does not define.
    pub fn name(self) -> String {
        match PHONEERR_NAMES.iter().find(|(v, _)| *v == self.0) {
            Some((_, n)) => (*n).to_string(),
            None => format!("PHONEERR_{:#010X}", self.0),
        }
    }
}

impl fmt::Display for PhoneErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::error::Error for PhoneErr {}

/// A function's TAPI error: LINEERR_ for line functions, PHONEERR_ for phone functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TapiErr {
    Line(LineErr),
    Phone(PhoneErr),
}

impl TapiErr {
    pub fn code(self) -> i32 {
        match self {
            TapiErr::Line(e) => e.code(),
            TapiErr::Phone(e) => e.code(),
        }
    }

    pub fn name(self) -> String {
        match self {
            TapiErr::Line(e) => e.name(),
            TapiErr::Phone(e) => e.name(),
        }
    }
}

impl From<LineErr> for TapiErr {
    fn from(e: LineErr) -> Self {
        TapiErr::Line(e)
    }
}

impl From<PhoneErr> for TapiErr {
    fn from(e: PhoneErr) -> Self {
        TapiErr::Phone(e)
    }
}

impl fmt::Display for TapiErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

macro_rules! phoneerrs {
    ($($name:ident = $value:expr),* $(,)?) => {
        $(pub const $name: PhoneErr = PhoneErr($value);)*
        const PHONEERR_NAMES: &[(u32, &str)] = &[
            $(($value, stringify!($name)),)*
        ];
    };
}

phoneerrs! {
    PHONEERR_ALLOCATED = 0x9000_0001,
    PHONEERR_BADDEVICEID = 0x9000_0002,
    PHONEERR_INCOMPATIBLEAPIVERSION = 0x9000_0003,
    PHONEERR_INCOMPATIBLEEXTVERSION = 0x9000_0004,
    PHONEERR_INIFILECORRUPT = 0x9000_0005,
    PHONEERR_INUSE = 0x9000_0006,
    PHONEERR_INVALAPPHANDLE = 0x9000_0007,
    PHONEERR_INVALAPPNAME = 0x9000_0008,
    PHONEERR_INVALBUTTONLAMPID = 0x9000_0009,
    PHONEERR_INVALBUTTONMODE = 0x9000_000A,
    PHONEERR_INVALBUTTONSTATE = 0x9000_000B,
    PHONEERR_INVALDATAID = 0x9000_000C,
    PHONEERR_INVALDEVICECLASS = 0x9000_000D,
    PHONEERR_INVALEXTVERSION = 0x9000_000E,
    PHONEERR_INVALHOOKSWITCHDEV = 0x9000_000F,
    PHONEERR_INVALHOOKSWITCHMODE = 0x9000_0010,
    PHONEERR_INVALLAMPMODE = 0x9000_0011,
    PHONEERR_INVALPARAM = 0x9000_0012,
    PHONEERR_INVALPHONEHANDLE = 0x9000_0013,
    PHONEERR_INVALPHONESTATE = 0x9000_0014,
    PHONEERR_INVALPOINTER = 0x9000_0015,
    PHONEERR_INVALPRIVILEGE = 0x9000_0016,
    PHONEERR_INVALRINGMODE = 0x9000_0017,
    PHONEERR_NODEVICE = 0x9000_0018,
    PHONEERR_NODRIVER = 0x9000_0019,
    PHONEERR_NOMEM = 0x9000_001A,
    PHONEERR_NOTOWNER = 0x9000_001B,
    PHONEERR_OPERATIONFAILED = 0x9000_001C,
    PHONEERR_OPERATIONUNAVAIL = 0x9000_001D,
    PHONEERR_RESOURCEUNAVAIL = 0x9000_001F,
    PHONEERR_REQUESTOVERRUN = 0x9000_0020,
    PHONEERR_STRUCTURETOOSMALL = 0x9000_0021,
    PHONEERR_UNINITIALIZED = 0x9000_0022,
    PHONEERR_REINIT = 0x9000_0023,
    PHONEERR_DISCONNECTED = 0x9000_0024,
    PHONEERR_SERVICE_NOT_RUNNING = 0x9000_0025,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes() {
        assert_eq!(PHONEERR_NOTOWNER.name(), "PHONEERR_NOTOWNER");
        assert_eq!(PHONEERR_NOTOWNER.code(), 0x9000_001Bu32 as i32);
        assert!(PHONEERR_NOTOWNER.code() < 0);
        assert_eq!(PhoneErr(0x9000_001E).name(), "PHONEERR_0x9000001E");
        assert_eq!(
            TapiErr::from(crate::tapi::LINEERR_NOTOWNER).name(),
            "LINEERR_NOTOWNER"
        );
    }
}
