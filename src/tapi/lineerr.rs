//! TAPI 2.x constants with Microsoft's names and values (tapi.h; see ../shared/reference/tapi.md §5).
//!
//! Names are kept exactly as applications know them (`LINEERR_INVALLINEHANDLE`,
//! `LINECALLSTATE_OFFERING`, ...). LINEERR_ codes are carried as [`LineErr`], whose wire form is
//! the 0x8000xxxx value read as a signed 32-bit integer.

use std::fmt;

/// A LINEERR_ code. `code()` gives the value apps see on the wire (negative i32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineErr(pub u32);

impl LineErr {
    /// The code as TAPI's LONG return value (always negative).
    pub fn code(self) -> i32 {
        self.0 as i32
    }

    /// The LINEERR_ for a wire value, when it is one.
    pub fn from_code(code: i32) -> Option<LineErr> {
        let e = LineErr(code as u32);
        e.lookup().map(|_| e)
    }

    /// `LINEERR_<NAME>`, or `LINEERR_0x...` for a value TAPI does not define.
    pub fn name(self) -> String {
        match self.lookup() {
            Some(n) => format!("LINEERR_{n}"),
            None => format!("LINEERR_{:#010X}", self.0),
        }
    }

    fn lookup(self) -> Option<&'static str> {
        LINEERR_NAMES
            .iter()
            .find(|(v, _)| *v == self.0)
            .map(|(_, n)| *n)
    }
}

impl fmt::Display for LineErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::error::Error for LineErr {}

