//! Filling the phone structures: PHONECAPS and PHONESTATUS.

use serde_json::Value;

use crate::abi::off;
use crate::consts::*;

use super::{dword_or, dwords, fixed_by_version, num, start, text, TooSmall};
use super::{PHONE_DEVICE_CLASSES, PROVIDER_INFO};
use crate::varsize::Loc;

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
