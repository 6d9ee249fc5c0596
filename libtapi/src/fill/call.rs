//! Filling the call structures: LINECALLINFO (parties with their LINECALLPARTYID_ flags, the
//! SIP Call-ID as provider-specific data) and LINECALLSTATUS (with tStateEntryTime).

use serde_json::Value;

use crate::abi::off;
use crate::consts::*;

use super::{dword_or, dwords, fixed_by_version, start, text, TooSmall};
use crate::time::systemtime;

/// The address and name of one party and their LINECALLPARTYID_ flags.
struct Party<'a> {
    id: &'a str,
    name: &'a str,
}

impl Party<'_> {
    fn flags(&self) -> u32 {
        let mut f = 0;
        if !self.id.is_empty() {
            f |= LINECALLPARTYID_ADDRESS;
        }
        if !self.name.is_empty() {
            f |= LINECALLPARTYID_NAME;
        }
        if f == 0 {
            LINECALLPARTYID_UNKNOWN
        } else {
            f
        }
    }
}

/// (wire prefix, Flags, IDSize, IDOffset, IDNameSize, IDNameOffset) of LINECALLINFO's parties.
const PARTIES: [(&str, usize, usize, usize, usize, usize); 5] = [
    (
        "caller",
        off!(LINECALLINFO, dwCallerIDFlags),
        off!(LINECALLINFO, dwCallerIDSize),
        off!(LINECALLINFO, dwCallerIDOffset),
        off!(LINECALLINFO, dwCallerIDNameSize),
        off!(LINECALLINFO, dwCallerIDNameOffset),
    ),
    (
        "called",
        off!(LINECALLINFO, dwCalledIDFlags),
        off!(LINECALLINFO, dwCalledIDSize),
        off!(LINECALLINFO, dwCalledIDOffset),
        off!(LINECALLINFO, dwCalledIDNameSize),
        off!(LINECALLINFO, dwCalledIDNameOffset),
    ),
    (
        "connected",
        off!(LINECALLINFO, dwConnectedIDFlags),
        off!(LINECALLINFO, dwConnectedIDSize),
        off!(LINECALLINFO, dwConnectedIDOffset),
        off!(LINECALLINFO, dwConnectedIDNameSize),
        off!(LINECALLINFO, dwConnectedIDNameOffset),
    ),
    (
        "redirection",
        off!(LINECALLINFO, dwRedirectionIDFlags),
        off!(LINECALLINFO, dwRedirectionIDSize),
        off!(LINECALLINFO, dwRedirectionIDOffset),
        off!(LINECALLINFO, dwRedirectionIDNameSize),
        off!(LINECALLINFO, dwRedirectionIDNameOffset),
    ),
    (
        "redirecting",
        off!(LINECALLINFO, dwRedirectingIDFlags),
        off!(LINECALLINFO, dwRedirectingIDSize),
        off!(LINECALLINFO, dwRedirectingIDOffset),
        off!(LINECALLINFO, dwRedirectingIDNameSize),
        off!(LINECALLINFO, dwRedirectingIDNameOffset),
    ),
];

