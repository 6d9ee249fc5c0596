//! Typed TAPI values with Microsoft's names: call states with their mode detail, privileges,
//! and the bit sets of tapi.h (LINECALLFEATURE_, LINEDEVSTATE_, LINEADDRESSSTATE_,
//! LINECALLINFOSTATE_, LINEMEDIAMODE_). Each wraps the raw `u32` of [`super::consts`], so the
//! wire value is always exactly Microsoft's, while the code cannot mix a state with a mode or a
//! feature with a privilege.
//!
//! Flag sets read like tapi.h: `CallFeatures::HOLD | CallFeatures::DROP`,
//! `LineDevStates::RINGING`.

use std::ops::{BitAnd, BitOr, BitOrAssign};

use super::consts::*;
use super::ids::CallId;

/// A newtype over a TAPI bit set, with Microsoft's bit names as associated constants.
macro_rules! tapi_flags {
    ($(#[$doc:meta])* $name:ident { $($bit:ident = $raw:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub u32);

        impl $name {
            $(pub const $bit: $name = $name($raw);)*
            /// No bit set.
            pub const NONE: $name = $name(0);

            /// The raw tapi.h value.
            pub const fn bits(self) -> u32 {
                self.0
            }

            /// Every bit of `other` is set here.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Some bit of `other` is set here.
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }

            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                $name(self.0 | rhs.0)
            }
        }

        impl BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: $name) {
                self.0 |= rhs.0;
            }
        }

        impl BitAnd for $name {
            type Output = $name;
            fn bitand(self, rhs: $name) -> $name {
                $name(self.0 & rhs.0)
            }
        }
    };
}

