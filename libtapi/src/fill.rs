//! Filling each TAPI structure from a function's JSON result: which wire field goes to which
//! DWORD, which strings go to the variable part, what the fixed part is for the API version in
//! use, and the values the gateway implies without sending them (ASCII strings, voice bearer,
//! one address). Fields a result does not carry are left 0.

use serde_json::Value;

use crate::abi::off;
use crate::consts::*;
use crate::time::systemtime;
use crate::varsize::{Loc, VarWriter};

/// The structure was smaller than its fixed part.
#[derive(Debug, PartialEq, Eq)]
pub struct TooSmall;

/// What TAPI puts in dwProviderInfo.
const PROVIDER_INFO: &str = "tapigw";
/// LINEDEVCAPS/LINEADDRESSCAPS dwDeviceClasses: the classes lineGetID knows.
const LINE_DEVICE_CLASSES: &[u8] = b"tapi/line\0tapi/phone\0\0";
const PHONE_DEVICE_CLASSES: &[u8] = b"tapi/phone\0tapi/line\0\0";

fn num(v: &Value, key: &str) -> Option<u32> {
    v.get(key)
        .and_then(|x| x.as_u64().or_else(|| x.as_i64().map(|i| i as u64)))
        .map(|n| n as u32)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Copies every present `(wire key, DWORD offset)` pair.
fn dwords(w: &mut VarWriter, v: &Value, map: &[(&str, usize)]) {
    for (key, at) in map {
        if let Some(n) = num(v, key) {
            w.dword(*at, n);
        }
    }
}

/// `default` unless the result carries `key`.
fn dword_or(w: &mut VarWriter, v: &Value, key: &str, at: usize, default: u32) {
    w.dword(at, num(v, key).unwrap_or(default));
}

unsafe fn start(ptr: *mut u8, fixed: usize) -> Result<VarWriter, TooSmall> {
    VarWriter::start(ptr, fixed).map_err(|_| TooSmall)
}

/// The fixed part of a structure whose TAPI 2.0 and 2.2 fields start at `v20` and `v22`.
fn fixed_by_version(version: u32, v20: usize, v22: usize, full: usize) -> usize {
    if version < TAPI_VERSION_2_0 {
        v20
    } else if version < TAPI_VERSION_2_2 {
        v22
    } else {
        full
    }
}

/// # Safety
/// `ptr` is non-null and points at dwTotalSize writable bytes (for all fillers below).
pub unsafe fn line_dev_caps(ptr: *mut u8, version: u32, v: &Value) -> Result<(), TooSmall> {
    let fixed = fixed_by_version(
        version,
        off!(LINEDEVCAPS, dwSettableDevStatus),
        off!(LINEDEVCAPS, PermanentLineGuid),
        size_of::<crate::abi::LINEDEVCAPS>(),
    );
    let mut w = start(ptr, fixed)?;
    w.string(
        off!(LINEDEVCAPS, dwProviderInfoSize),
        off!(LINEDEVCAPS, dwProviderInfoOffset),
        PROVIDER_INFO,
    );
    w.string(
        off!(LINEDEVCAPS, dwSwitchInfoSize),
        off!(LINEDEVCAPS, dwSwitchInfoOffset),
        text(v, "address"),
    );
    w.string(
        off!(LINEDEVCAPS, dwLineNameSize),
        off!(LINEDEVCAPS, dwLineNameOffset),
        text(v, "lineName"),
    );
    w.dword(off!(LINEDEVCAPS, dwStringFormat), STRINGFORMAT_ASCII);
    dword_or(
        &mut w,
        v,
        "addressModes",
        off!(LINEDEVCAPS, dwAddressModes),
        LINEADDRESSMODE_ADDRESSID,
    );
    dword_or(
        &mut w,
        v,
        "numAddresses",
        off!(LINEDEVCAPS, dwNumAddresses),
        1,
    );
    dword_or(
        &mut w,
        v,
        "bearerModes",
        off!(LINEDEVCAPS, dwBearerModes),
        LINEBEARERMODE_VOICE,
    );
    dword_or(
        &mut w,
        v,
        "devCapFlags",
        off!(LINEDEVCAPS, dwDevCapFlags),
        LINEDEVCAPFLAGS_CLOSEDROP,
    );
    dword_or(&mut w, v, "ringModes", off!(LINEDEVCAPS, dwRingModes), 1);
    let states = LINEDEVSTATE_RINGING
        | LINEDEVSTATE_INSERVICE
        | LINEDEVSTATE_OUTOFSERVICE
        | LINEDEVSTATE_REINIT;
    dword_or(
        &mut w,
        v,
        "lineStates",
        off!(LINEDEVCAPS, dwLineStates),
        states,
    );
    dwords(
        &mut w,
        v,
        &[
            ("permanentLineId", off!(LINEDEVCAPS, dwPermanentLineID)),
            ("maxRate", off!(LINEDEVCAPS, dwMaxRate)),
            ("mediaModes", off!(LINEDEVCAPS, dwMediaModes)),
            ("generateToneModes", off!(LINEDEVCAPS, dwGenerateToneModes)),
            (
                "generateDigitModes",
                off!(LINEDEVCAPS, dwGenerateDigitModes),
            ),
            ("monitorDigitModes", off!(LINEDEVCAPS, dwMonitorDigitModes)),
            (
                "gatherDigitsMinTimeout",
                off!(LINEDEVCAPS, dwGatherDigitsMinTimeout),
            ),
            (
                "gatherDigitsMaxTimeout",
                off!(LINEDEVCAPS, dwGatherDigitsMaxTimeout),
            ),
            ("maxNumActiveCalls", off!(LINEDEVCAPS, dwMaxNumActiveCalls)),
            ("answerMode", off!(LINEDEVCAPS, dwAnswerMode)),
            ("lineFeatures", off!(LINEDEVCAPS, dwLineFeatures)),
            ("settableDevStatus", off!(LINEDEVCAPS, dwSettableDevStatus)),
        ],
    );
    w.bytes_at(
        Loc::Fixed(off!(LINEDEVCAPS, dwDeviceClassesSize)),
        Loc::Fixed(off!(LINEDEVCAPS, dwDeviceClassesOffset)),
        LINE_DEVICE_CLASSES.to_vec(),
    );
    w.finish();
    Ok(())
}

pub unsafe fn line_dev_status(ptr: *mut u8, version: u32, v: &Value) -> Result<(), TooSmall> {
    let full = size_of::<crate::abi::LINEDEVSTATUS>();
    let v20 = off!(LINEDEVSTATUS, dwAvailableMediaModes);
    let mut w = start(ptr, fixed_by_version(version, v20, full, full))?;
    dwords(
        &mut w,
        v,
        &[
            ("numOpens", off!(LINEDEVSTATUS, dwNumOpens)),
            ("openMediaModes", off!(LINEDEVSTATUS, dwOpenMediaModes)),
            ("numActiveCalls", off!(LINEDEVSTATUS, dwNumActiveCalls)),
            ("numOnHoldCalls", off!(LINEDEVSTATUS, dwNumOnHoldCalls)),
            (
                "numOnHoldPendCalls",
                off!(LINEDEVSTATUS, dwNumOnHoldPendCalls),
            ),
            ("lineFeatures", off!(LINEDEVSTATUS, dwLineFeatures)),
            (
                "numCallCompletions",
                off!(LINEDEVSTATUS, dwNumCallCompletions),
            ),
            ("ringMode", off!(LINEDEVSTATUS, dwRingMode)),
            ("signalLevel", off!(LINEDEVSTATUS, dwSignalLevel)),
            ("batteryLevel", off!(LINEDEVSTATUS, dwBatteryLevel)),
            ("roamMode", off!(LINEDEVSTATUS, dwRoamMode)),
            ("devStatusFlags", off!(LINEDEVSTATUS, dwDevStatusFlags)),
            (
                "availableMediaModes",
                off!(LINEDEVSTATUS, dwAvailableMediaModes),
            ),
        ],
    );
    w.finish();
    Ok(())
}

pub unsafe fn line_address_caps(
    ptr: *mut u8,
    version: u32,
    device_id: u32,
    v: &Value,
) -> Result<(), TooSmall> {
    let full = size_of::<crate::abi::LINEADDRESSCAPS>();
    let v20 = off!(LINEADDRESSCAPS, dwPredictiveAutoTransferStates);
    let mut w = start(ptr, fixed_by_version(version, v20, full, full))?;
    w.dword(off!(LINEADDRESSCAPS, dwLineDeviceID), device_id);
    w.string(
        off!(LINEADDRESSCAPS, dwAddressSize),
        off!(LINEADDRESSCAPS, dwAddressOffset),
        text(v, "address"),
    );
    dword_or(
        &mut w,
        v,
        "addressSharing",
        off!(LINEADDRESSCAPS, dwAddressSharing),
        LINEADDRESSSHARING_PRIVATE,
    );
    dwords(
        &mut w,
        v,
        &[
            ("addressStates", off!(LINEADDRESSCAPS, dwAddressStates)),
            ("callInfoStates", off!(LINEADDRESSCAPS, dwCallInfoStates)),
            ("callerIdFlags", off!(LINEADDRESSCAPS, dwCallerIDFlags)),
            ("calledIdFlags", off!(LINEADDRESSCAPS, dwCalledIDFlags)),
            (
                "connectedIdFlags",
                off!(LINEADDRESSCAPS, dwConnectedIDFlags),
            ),
            ("callStates", off!(LINEADDRESSCAPS, dwCallStates)),
            ("dialToneModes", off!(LINEADDRESSCAPS, dwDialToneModes)),
            ("busyModes", off!(LINEADDRESSCAPS, dwBusyModes)),
            ("specialInfo", off!(LINEADDRESSCAPS, dwSpecialInfo)),
            ("disconnectModes", off!(LINEADDRESSCAPS, dwDisconnectModes)),
            (
                "maxNumActiveCalls",
                off!(LINEADDRESSCAPS, dwMaxNumActiveCalls),
            ),
            (
                "maxNumOnHoldCalls",
                off!(LINEADDRESSCAPS, dwMaxNumOnHoldCalls),
            ),
            (
                "maxNumOnHoldPendingCalls",
                off!(LINEADDRESSCAPS, dwMaxNumOnHoldPendingCalls),
            ),
            (
                "maxNumConference",
                off!(LINEADDRESSCAPS, dwMaxNumConference),
            ),
            ("maxNumTransConf", off!(LINEADDRESSCAPS, dwMaxNumTransConf)),
            ("addrCapFlags", off!(LINEADDRESSCAPS, dwAddrCapFlags)),
            ("callFeatures", off!(LINEADDRESSCAPS, dwCallFeatures)),
            (
                "removeFromConfCaps",
                off!(LINEADDRESSCAPS, dwRemoveFromConfCaps),
            ),
            (
                "removeFromConfState",
                off!(LINEADDRESSCAPS, dwRemoveFromConfState),
            ),
            ("transferModes", off!(LINEADDRESSCAPS, dwTransferModes)),
            ("parkModes", off!(LINEADDRESSCAPS, dwParkModes)),
            ("forwardModes", off!(LINEADDRESSCAPS, dwForwardModes)),
            (
                "maxForwardEntries",
                off!(LINEADDRESSCAPS, dwMaxForwardEntries),
            ),
            (
                "maxSpecificEntries",
                off!(LINEADDRESSCAPS, dwMaxSpecificEntries),
            ),
            ("minFwdNumRings", off!(LINEADDRESSCAPS, dwMinFwdNumRings)),
            ("maxFwdNumRings", off!(LINEADDRESSCAPS, dwMaxFwdNumRings)),
            ("addressFeatures", off!(LINEADDRESSCAPS, dwAddressFeatures)),
            ("callFeatures2", off!(LINEADDRESSCAPS, dwCallFeatures2)),
            (
                "maxNoAnswerTimeout",
                off!(LINEADDRESSCAPS, dwMaxNoAnswerTimeout),
            ),
            ("connectedModes", off!(LINEADDRESSCAPS, dwConnectedModes)),
            ("offeringModes", off!(LINEADDRESSCAPS, dwOfferingModes)),
            (
                "availableMediaModes",
                off!(LINEADDRESSCAPS, dwAvailableMediaModes),
            ),
        ],
    );
    w.bytes_at(
        Loc::Fixed(off!(LINEADDRESSCAPS, dwDeviceClassesSize)),
        Loc::Fixed(off!(LINEADDRESSCAPS, dwDeviceClassesOffset)),
        LINE_DEVICE_CLASSES.to_vec(),
    );
    w.finish();
    Ok(())
}

pub unsafe fn line_address_status(ptr: *mut u8, v: &Value) -> Result<(), TooSmall> {
    let mut w = start(ptr, size_of::<crate::abi::LINEADDRESSSTATUS>())?;
    dwords(
        &mut w,
        v,
        &[
            ("numInUse", off!(LINEADDRESSSTATUS, dwNumInUse)),
            ("numActiveCalls", off!(LINEADDRESSSTATUS, dwNumActiveCalls)),
            ("numOnHoldCalls", off!(LINEADDRESSSTATUS, dwNumOnHoldCalls)),
            (
                "numOnHoldPendCalls",
                off!(LINEADDRESSSTATUS, dwNumOnHoldPendCalls),
            ),
            (
                "addressFeatures",
                off!(LINEADDRESSSTATUS, dwAddressFeatures),
            ),
            (
                "numRingsNoAnswer",
                off!(LINEADDRESSSTATUS, dwNumRingsNoAnswer),
            ),
        ],
    );
    let entries = v
        .get("forwardList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    forward_entries(&mut w, &entries);
    w.finish();
    Ok(())
}

/// LINEADDRESSSTATUS' array of LINEFORWARD, each pointing at its destination string.
fn forward_entries(w: &mut VarWriter, entries: &[Value]) {
    let entry_size = size_of::<crate::abi::LINEFORWARD>();
    w.dword(
        off!(LINEADDRESSSTATUS, dwForwardNumEntries),
        entries.len() as u32,
    );
    if entries.is_empty() {
        return;
    }
    let mut array = vec![0u8; entry_size * entries.len()];
    for (i, e) in entries.iter().enumerate() {
        let mode = num(e, "forwardMode").unwrap_or(0).to_le_bytes();
        array[i * entry_size..i * entry_size + 4].copy_from_slice(&mode);
    }
    let Some(item) = w.bytes_at(
        Loc::Fixed(off!(LINEADDRESSSTATUS, dwForwardSize)),
        Loc::Fixed(off!(LINEADDRESSSTATUS, dwForwardOffset)),
        array,
    ) else {
        return;
    };
    for (i, e) in entries.iter().enumerate() {
        let dest = text(e, "destAddress");
        if dest.is_empty() {
            continue;
        }
        let base = i * entry_size;
        let mut data = dest.as_bytes().to_vec();
        data.push(0);
        w.bytes_at(
            Loc::InItem {
                item,
                at: base + off!(LINEFORWARD, dwDestAddressSize),
            },
            Loc::InItem {
                item,
                at: base + off!(LINEFORWARD, dwDestAddressOffset),
            },
            data,
        );
    }
}

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

pub unsafe fn line_call_list(ptr: *mut u8, calls: &[u32]) -> Result<(), TooSmall> {
    let mut w = start(ptr, size_of::<crate::abi::LINECALLLIST>())?;
    w.dword(off!(LINECALLLIST, dwCallsNumEntries), calls.len() as u32);
    if !calls.is_empty() {
        let data = calls.iter().flat_map(|h| h.to_le_bytes()).collect();
        w.bytes_at(
            Loc::Fixed(off!(LINECALLLIST, dwCallsSize)),
            Loc::Fixed(off!(LINECALLLIST, dwCallsOffset)),
            data,
        );
    }
    w.finish();
    Ok(())
}

/// A VARSTRING holding a binary DWORD (a device ID, as lineGetID returns it).
pub unsafe fn varstring_dword(ptr: *mut u8, value: u32) -> Result<(), TooSmall> {
    let mut w = start(ptr, size_of::<crate::abi::VARSTRING>())?;
    w.dword(off!(VARSTRING, dwStringFormat), STRINGFORMAT_BINARY);
    w.bytes_at(
        Loc::Fixed(off!(VARSTRING, dwStringSize)),
        Loc::Fixed(off!(VARSTRING, dwStringOffset)),
        value.to_le_bytes().to_vec(),
    );
    w.finish();
    Ok(())
}

pub unsafe fn phone_caps(ptr: *mut u8, version: u32, v: &Value) -> Result<(), TooSmall> {
    let fixed = fixed_by_version(
        version,
        off!(PHONECAPS, dwDeviceClassesSize),
        off!(PHONECAPS, PermanentPhoneGuid),
        size_of::<crate::abi::PHONECAPS>(),
    );
    let mut w = start(ptr, fixed)?;
    w.string(
        off!(PHONECAPS, dwProviderInfoSize),
        off!(PHONECAPS, dwProviderInfoOffset),
        PROVIDER_INFO,
    );
    w.string(
        off!(PHONECAPS, dwPhoneNameSize),
        off!(PHONECAPS, dwPhoneNameOffset),
        text(v, "phoneName"),
    );
    w.dword(off!(PHONECAPS, dwStringFormat), STRINGFORMAT_ASCII);
    let modes = num(v, "hookSwitchModes").unwrap_or(0);
    dword_or(
        &mut w,
        v,
        "hookSwitchDevs",
        off!(PHONECAPS, dwHookSwitchDevs),
        PHONEHOOKSWITCHDEV_HANDSET,
    );
    w.dword(off!(PHONECAPS, dwHandsetHookSwitchModes), modes);
    dword_or(
        &mut w,
        v,
        "settableHookSwitchModes",
        off!(PHONECAPS, dwSettableHandsetHookSwitchModes),
        modes,
    );
    dword_or(
        &mut w,
        v,
        "monitoredHookSwitchModes",
        off!(PHONECAPS, dwMonitoredHandsetHookSwitchModes),
        modes,
    );
    dwords(
        &mut w,
        v,
        &[
            ("permanentPhoneId", off!(PHONECAPS, dwPermanentPhoneID)),
            ("phoneStates", off!(PHONECAPS, dwPhoneStates)),
            ("numRingModes", off!(PHONECAPS, dwNumRingModes)),
            ("phoneFeatures", off!(PHONECAPS, dwPhoneFeatures)),
        ],
    );
    w.bytes_at(
        Loc::Fixed(off!(PHONECAPS, dwDeviceClassesSize)),
        Loc::Fixed(off!(PHONECAPS, dwDeviceClassesOffset)),
        PHONE_DEVICE_CLASSES.to_vec(),
    );
    w.finish();
    Ok(())
}

pub unsafe fn phone_status(ptr: *mut u8, version: u32, v: &Value) -> Result<(), TooSmall> {
    let full = size_of::<crate::abi::PHONESTATUS>();
    let v20 = off!(PHONESTATUS, dwPhoneFeatures);
    let mut w = start(ptr, fixed_by_version(version, v20, full, full))?;
    dwords(
        &mut w,
        v,
        &[
            ("statusFlags", off!(PHONESTATUS, dwStatusFlags)),
            ("numOwners", off!(PHONESTATUS, dwNumOwners)),
            ("numMonitors", off!(PHONESTATUS, dwNumMonitors)),
            ("ringMode", off!(PHONESTATUS, dwRingMode)),
            ("ringVolume", off!(PHONESTATUS, dwRingVolume)),
            (
                "handsetHookSwitchMode",
                off!(PHONESTATUS, dwHandsetHookSwitchMode),
            ),
            ("handsetVolume", off!(PHONESTATUS, dwHandsetVolume)),
            ("handsetGain", off!(PHONESTATUS, dwHandsetGain)),
            ("phoneFeatures", off!(PHONESTATUS, dwPhoneFeatures)),
        ],
    );
    w.string(
        off!(PHONESTATUS, dwOwnerNameSize),
        off!(PHONESTATUS, dwOwnerNameOffset),
        text(v, "ownerName"),
    );
    w.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn buffer(total: usize) -> Vec<u8> {
        let mut b = vec![0xEEu8; total];
        b[..4].copy_from_slice(&(total as u32).to_le_bytes());
        b
    }

    fn at(b: &[u8], off: usize) -> u32 {
        u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
    }

    fn cstr(b: &[u8], size_at: usize, offset_at: usize) -> String {
        let (size, offset) = (at(b, size_at) as usize, at(b, offset_at) as usize);
        String::from_utf8(b[offset..offset + size - 1].to_vec()).unwrap()
    }

    #[test]
    fn call_info_two_passes() {
        let v = json!({"hLine":7,"callerId":"2000","callerIdName":"Alice","calledId":"1001",
            "origin":2,"numOwners":1,"sipCallId":"abc@h"});
        let fixed = size_of::<crate::abi::LINECALLINFO>();
        let mut small = buffer(fixed);
        unsafe { line_call_info(small.as_mut_ptr(), TAPI_VERSION_2_2, &v).unwrap() };
        let needed = at(&small, 4) as usize;
        assert!(needed > fixed);
        assert_eq!(at(&small, 8) as usize, fixed);
        assert_eq!(at(&small, off!(LINECALLINFO, dwCallerIDSize)), 0);
        assert_eq!(at(&small, off!(LINECALLINFO, hLine)), 7);
        let mut big = buffer(needed);
        unsafe { line_call_info(big.as_mut_ptr(), TAPI_VERSION_2_2, &v).unwrap() };
        assert_eq!(at(&big, 8) as usize, needed);
        let caller = (
            off!(LINECALLINFO, dwCallerIDSize),
            off!(LINECALLINFO, dwCallerIDOffset),
        );
        assert_eq!(cstr(&big, caller.0, caller.1), "2000");
        assert_eq!(
            at(&big, off!(LINECALLINFO, dwCallerIDFlags)),
            LINECALLPARTYID_ADDRESS | LINECALLPARTYID_NAME
        );
        assert_eq!(
            at(&big, off!(LINECALLINFO, dwConnectedIDFlags)),
            LINECALLPARTYID_UNKNOWN
        );
        let mut tiny = buffer(fixed - 1);
        assert_eq!(
            unsafe { line_call_info(tiny.as_mut_ptr(), TAPI_VERSION_2_2, &v) },
            Err(TooSmall)
        );
        let mut old = buffer(off!(LINECALLINFO, dwCallTreatment));
        unsafe { line_call_info(old.as_mut_ptr(), 0x0001_0004, &v).unwrap() };
    }

    #[test]
    fn forward_list_entries_point_at_their_strings() {
        let v = json!({"numInUse":1,"forwardList":[{"forwardMode":1,"destAddress":"2000"}]});
        let mut b = buffer(200);
        unsafe { line_address_status(b.as_mut_ptr(), &v).unwrap() };
        assert_eq!(at(&b, off!(LINEADDRESSSTATUS, dwForwardNumEntries)), 1);
        let entry = at(&b, off!(LINEADDRESSSTATUS, dwForwardOffset)) as usize;
        assert_eq!(at(&b, entry), 1);
        let dest = (
            entry + off!(LINEFORWARD, dwDestAddressSize),
            entry + off!(LINEFORWARD, dwDestAddressOffset),
        );
        assert_eq!(cstr(&b, dest.0, dest.1), "2000");
    }
}