pub const LINEERR_ALLOCATED: LineErr = LineErr(0x8000_0001);
pub const LINEERR_BADDEVICEID: LineErr = LineErr(0x8000_0002);
pub const LINEERR_BEARERMODEUNAVAIL: LineErr = LineErr(0x8000_0003);
pub const LINEERR_CALLUNAVAIL: LineErr = LineErr(0x8000_0005);
pub const LINEERR_COMPLETIONOVERRUN: LineErr = LineErr(0x8000_0006);
pub const LINEERR_CONFERENCEFULL: LineErr = LineErr(0x8000_0007);
pub const LINEERR_DIALBILLING: LineErr = LineErr(0x8000_0008);
pub const LINEERR_DIALDIALTONE: LineErr = LineErr(0x8000_0009);
pub const LINEERR_DIALPROMPT: LineErr = LineErr(0x8000_000A);
pub const LINEERR_DIALQUIET: LineErr = LineErr(0x8000_000B);
pub const LINEERR_INCOMPATIBLEAPIVERSION: LineErr = LineErr(0x8000_000C);
pub const LINEERR_INCOMPATIBLEEXTVERSION: LineErr = LineErr(0x8000_000D);
pub const LINEERR_INIFILECORRUPT: LineErr = LineErr(0x8000_000E);
pub const LINEERR_INUSE: LineErr = LineErr(0x8000_000F);
pub const LINEERR_INVALADDRESS: LineErr = LineErr(0x8000_0010);
pub const LINEERR_INVALADDRESSID: LineErr = LineErr(0x8000_0011);
pub const LINEERR_INVALADDRESSMODE: LineErr = LineErr(0x8000_0012);
pub const LINEERR_INVALADDRESSSTATE: LineErr = LineErr(0x8000_0013);
pub const LINEERR_INVALAPPHANDLE: LineErr = LineErr(0x8000_0014);
pub const LINEERR_INVALAPPNAME: LineErr = LineErr(0x8000_0015);
pub const LINEERR_INVALBEARERMODE: LineErr = LineErr(0x8000_0016);
pub const LINEERR_INVALCALLCOMPLMODE: LineErr = LineErr(0x8000_0017);
pub const LINEERR_INVALCALLHANDLE: LineErr = LineErr(0x8000_0018);
pub const LINEERR_INVALCALLPARAMS: LineErr = LineErr(0x8000_0019);
pub const LINEERR_INVALCALLPRIVILEGE: LineErr = LineErr(0x8000_001A);
pub const LINEERR_INVALCALLSELECT: LineErr = LineErr(0x8000_001B);
pub const LINEERR_INVALCALLSTATE: LineErr = LineErr(0x8000_001C);
pub const LINEERR_INVALCALLSTATELIST: LineErr = LineErr(0x8000_001D);
pub const LINEERR_INVALCARD: LineErr = LineErr(0x8000_001E);
pub const LINEERR_INVALCOMPLETIONID: LineErr = LineErr(0x8000_001F);
pub const LINEERR_INVALCONFCALLHANDLE: LineErr = LineErr(0x8000_0020);
pub const LINEERR_INVALCONSULTCALLHANDLE: LineErr = LineErr(0x8000_0021);
pub const LINEERR_INVALCOUNTRYCODE: LineErr = LineErr(0x8000_0022);
pub const LINEERR_INVALDEVICECLASS: LineErr = LineErr(0x8000_0023);
pub const LINEERR_INVALDEVICEHANDLE: LineErr = LineErr(0x8000_0024);
pub const LINEERR_INVALDIALPARAMS: LineErr = LineErr(0x8000_0025);
pub const LINEERR_INVALDIGITLIST: LineErr = LineErr(0x8000_0026);
pub const LINEERR_INVALDIGITMODE: LineErr = LineErr(0x8000_0027);
pub const LINEERR_INVALDIGITS: LineErr = LineErr(0x8000_0028);
pub const LINEERR_INVALEXTVERSION: LineErr = LineErr(0x8000_0029);
pub const LINEERR_INVALGROUPID: LineErr = LineErr(0x8000_002A);
pub const LINEERR_INVALLINEHANDLE: LineErr = LineErr(0x8000_002B);
pub const LINEERR_INVALLINESTATE: LineErr = LineErr(0x8000_002C);
pub const LINEERR_INVALLOCATION: LineErr = LineErr(0x8000_002D);
pub const LINEERR_INVALMEDIALIST: LineErr = LineErr(0x8000_002E);
pub const LINEERR_INVALMEDIAMODE: LineErr = LineErr(0x8000_002F);
pub const LINEERR_INVALMESSAGEID: LineErr = LineErr(0x8000_0030);
pub const LINEERR_INVALPARAM: LineErr = LineErr(0x8000_0032);
pub const LINEERR_INVALPARKID: LineErr = LineErr(0x8000_0033);
pub const LINEERR_INVALPARKMODE: LineErr = LineErr(0x8000_0034);
pub const LINEERR_INVALPOINTER: LineErr = LineErr(0x8000_0035);
pub const LINEERR_INVALPRIVSELECT: LineErr = LineErr(0x8000_0036);
pub const LINEERR_INVALRATE: LineErr = LineErr(0x8000_0037);
pub const LINEERR_INVALREQUESTMODE: LineErr = LineErr(0x8000_0038);
pub const LINEERR_INVALTERMINALID: LineErr = LineErr(0x8000_0039);
pub const LINEERR_INVALTERMINALMODE: LineErr = LineErr(0x8000_003A);
pub const LINEERR_INVALTIMEOUT: LineErr = LineErr(0x8000_003B);
pub const LINEERR_INVALTONE: LineErr = LineErr(0x8000_003C);
pub const LINEERR_INVALTONELIST: LineErr = LineErr(0x8000_003D);
pub const LINEERR_INVALTONEMODE: LineErr = LineErr(0x8000_003E);
pub const LINEERR_INVALTRANSFERMODE: LineErr = LineErr(0x8000_003F);
pub const LINEERR_LINEMAPPERFAILED: LineErr = LineErr(0x8000_0040);
pub const LINEERR_NOCONFERENCE: LineErr = LineErr(0x8000_0041);
pub const LINEERR_NODEVICE: LineErr = LineErr(0x8000_0042);
pub const LINEERR_NODRIVER: LineErr = LineErr(0x8000_0043);
pub const LINEERR_NOMEM: LineErr = LineErr(0x8000_0044);
pub const LINEERR_NOREQUEST: LineErr = LineErr(0x8000_0045);
pub const LINEERR_NOTOWNER: LineErr = LineErr(0x8000_0046);
pub const LINEERR_NOTREGISTERED: LineErr = LineErr(0x8000_0047);
pub const LINEERR_OPERATIONFAILED: LineErr = LineErr(0x8000_0048);
pub const LINEERR_OPERATIONUNAVAIL: LineErr = LineErr(0x8000_0049);
pub const LINEERR_RATEUNAVAIL: LineErr = LineErr(0x8000_004A);
pub const LINEERR_RESOURCEUNAVAIL: LineErr = LineErr(0x8000_004B);
pub const LINEERR_REQUESTOVERRUN: LineErr = LineErr(0x8000_004C);
pub const LINEERR_STRUCTURETOOSMALL: LineErr = LineErr(0x8000_004D);
pub const LINEERR_TARGETNOTFOUND: LineErr = LineErr(0x8000_004E);
pub const LINEERR_TARGETSELF: LineErr = LineErr(0x8000_004F);
pub const LINEERR_UNINITIALIZED: LineErr = LineErr(0x8000_0050);
pub const LINEERR_USERUSERINFOTOOBIG: LineErr = LineErr(0x8000_0051);
pub const LINEERR_REINIT: LineErr = LineErr(0x8000_0052);
pub const LINEERR_ADDRESSBLOCKED: LineErr = LineErr(0x8000_0053);
pub const LINEERR_BILLINGREJECTED: LineErr = LineErr(0x8000_0054);
pub const LINEERR_INVALFEATURE: LineErr = LineErr(0x8000_0055);
pub const LINEERR_NOMULTIPLEINSTANCE: LineErr = LineErr(0x8000_0056);
pub const LINEERR_INVALAGENTID: LineErr = LineErr(0x8000_0057);
pub const LINEERR_INVALAGENTGROUP: LineErr = LineErr(0x8000_0058);
pub const LINEERR_INVALPASSWORD: LineErr = LineErr(0x8000_0059);
pub const LINEERR_INVALAGENTSTATE: LineErr = LineErr(0x8000_005A);
pub const LINEERR_INVALAGENTACTIVITY: LineErr = LineErr(0x8000_005B);
pub const LINEERR_DIALVOICEDETECT: LineErr = LineErr(0x8000_005C);
pub const LINEERR_USERCANCELLED: LineErr = LineErr(0x8000_005D);
pub const LINEERR_INVALADDRESSTYPE: LineErr = LineErr(0x8000_005E);
pub const LINEERR_INVALAGENTSESSIONSTATE: LineErr = LineErr(0x8000_005F);
pub const LINEERR_DISCONNECTED: LineErr = LineErr(0x8000_0060);
pub const LINEERR_SERVICE_NOT_RUNNING: LineErr = LineErr(0x8000_0061);