/// A single TAPI value (one constant out of a set, not bits), with Microsoft's names.
macro_rules! tapi_value {
    ($(#[$doc:meta])* $name:ident { $($value:ident = $raw:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub u32);

        impl $name {
            $(pub const $value: $name = $name($raw);)*

            /// The raw tapi.h value.
            pub const fn bits(self) -> u32 {
                self.0
            }
        }
    };
}

tapi_flags!(
    /// LINECALLFEATURE_: the functions an app may call on a call now (lineGetCallStatus).
    CallFeatures {
        ACCEPT = LINECALLFEATURE_ACCEPT,
        ADDTOCONF = LINECALLFEATURE_ADDTOCONF,
        ANSWER = LINECALLFEATURE_ANSWER,
        BLINDTRANSFER = LINECALLFEATURE_BLINDTRANSFER,
        COMPLETETRANSF = LINECALLFEATURE_COMPLETETRANSF,
        DIAL = LINECALLFEATURE_DIAL,
        DROP = LINECALLFEATURE_DROP,
        GATHERDIGITS = LINECALLFEATURE_GATHERDIGITS,
        GENERATEDIGITS = LINECALLFEATURE_GENERATEDIGITS,
        GENERATETONE = LINECALLFEATURE_GENERATETONE,
        HOLD = LINECALLFEATURE_HOLD,
        MONITORDIGITS = LINECALLFEATURE_MONITORDIGITS,
        PREPAREADDCONF = LINECALLFEATURE_PREPAREADDCONF,
        REDIRECT = LINECALLFEATURE_REDIRECT,
        REMOVEFROMCONF = LINECALLFEATURE_REMOVEFROMCONF,
        SETUPCONF = LINECALLFEATURE_SETUPCONF,
        SETUPTRANSFER = LINECALLFEATURE_SETUPTRANSFER,
        SWAPHOLD = LINECALLFEATURE_SWAPHOLD,
        UNHOLD = LINECALLFEATURE_UNHOLD,
    }
);

tapi_flags!(
    /// LINEDEVSTATE_: line device states (LINE_LINEDEVSTATE, lineSetStatusMessages).
    LineDevStates {
        OTHER = LINEDEVSTATE_OTHER,
        RINGING = LINEDEVSTATE_RINGING,
        CONNECTED = LINEDEVSTATE_CONNECTED,
        DISCONNECTED = LINEDEVSTATE_DISCONNECTED,
        INSERVICE = LINEDEVSTATE_INSERVICE,
        OUTOFSERVICE = LINEDEVSTATE_OUTOFSERVICE,
        OPEN = LINEDEVSTATE_OPEN,
        CLOSE = LINEDEVSTATE_CLOSE,
        NUMCALLS = LINEDEVSTATE_NUMCALLS,
        REINIT = LINEDEVSTATE_REINIT,
        CAPSCHANGE = LINEDEVSTATE_CAPSCHANGE,
        CONFIGCHANGE = LINEDEVSTATE_CONFIGCHANGE,
        REMOVED = LINEDEVSTATE_REMOVED,
    }
);

tapi_flags!(
    /// LINEADDRESSSTATE_: address states (LINE_ADDRESSSTATE, lineSetStatusMessages).
    AddressStates {
        OTHER = LINEADDRESSSTATE_OTHER,
        INUSEZERO = LINEADDRESSSTATE_INUSEZERO,
        INUSEONE = LINEADDRESSSTATE_INUSEONE,
        INUSEMANY = LINEADDRESSSTATE_INUSEMANY,
        NUMCALLS = LINEADDRESSSTATE_NUMCALLS,
        FORWARD = LINEADDRESSSTATE_FORWARD,
        CAPSCHANGE = LINEADDRESSSTATE_CAPSCHANGE,
    }
);

tapi_flags!(
    /// LINECALLINFOSTATE_: which LINECALLINFO fields changed (LINE_CALLINFO dwParam1).
    CallInfoStates {
        OTHER = LINECALLINFOSTATE_OTHER,
        MEDIAMODE = LINECALLINFOSTATE_MEDIAMODE,
        CALLID = LINECALLINFOSTATE_CALLID,
        RELATEDCALLID = LINECALLINFOSTATE_RELATEDCALLID,
        ORIGIN = LINECALLINFOSTATE_ORIGIN,
        REASON = LINECALLINFOSTATE_REASON,
        NUMOWNERINCR = LINECALLINFOSTATE_NUMOWNERINCR,
        NUMOWNERDECR = LINECALLINFOSTATE_NUMOWNERDECR,
        NUMMONITORS = LINECALLINFOSTATE_NUMMONITORS,
        CALLERID = LINECALLINFOSTATE_CALLERID,
        CALLEDID = LINECALLINFOSTATE_CALLEDID,
        CONNECTEDID = LINECALLINFOSTATE_CONNECTEDID,
        REDIRECTIONID = LINECALLINFOSTATE_REDIRECTIONID,
        REDIRECTINGID = LINECALLINFOSTATE_REDIRECTINGID,
    }
);

tapi_flags!(
    /// LINEMEDIAMODE_: media modes of a call or of an open (lineOpen dwMediaModes).
    MediaModes {
        UNKNOWN = LINEMEDIAMODE_UNKNOWN,
        INTERACTIVEVOICE = LINEMEDIAMODE_INTERACTIVEVOICE,
        AUTOMATEDVOICE = LINEMEDIAMODE_AUTOMATEDVOICE,
    }
);

tapi_flags!(
    /// LINECALLPRIVILEGE_ bits as lineOpen takes them (NONE, or MONITOR and/or OWNER).
    LinePrivileges {
        NONE_ONLY = LINECALLPRIVILEGE_NONE,
        MONITOR = LINECALLPRIVILEGE_MONITOR,
        OWNER = LINECALLPRIVILEGE_OWNER,
    }
);

tapi_value!(
    /// LINEDISCONNECTMODE_: why a call went DISCONNECTED (LINE_CALLSTATE dwParam2).
    DisconnectMode {
        NORMAL = LINEDISCONNECTMODE_NORMAL,
        UNKNOWN = LINEDISCONNECTMODE_UNKNOWN,
        REJECT = LINEDISCONNECTMODE_REJECT,
        PICKUP = LINEDISCONNECTMODE_PICKUP,
        FORWARDED = LINEDISCONNECTMODE_FORWARDED,
        BUSY = LINEDISCONNECTMODE_BUSY,
        NOANSWER = LINEDISCONNECTMODE_NOANSWER,
        BADADDRESS = LINEDISCONNECTMODE_BADADDRESS,
        UNREACHABLE = LINEDISCONNECTMODE_UNREACHABLE,
        CONGESTION = LINEDISCONNECTMODE_CONGESTION,
        INCOMPATIBLE = LINEDISCONNECTMODE_INCOMPATIBLE,
        UNAVAIL = LINEDISCONNECTMODE_UNAVAIL,
        NODIALTONE = LINEDISCONNECTMODE_NODIALTONE,
        NUMBERCHANGED = LINEDISCONNECTMODE_NUMBERCHANGED,
        OUTOFORDER = LINEDISCONNECTMODE_OUTOFORDER,
        TEMPFAILURE = LINEDISCONNECTMODE_TEMPFAILURE,
        QOSUNAVAIL = LINEDISCONNECTMODE_QOSUNAVAIL,
        BLOCKED = LINEDISCONNECTMODE_BLOCKED,
        DONOTDISTURB = LINEDISCONNECTMODE_DONOTDISTURB,
        CANCELLED = LINEDISCONNECTMODE_CANCELLED,
    }
);

tapi_value!(
    /// LINECONNECTEDMODE_ (LINE_CALLSTATE(CONNECTED) dwParam2).
    ConnectedMode {
        ACTIVE = LINECONNECTEDMODE_ACTIVE,
        INACTIVE = LINECONNECTEDMODE_INACTIVE,
        ACTIVEHELD = LINECONNECTEDMODE_ACTIVEHELD,
        INACTIVEHELD = LINECONNECTEDMODE_INACTIVEHELD,
        CONFIRMED = LINECONNECTEDMODE_CONFIRMED,
    }
);

tapi_value!(
    /// LINEOFFERINGMODE_ (LINE_CALLSTATE(OFFERING) dwParam2).
    OfferingMode {
        ACTIVE = LINEOFFERINGMODE_ACTIVE,
        INACTIVE = LINEOFFERINGMODE_INACTIVE,
    }
);

tapi_value!(
    /// LINEDIALTONEMODE_ (LINE_CALLSTATE(DIALTONE) dwParam2).
    DialToneMode {
        NORMAL = LINEDIALTONEMODE_NORMAL,
        SPECIAL = LINEDIALTONEMODE_SPECIAL,
        INTERNAL = LINEDIALTONEMODE_INTERNAL,
        EXTERNAL = LINEDIALTONEMODE_EXTERNAL,
        UNKNOWN = LINEDIALTONEMODE_UNKNOWN,
        UNAVAIL = LINEDIALTONEMODE_UNAVAIL,
    }
);

tapi_value!(
    /// LINEBUSYMODE_ (LINE_CALLSTATE(BUSY) dwParam2).
    BusyMode {
        STATION = LINEBUSYMODE_STATION,
        TRUNK = LINEBUSYMODE_TRUNK,
        UNKNOWN = LINEBUSYMODE_UNKNOWN,
        UNAVAIL = LINEBUSYMODE_UNAVAIL,
    }
);

tapi_value!(
    /// LINECALLORIGIN_ (LINECALLINFO dwOrigin).
    CallOrigin {
        OUTBOUND = LINECALLORIGIN_OUTBOUND,
        INTERNAL = LINECALLORIGIN_INTERNAL,
        EXTERNAL = LINECALLORIGIN_EXTERNAL,
        UNKNOWN = LINECALLORIGIN_UNKNOWN,
        CONFERENCE = LINECALLORIGIN_CONFERENCE,
        INBOUND = LINECALLORIGIN_INBOUND,
    }
);

tapi_value!(
    /// LINECALLREASON_ (LINECALLINFO dwReason).
    CallReason {
        DIRECT = LINECALLREASON_DIRECT,
        FWDBUSY = LINECALLREASON_FWDBUSY,
        FWDNOANSWER = LINECALLREASON_FWDNOANSWER,
        FWDUNCOND = LINECALLREASON_FWDUNCOND,
        REDIRECT = LINECALLREASON_REDIRECT,
        TRANSFER = LINECALLREASON_TRANSFER,
        UNKNOWN = LINECALLREASON_UNKNOWN,
    }
);

impl Default for CallOrigin {
    fn default() -> Self {
        CallOrigin::UNKNOWN
    }
}

impl Default for CallReason {
    fn default() -> Self {
        CallReason::UNKNOWN
    }
}

/// The privilege of one handle to a call (LINECALLPRIVILEGE_MONITOR or _OWNER).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallPrivilege {
    Monitor,
    Owner,
}

