//! Line device functions: capabilities (lineGetDevCaps, lineGetAddressCaps), opening and
//! closing (lineOpen, lineClose), status (lineSetStatusMessages, lineGetLineDevStatus,
//! lineGetAddressStatus, lineGetAddressID), lineGetNewCalls, lineGetID and lineForward.

use std::ffi::{c_char, c_void};

use serde_json::{json, Value};

use super::{
    close_device, export, guard, non_null, num, on_app, on_call, on_line, open_device, put,
    request_id, text, Open, Ret,
};
use crate::abi::{off, LINEFORWARDLIST};
use crate::consts::*;
use crate::errors::{Err, Family};
use crate::fill::{self, TooSmall};

const L: Family = Family::Line;

fn too_small(_: TooSmall) -> i32 {
    L.code(Err::StructureTooSmall)
}

export! {
    fn lineGetDevCaps, lineGetDevCapsA(
        h_line_app: u32, device_id: u32, api_version: u32, _ext_version: u32, caps: *mut u8,
    ) => guard(L, || {
        non_null(L, caps)?;
        let params = json!({"hLineApp": h_line_app, "deviceId": device_id, "apiVersion": api_version});
        let (_, reply) = on_app(L, h_line_app, "lineGetDevCaps", params)?;
        fill::line_dev_caps(caps, api_version, &reply.value).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn lineGetAddressCaps, lineGetAddressCapsA(
        h_line_app: u32, device_id: u32, address_id: u32, api_version: u32, _ext_version: u32,
        caps: *mut u8,
    ) => guard(L, || {
        non_null(L, caps)?;
        let params = json!({"hLineApp": h_line_app, "deviceId": device_id,
            "addressId": address_id, "apiVersion": api_version});
        let (_, reply) = on_app(L, h_line_app, "lineGetAddressCaps", params)?;
        fill::line_address_caps(caps, api_version, device_id, &reply.value).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn lineOpen, lineOpenA(
        h_line_app: u32, device_id: u32, lph_line: *mut u32, api_version: u32,
        _ext_version: u32, callback_instance: usize, privileges: u32, media_modes: u32,
        _call_params: *const c_void,
    ) => guard(L, || {
        let params = json!({"hLineApp": h_line_app, "deviceId": device_id,
            "apiVersion": api_version, "privileges": privileges, "mediaModes": media_modes});
        let open = Open { family: L, app: h_line_app, method: "lineOpen", params,
            instance: callback_instance, handle_key: "hLine" };
        open_device(open, lph_line)
    })
}

export! {
    fn lineClose(h_line: u32) => guard(L, || close_device(L, h_line, "lineClose", "hLine"))
}

export! {
    fn lineSetStatusMessages(h_line: u32, line_states: u32, address_states: u32) => guard(L, || {
        let params = json!({"hLine": h_line, "lineStates": line_states, "addressStates": address_states});
        on_line(h_line, "lineSetStatusMessages", params)?;
        Ok(0)
    })
}

export! {
    fn lineGetLineDevStatus, lineGetLineDevStatusA(h_line: u32, status: *mut u8) => guard(L, || {
        non_null(L, status)?;
        let (app, reply) = on_line(h_line, "lineGetLineDevStatus", json!({"hLine": h_line}))?;
        fill::line_dev_status(status, app.api_version, &reply.value).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn lineGetAddressStatus, lineGetAddressStatusA(h_line: u32, address_id: u32, status: *mut u8) => guard(L, || {
        non_null(L, status)?;
        let params = json!({"hLine": h_line, "addressId": address_id});
        let (_, reply) = on_line(h_line, "lineGetAddressStatus", params)?;
        fill::line_address_status(status, &reply.value).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn lineGetAddressID, lineGetAddressIDA(
        h_line: u32, lpdw_address_id: *mut u32, address_mode: u32, address: *const c_char, size: u32,
    ) => guard(L, || {
        non_null(L, lpdw_address_id)?;
        non_null(L, address)?;
        let params = json!({"hLine": h_line, "addressMode": address_mode,
            "address": sized_text(address, size)});
        let (_, reply) = on_line(h_line, "lineGetAddressID", params)?;
        put(lpdw_address_id, num(&reply.value, "addressId"));
        Ok(0)
    })
}

/// `lpsAddress` of `dwSize` bytes, which need not be NUL-terminated.
unsafe fn sized_text(p: *const c_char, size: u32) -> String {
    let bytes = std::slice::from_raw_parts(p.cast::<u8>(), size as usize);
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

export! {
    fn lineGetNewCalls(h_line: u32, address_id: u32, select: u32, list: *mut u8) => guard(L, || {
        non_null(L, list)?;
        let params = json!({"hLine": h_line, "addressId": address_id, "select": select});
        let (_, reply) = on_line(h_line, "lineGetNewCalls", params)?;
        let calls: Vec<u32> = reply.value.get("hCalls").and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).map(|h| h as u32).collect())
            .unwrap_or_default();
        fill::line_call_list(list, &calls).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn lineGetID, lineGetIDA(
        h_line: u32, address_id: u32, h_call: u32, select: u32, device_id: *mut u8,
        device_class: *const c_char,
    ) => guard(L, || {
        non_null(L, device_id)?;
        non_null(L, device_class)?;
        let class = text(device_class).unwrap_or_default();
        let mut params = json!({"select": select, "deviceClass": class});
        let (_, reply) = if select == LINECALLSELECT_CALL {
            params["hCall"] = json!(h_call);
            on_call(h_call, "lineGetID", params)?
        } else {
            params["hLine"] = json!(h_line);
            params["addressId"] = json!(address_id);
            on_line(h_line, "lineGetID", params)?
        };
        fill::varstring_dword(device_id, num(&reply.value, "deviceId")).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn lineForward, lineForwardA(
        h_line: u32, all_addresses: u32, address_id: u32, forward_list: *const u8,
        num_rings_no_answer: u32, lph_consult_call: *mut u32, _call_params: *const c_void,
    ) => guard(L, || forward(h_line, all_addresses, address_id, forward_list, num_rings_no_answer, lph_consult_call))
}

unsafe fn forward(
    h_line: u32,
    all_addresses: u32,
    address_id: u32,
    list: *const u8,
    num_rings: u32,
    lph_consult_call: *mut u32,
) -> Ret {
    let entries = if list.is_null() {
        Vec::new()
    } else {
        forward_list(list)?
    };
    let params = json!({"hLine": h_line, "allAddresses": all_addresses != 0,
        "addressId": address_id, "forwardList": entries, "numRingsNoAnswer": num_rings});
    let (_, reply) = on_line(h_line, "lineForward", params)?;
    if !lph_consult_call.is_null() {
        put(lph_consult_call, num(&reply.value, "hConsultCall"));
    }
    request_id(L, &reply)
}

/// The entries of a LINEFORWARDLIST as `[{forwardMode, destAddress}]`.
unsafe fn forward_list(list: *const u8) -> Result<Vec<Value>, i32> {
    let read = |at: usize| std::ptr::read_unaligned(list.add(at) as *const u32) as usize;
    let total = read(off!(LINEFORWARDLIST, dwTotalSize));
    let count = read(off!(LINEFORWARDLIST, dwNumEntries));
    let entry = size_of::<crate::abi::LINEFORWARD>();
    let first = size_of::<LINEFORWARDLIST>();
    if total < first || count > (total - first) / entry {
        return Err(L.code(Err::StructureTooSmall));
    }
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let base = first + i * entry;
        let size = read(base + off!(LINEFORWARD, dwDestAddressSize));
        let offset = read(base + off!(LINEFORWARD, dwDestAddressOffset));
        if offset.saturating_add(size) > total {
            return Err(L.code(Err::InvalParam));
        }
        let dest = sized_text(list.add(offset).cast(), size as u32);
        entries.push(json!({"forwardMode": read(base), "destAddress": dest}));
    }
    Ok(entries)
}