pub unsafe fn line_call_info(ptr: *mut u8, version: u32, v: &Value) -> Result<(), TooSmall> {
    let full = size_of::<crate::abi::LINECALLINFO>();
    let v20 = off!(LINECALLINFO, dwCallTreatment);
    let mut w = start(ptr, fixed_by_version(version, v20, full, full))?;
    dword_or(
        &mut w,
        v,
        "bearerMode",
        off!(LINECALLINFO, dwBearerMode),
        LINEBEARERMODE_VOICE,
    );
    dword_or(
        &mut w,
        v,
        "callStates",
        off!(LINECALLINFO, dwCallStates),
        LINECALLSTATE_ALL,
    );
    dwords(
        &mut w,
        v,
        &[
            ("hLine", off!(LINECALLINFO, hLine)),
            ("lineDeviceId", off!(LINECALLINFO, dwLineDeviceID)),
            ("addressId", off!(LINECALLINFO, dwAddressID)),
            ("rate", off!(LINECALLINFO, dwRate)),
            ("mediaMode", off!(LINECALLINFO, dwMediaMode)),
            ("appSpecific", off!(LINECALLINFO, dwAppSpecific)),
            ("callId", off!(LINECALLINFO, dwCallID)),
            ("relatedCallId", off!(LINECALLINFO, dwRelatedCallID)),
            ("callParamFlags", off!(LINECALLINFO, dwCallParamFlags)),
            ("monitorDigitModes", off!(LINECALLINFO, dwMonitorDigitModes)),
            ("monitorMediaModes", off!(LINECALLINFO, dwMonitorMediaModes)),
            ("origin", off!(LINECALLINFO, dwOrigin)),
            ("reason", off!(LINECALLINFO, dwReason)),
            ("completionId", off!(LINECALLINFO, dwCompletionID)),
            ("numOwners", off!(LINECALLINFO, dwNumOwners)),
            ("numMonitors", off!(LINECALLINFO, dwNumMonitors)),
            ("countryCode", off!(LINECALLINFO, dwCountryCode)),
            ("trunk", off!(LINECALLINFO, dwTrunk)),
            ("callTreatment", off!(LINECALLINFO, dwCallTreatment)),
        ],
    );
    for (prefix, flags, id_size, id_off, name_size, name_off) in PARTIES {
        let id_key = format!("{prefix}Id");
        let party = Party {
            id: text(v, &id_key),
            name: text(v, &format!("{prefix}IdName")),
        };
        dword_or(&mut w, v, &format!("{id_key}Flags"), flags, party.flags());
        w.string(id_size, id_off, party.id);
        w.string(name_size, name_off, party.name);
    }
    let strings = [
        (
            "appName",
            off!(LINECALLINFO, dwAppNameSize),
            off!(LINECALLINFO, dwAppNameOffset),
        ),
        (
            "displayableAddress",
            off!(LINECALLINFO, dwDisplayableAddressSize),
            off!(LINECALLINFO, dwDisplayableAddressOffset),
        ),
        (
            "calledParty",
            off!(LINECALLINFO, dwCalledPartySize),
            off!(LINECALLINFO, dwCalledPartyOffset),
        ),
        (
            "comment",
            off!(LINECALLINFO, dwCommentSize),
            off!(LINECALLINFO, dwCommentOffset),
        ),
        (
            "display",
            off!(LINECALLINFO, dwDisplaySize),
            off!(LINECALLINFO, dwDisplayOffset),
        ),
        // The SIP Call-ID, as provider-specific data.
        (
            "sipCallId",
            off!(LINECALLINFO, dwDevSpecificSize),
            off!(LINECALLINFO, dwDevSpecificOffset),
        ),
    ];
    for (key, size_at, offset_at) in strings {
        w.string(size_at, offset_at, text(v, key));
    }
    w.finish();
    Ok(())
}

pub unsafe fn line_call_status(
    ptr: *mut u8,
    version: u32,
    v: &Value,
    state_time: Option<std::time::SystemTime>,
) -> Result<(), TooSmall> {
    let full = size_of::<crate::abi::LINECALLSTATUS>();
    let v20 = off!(LINECALLSTATUS, dwCallFeatures2);
    let mut w = start(ptr, fixed_by_version(version, v20, full, full))?;
    dwords(
        &mut w,
        v,
        &[
            ("callState", off!(LINECALLSTATUS, dwCallState)),
            ("callStateMode", off!(LINECALLSTATUS, dwCallStateMode)),
            ("callPrivilege", off!(LINECALLSTATUS, dwCallPrivilege)),
            ("callFeatures", off!(LINECALLSTATUS, dwCallFeatures)),
            ("callFeatures2", off!(LINECALLSTATUS, dwCallFeatures2)),
        ],
    );
    w.finish();
    if let Some(t) = state_time {
        if fixed_by_version(version, v20, full, full) == full {
            let at = off!(LINECALLSTATUS, tStateEntryTime);
            let words = systemtime(t);
            let bytes: Vec<u8> = words.iter().flat_map(|x| x.to_le_bytes()).collect();
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.add(at), bytes.len());
        }
    }
    Ok(())
}