impl CallPrivilege {
    pub const fn bits(self) -> u32 {
        match self {
            CallPrivilege::Monitor => LINECALLPRIVILEGE_MONITOR,
            CallPrivilege::Owner => LINECALLPRIVILEGE_OWNER,
        }
    }

    /// From a LINECALLPRIVILEGE_ value, when it is exactly MONITOR or OWNER.
    pub const fn from_bits(bits: u32) -> Option<CallPrivilege> {
        match bits {
            LINECALLPRIVILEGE_MONITOR => Some(CallPrivilege::Monitor),
            LINECALLPRIVILEGE_OWNER => Some(CallPrivilege::Owner),
            _ => None,
        }
    }
}

/// One LINECALLSTATE_ with the detail TAPI carries in LINE_CALLSTATE's dwParam2, so a state and
/// its mode cannot be swapped or mismatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    Idle,
    Offering(OfferingMode),
    Accepted,
    DialTone(DialToneMode),
    Dialing,
    Ringback,
    Busy(BusyMode),
    SpecialInfo,
    Connected(ConnectedMode),
    Proceeding,
    OnHold,
    /// A member of a conference; the provider's conference call, which TAPISRV turns into each
    /// app's own hConfCall in dwParam2.
    Conferenced(Option<CallId>),
    OnHoldPendConf,
    OnHoldPendTransfer,
    Disconnected(DisconnectMode),
    Unknown,
}

