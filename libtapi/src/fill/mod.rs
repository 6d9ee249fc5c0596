//! Filling each TAPI structure from a function's JSON result: which wire field goes to which
//! DWORD, which strings go to the variable part, what the fixed part is for the API version in
//! use, and the values the gateway implies without sending them (ASCII strings, voice bearer,
//! one address). Fields a result does not carry are left 0.

mod call;
mod line;
mod phone;

pub use call::{line_call_info, line_call_status};
pub use line::{
    line_address_caps, line_address_status, line_call_list, line_dev_caps, line_dev_status,
    varstring_dword,
};
pub use phone::{phone_caps, phone_status};

use serde_json::Value;

use crate::consts::*;
use crate::varsize::VarWriter;

/// The structure was smaller than its fixed part.
#[derive(Debug, PartialEq, Eq)]
pub struct TooSmall;

/// What TAPI puts in dwProviderInfo.
pub(crate) const PROVIDER_INFO: &str = "tapigw";
/// LINEDEVCAPS/LINEADDRESSCAPS dwDeviceClasses: the classes lineGetID knows.
pub(crate) const LINE_DEVICE_CLASSES: &[u8] = b"tapi/line\0tapi/phone\0\0";
pub(crate) const PHONE_DEVICE_CLASSES: &[u8] = b"tapi/phone\0tapi/line\0\0";

pub(crate) fn num(v: &Value, key: &str) -> Option<u32> {
    v.get(key)
        .and_then(|x| x.as_u64().or_else(|| x.as_i64().map(|i| i as u64)))
        .map(|n| n as u32)
}

pub(crate) fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Copies every present `(wire key, DWORD offset)` pair.
pub(crate) fn dwords(w: &mut VarWriter, v: &Value, map: &[(&str, usize)]) {
    for (key, at) in map {
        if let Some(n) = num(v, key) {
            w.dword(*at, n);
        }
    }
}

/// `default` unless the result carries `key`.
pub(crate) fn dword_or(w: &mut VarWriter, v: &Value, key: &str, at: usize, default: u32) {
    w.dword(at, num(v, key).unwrap_or(default));
}

pub(crate) unsafe fn start(ptr: *mut u8, fixed: usize) -> Result<VarWriter, TooSmall> {
    VarWriter::start(ptr, fixed).map_err(|_| TooSmall)
}

/// The fixed part of a structure whose TAPI 2.0 and 2.2 fields start at `v20` and `v22`.
pub(crate) fn fixed_by_version(version: u32, v20: usize, v22: usize, full: usize) -> usize {
    if version < TAPI_VERSION_2_0 {
        v20
    } else if version < TAPI_VERSION_2_2 {
        v22
    } else {
        full
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::off;
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
