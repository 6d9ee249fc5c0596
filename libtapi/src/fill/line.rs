//! Filling the line device structures: LINEDEVCAPS, LINEDEVSTATUS, LINEADDRESSCAPS,
//! LINEADDRESSSTATUS (with its LINEFORWARD entries), LINECALLLIST and the VARSTRING of lineGetID.

use serde_json::Value;

use crate::abi::off;
use crate::consts::*;

use super::{dword_or, dwords, fixed_by_version, num, start, text, TooSmall};
use super::{LINE_DEVICE_CLASSES, PROVIDER_INFO};
use crate::varsize::{Loc, VarWriter};

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