impl CallState {
    /// The LINECALLSTATE_ value (dwParam1).
    pub const fn bits(self) -> u32 {
        match self {
            CallState::Idle => LINECALLSTATE_IDLE,
            CallState::Offering(_) => LINECALLSTATE_OFFERING,
            CallState::Accepted => LINECALLSTATE_ACCEPTED,
            CallState::DialTone(_) => LINECALLSTATE_DIALTONE,
            CallState::Dialing => LINECALLSTATE_DIALING,
            CallState::Ringback => LINECALLSTATE_RINGBACK,
            CallState::Busy(_) => LINECALLSTATE_BUSY,
            CallState::SpecialInfo => LINECALLSTATE_SPECIALINFO,
            CallState::Connected(_) => LINECALLSTATE_CONNECTED,
            CallState::Proceeding => LINECALLSTATE_PROCEEDING,
            CallState::OnHold => LINECALLSTATE_ONHOLD,
            CallState::Conferenced(_) => LINECALLSTATE_CONFERENCED,
            CallState::OnHoldPendConf => LINECALLSTATE_ONHOLDPENDCONF,
            CallState::OnHoldPendTransfer => LINECALLSTATE_ONHOLDPENDTRANSFER,
            CallState::Disconnected(_) => LINECALLSTATE_DISCONNECTED,
            CallState::Unknown => LINECALLSTATE_UNKNOWN,
        }
    }

    /// The mode detail (dwParam2) for states whose detail is a constant; 0 otherwise.
    /// CONFERENCED carries a call handle, which only TAPISRV can name.
    pub const fn mode_bits(self) -> u32 {
        match self {
            CallState::Offering(m) => m.0,
            CallState::DialTone(m) => m.0,
            CallState::Busy(m) => m.0,
            CallState::Connected(m) => m.0,
            CallState::Disconnected(m) => m.0,
            _ => 0,
        }
    }

    pub const fn is_idle(self) -> bool {
        matches!(self, CallState::Idle)
    }