/// Every defined LINEERR_ value with its name (without the prefix); 0x8000_0004 and 0x8000_0031 are gaps.
const LINEERR_NAMES: &[(u32, &str)] = &[
    (0x8000_0001, "ALLOCATED"),
    (0x8000_0002, "BADDEVICEID"),
    (0x8000_0003, "BEARERMODEUNAVAIL"),
    (0x8000_0005, "CALLUNAVAIL"),
    (0x8000_0006, "COMPLETIONOVERRUN"),
    (0x8000_0007, "CONFERENCEFULL"),
    (0x8000_0008, "DIALBILLING"),
    (0x8000_0009, "DIALDIALTONE"),
    (0x8000_000A, "DIALPROMPT"),
    (0x8000_000B, "DIALQUIET"),
    (0x8000_000C, "INCOMPATIBLEAPIVERSION"),
    (0x8000_000D, "INCOMPATIBLEEXTVERSION"),
    (0x8000_000E, "INIFILECORRUPT"),
    (0x8000_000F, "INUSE"),
    (0x8000_0010, "INVALADDRESS"),
    (0x8000_0011, "INVALADDRESSID"),
    (0x8000_0012, "INVALADDRESSMODE"),
    (0x8000_0013, "INVALADDRESSSTATE"),
    (0x8000_0014, "INVALAPPHANDLE"),
    (0x8000_0015, "INVALAPPNAME"),
    (0x8000_0016, "INVALBEARERMODE"),
    (0x8000_0017, "INVALCALLCOMPLMODE"),
    (0x8000_0018, "INVALCALLHANDLE"),
    (0x8000_0019, "INVALCALLPARAMS"),
    (0x8000_001A, "INVALCALLPRIVILEGE"),
    (0x8000_001B, "INVALCALLSELECT"),
    (0x8000_001C, "INVALCALLSTATE"),
    (0x8000_001D, "INVALCALLSTATELIST"),
    (0x8000_001E, "INVALCARD"),
    (0x8000_001F, "INVALCOMPLETIONID"),
    (0x8000_0020, "INVALCONFCALLHANDLE"),
    (0x8000_0021, "INVALCONSULTCALLHANDLE"),
    (0x8000_0022, "INVALCOUNTRYCODE"),
    (0x8000_0023, "INVALDEVICECLASS"),
    (0x8000_0024, "INVALDEVICEHANDLE"),
    (0x8000_0025, "INVALDIALPARAMS"),
    (0x8000_0026, "INVALDIGITLIST"),
    (0x8000_0027, "INVALDIGITMODE"),
    (0x8000_0028, "INVALDIGITS"),
    (0x8000_0029, "INVALEXTVERSION"),
    (0x8000_002A, "INVALGROUPID"),
    (0x8000_002B, "INVALLINEHANDLE"),
    (0x8000_002C, "INVALLINESTATE"),
    (0x8000_002D, "INVALLOCATION"),
    (0x8000_002E, "INVALMEDIALIST"),
    (0x8000_002F, "INVALMEDIAMODE"),
    (0x8000_0030, "INVALMESSAGEID"),
    (0x8000_0032, "INVALPARAM"),
    (0x8000_0033, "INVALPARKID"),
    (0x8000_0034, "INVALPARKMODE"),
    (0x8000_0035, "INVALPOINTER"),
    (0x8000_0036, "INVALPRIVSELECT"),
    (0x8000_0037, "INVALRATE"),
    (0x8000_0038, "INVALREQUESTMODE"),
    (0x8000_0039, "INVALTERMINALID"),
    (0x8000_003A, "INVALTERMINALMODE"),
    (0x8000_003B, "INVALTIMEOUT"),
    (0x8000_003C, "INVALTONE"),
    (0x8000_003D, "INVALTONELIST"),
    (0x8000_003E, "INVALTONEMODE"),
    (0x8000_003F, "INVALTRANSFERMODE"),
    (0x8000_0040, "LINEMAPPERFAILED"),
    (0x8000_0041, "NOCONFERENCE"),
    (0x8000_0042, "NODEVICE"),
    (0x8000_0043, "NODRIVER"),
    (0x8000_0044, "NOMEM"),
    (0x8000_0045, "NOREQUEST"),
    (0x8000_0046, "NOTOWNER"),
    (0x8000_0047, "NOTREGISTERED"),
    (0x8000_0048, "OPERATIONFAILED"),
    (0x8000_0049, "OPERATIONUNAVAIL"),
    (0x8000_004A, "RATEUNAVAIL"),
    (0x8000_004B, "RESOURCEUNAVAIL"),
    (0x8000_004C, "REQUESTOVERRUN"),
    (0x8000_004D, "STRUCTURETOOSMALL"),
    (0x8000_004E, "TARGETNOTFOUND"),
    (0x8000_004F, "TARGETSELF"),
    (0x8000_0050, "UNINITIALIZED"),
    (0x8000_0051, "USERUSERINFOTOOBIG"),
    (0x8000_0052, "REINIT"),
    (0x8000_0053, "ADDRESSBLOCKED"),
    (0x8000_0054, "BILLINGREJECTED"),
    (0x8000_0055, "INVALFEATURE"),
    (0x8000_0056, "NOMULTIPLEINSTANCE"),
    (0x8000_0057, "INVALAGENTID"),
    (0x8000_0058, "INVALAGENTGROUP"),
    (0x8000_0059, "INVALPASSWORD"),
    (0x8000_005A, "INVALAGENTSTATE"),
    (0x8000_005B, "INVALAGENTACTIVITY"),
    (0x8000_005C, "DIALVOICEDETECT"),
    (0x8000_005D, "USERCANCELLED"),
    (0x8000_005E, "INVALADDRESSTYPE"),
    (0x8000_005F, "INVALAGENTSESSIONSTATE"),
    (0x8000_0060, "DISCONNECTED"),
    (0x8000_0061, "SERVICE_NOT_RUNNING"),
];