    /// From LINE_CALLSTATE's dwParam1 and dwParam2 (clients, tests); CONFERENCED's call handle
    /// cannot be named here and is left out.
    pub const fn from_raw(state: u32, mode: u32) -> Option<CallState> {
        Some(match state {
            LINECALLSTATE_IDLE => CallState::Idle,
            LINECALLSTATE_OFFERING => CallState::Offering(OfferingMode(mode)),
            LINECALLSTATE_ACCEPTED => CallState::Accepted,
            LINECALLSTATE_DIALTONE => CallState::DialTone(DialToneMode(mode)),
            LINECALLSTATE_DIALING => CallState::Dialing,
            LINECALLSTATE_RINGBACK => CallState::Ringback,
            LINECALLSTATE_BUSY => CallState::Busy(BusyMode(mode)),
            LINECALLSTATE_SPECIALINFO => CallState::SpecialInfo,
            LINECALLSTATE_CONNECTED => CallState::Connected(ConnectedMode(mode)),
            LINECALLSTATE_PROCEEDING => CallState::Proceeding,
            LINECALLSTATE_ONHOLD => CallState::OnHold,
            LINECALLSTATE_CONFERENCED => CallState::Conferenced(None),
            LINECALLSTATE_ONHOLDPENDCONF => CallState::OnHoldPendConf,
            LINECALLSTATE_ONHOLDPENDTRANSFER => CallState::OnHoldPendTransfer,
            LINECALLSTATE_DISCONNECTED => CallState::Disconnected(DisconnectMode(mode)),
            LINECALLSTATE_UNKNOWN => CallState::Unknown,
            _ => return None,
        })
    }
}

/// How an app receives its messages (lineInitializeEx `options`, tapi.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyMode {
    /// LINEINITIALIZEEXOPTION_USEHIDDENWINDOW: pushed as they happen.
    HiddenWindow,
    /// LINEINITIALIZEEXOPTION_USEEVENT: queued for lineGetMessage.
    Event,
    /// LINEINITIALIZEEXOPTION_USECOMPLETIONPORT: pushed with the completion key.
    CompletionPort,
}

impl NotifyMode {
    /// From lineInitializeEx `options` (the CALLHUBTRACKING flag is ignored).
    pub const fn from_options(options: u32) -> Option<NotifyMode> {
        match options & !LINEINITIALIZEEXOPTION_CALLHUBTRACKING {
            LINEINITIALIZEEXOPTION_USEHIDDENWINDOW => Some(NotifyMode::HiddenWindow),
            LINEINITIALIZEEXOPTION_USEEVENT => Some(NotifyMode::Event),
            LINEINITIALIZEEXOPTION_USECOMPLETIONPORT => Some(NotifyMode::CompletionPort),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_carry_their_own_mode() {
        let s = CallState::Disconnected(DisconnectMode::BUSY);
        assert_eq!(s.bits(), LINECALLSTATE_DISCONNECTED);
        assert_eq!(s.mode_bits(), LINEDISCONNECTMODE_BUSY);
        assert_eq!(
            CallState::Connected(ConnectedMode::INACTIVE).mode_bits(),
            LINECONNECTEDMODE_INACTIVE
        );
        assert_eq!(CallState::Idle.mode_bits(), 0);
        assert_eq!(CallState::Conferenced(Some(CallId(9))).mode_bits(), 0);
    }

    #[test]
    fn flags_combine_like_tapi_h() {
        let f = CallFeatures::HOLD | CallFeatures::DROP;
        assert_eq!(f.bits(), LINECALLFEATURE_HOLD | LINECALLFEATURE_DROP);
        assert!(f.contains(CallFeatures::DROP));
        assert!(!f.contains(CallFeatures::HOLD | CallFeatures::ANSWER));
        assert!(f.intersects(CallFeatures::HOLD | CallFeatures::ANSWER));
        assert!(CallFeatures::NONE.is_empty());
    }

    #[test]
    fn privileges_and_modes_from_the_wire() {
        assert_eq!(
            CallPrivilege::from_bits(LINECALLPRIVILEGE_OWNER),
            Some(CallPrivilege::Owner)
        );
        assert_eq!(CallPrivilege::from_bits(LINECALLPRIVILEGE_NONE), None);
        assert_eq!(NotifyMode::from_options(2), Some(NotifyMode::Event));
        assert_eq!(
            NotifyMode::from_options(0x8000_0001),
            Some(NotifyMode::HiddenWindow)
        );
        assert_eq!(NotifyMode::from_options(4), None);
    }
}
