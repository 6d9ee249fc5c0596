//! Call functions: making and clearing calls (lineMakeCall, lineDial, lineAccept, lineAnswer,
//! lineDrop, lineRedirect, lineDeallocateCall), their information (lineGetCallInfo,
//! lineGetCallStatus, lineSetCallPrivilege), hold, transfer and conference, and digits and
//! tones. User-user information and LINECALLPARAMS are accepted and ignored (SIP has no UUI).

use std::ffi::{c_char, c_void};

use serde_json::{json, Value};

use super::{
    export, guard, non_null, num, on_call, on_line, put, request_id, required_text, text, Ret,
};
use crate::abi::LINEGENERATETONE;
use crate::consts::LINETRANSFERMODE_CONFERENCE;
use crate::errors::{Err, Family};
use crate::fill::{self, TooSmall};
use crate::registry;
use crate::registry::GatherBuf;

const L: Family = Family::Line;

fn too_small(_: TooSmall) -> i32 {
    L.code(Err::StructureTooSmall)
}

/// An asynchronous function on one call with extra parameters: its request ID.
fn call_async(h_call: u32, method: &str, mut params: Value) -> Ret {
    params["hCall"] = json!(h_call);
    let (_, reply) = on_call(h_call, method, params)?;
    request_id(L, &reply)
}

/// A synchronous function on one call: 0.
fn call_sync(h_call: u32, method: &str, mut params: Value) -> Ret {
    params["hCall"] = json!(h_call);
    on_call(h_call, method, params)?;
    Ok(0)
}

/// Writes a new call handle of the result when the app gave a place for it.
unsafe fn put_call(p: *mut u32, v: &Value, key: &str) {
    if !p.is_null() {
        put(p, num(v, key));
    }
}

export! {
    fn lineMakeCall, lineMakeCallA(
        h_line: u32, lph_call: *mut u32, dest: *const c_char, _country: u32,
        _call_params: *const c_void,
    ) => guard(L, || {
        non_null(L, lph_call)?;
        let params = json!({"hLine": h_line, "destAddress": text(dest).unwrap_or_default()});
        let (_, reply) = on_line(h_line, "lineMakeCall", params)?;
        put(lph_call, num(&reply.value, "hCall"));
        request_id(L, &reply)
    })
}

export! {
    fn lineDial, lineDialA(h_call: u32, dest: *const c_char, _country: u32) => guard(L, || {
        let dest = required_text(L, dest)?;
        call_async(h_call, "lineDial", json!({"destAddress": dest}))
    })
}

export! {
    fn lineAccept(h_call: u32, _uui: *const c_char, _size: u32) =>
        guard(L, || call_async(h_call, "lineAccept", json!({})))
}

export! {
    fn lineAnswer(h_call: u32, _uui: *const c_char, _size: u32) =>
        guard(L, || call_async(h_call, "lineAnswer", json!({})))
}

export! {
    fn lineDrop(h_call: u32, _uui: *const c_char, _size: u32) =>
        guard(L, || call_async(h_call, "lineDrop", json!({})))
}

export! {
    fn lineRedirect, lineRedirectA(h_call: u32, dest: *const c_char, _country: u32) => guard(L, || {
        let dest = required_text(L, dest)?;
        call_async(h_call, "lineRedirect", json!({"destAddress": dest}))
    })
}

export! {
    fn lineDeallocateCall(h_call: u32) => guard(L, || {
        call_sync(h_call, "lineDeallocateCall", json!({}))?;
        registry::forget_call(h_call);
        Ok(0)
    })
}

export! {
    fn lineGetCallInfo, lineGetCallInfoA(h_call: u32, info: *mut u8) => guard(L, || {
        non_null(L, info)?;
        let (app, reply) = on_call(h_call, "lineGetCallInfo", json!({"hCall": h_call}))?;
        fill::line_call_info(info, app.api_version, &reply.value).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn lineGetCallStatus(h_call: u32, status: *mut u8) => guard(L, || {
        non_null(L, status)?;
        let (app, reply) = on_call(h_call, "lineGetCallStatus", json!({"hCall": h_call}))?;
        let since = registry::state_time(h_call);
        fill::line_call_status(status, app.api_version, &reply.value, since).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn lineSetCallPrivilege(h_call: u32, privilege: u32) =>
        guard(L, || call_sync(h_call, "lineSetCallPrivilege", json!({"callPrivilege": privilege})))
}

export! {
    fn lineHold(h_call: u32) => guard(L, || call_async(h_call, "lineHold", json!({})))
}

export! {
    fn lineUnhold(h_call: u32) => guard(L, || call_async(h_call, "lineUnhold", json!({})))
}

export! {
    fn lineSwapHold(h_active: u32, h_held: u32) => guard(L, || {
        let params = json!({"hActiveCall": h_active, "hHeldCall": h_held});
        let (_, reply) = on_call(h_active, "lineSwapHold", params)?;
        request_id(L, &reply)
    })
}

export! {
    fn lineBlindTransfer, lineBlindTransferA(h_call: u32, dest: *const c_char, _country: u32) => guard(L, || {
        let dest = required_text(L, dest)?;
        call_async(h_call, "lineBlindTransfer", json!({"destAddress": dest}))
    })
}

export! {
    fn lineSetupTransfer, lineSetupTransferA(
        h_call: u32, lph_consult_call: *mut u32, _call_params: *const c_void,
    ) => guard(L, || {
        non_null(L, lph_consult_call)?;
        let (_, reply) = on_call(h_call, "lineSetupTransfer", json!({"hCall": h_call}))?;
        put(lph_consult_call, num(&reply.value, "hConsultCall"));
        request_id(L, &reply)
    })
}

export! {
    fn lineCompleteTransfer(h_call: u32, h_consult: u32, lph_conf_call: *mut u32, mode: u32) => guard(L, || {
        // The conference call's handle has to go somewhere; other modes ignore the pointer.
        if mode == LINETRANSFERMODE_CONFERENCE {
            non_null(L, lph_conf_call)?;
        }
        let params = json!({"hCall": h_call, "hConsultCall": h_consult, "transferMode": mode});
        let (_, reply) = on_call(h_call, "lineCompleteTransfer", params)?;
        put_call(lph_conf_call, &reply.value, "hConfCall");
        request_id(L, &reply)
    })
}

export! {
    fn lineSetupConference, lineSetupConferenceA(
        h_call: u32, h_line: u32, lph_conf_call: *mut u32, lph_consult_call: *mut u32,
        num_parties: u32, _call_params: *const c_void,
    ) => guard(L, || {
        non_null(L, lph_conf_call)?;
        non_null(L, lph_consult_call)?;
        // The gateway builds a conference around a connected call only: no hCall (TAPI's
        // "conference from nothing" on hLine) is not served.
        if h_call == 0 {
            return Err(L.code(Err::OperationUnavail));
        }
        let params = json!({"hCall": h_call, "hLine": h_line, "numParties": num_parties});
        let (_, reply) = on_call(h_call, "lineSetupConference", params)?;
        put(lph_conf_call, num(&reply.value, "hConfCall"));
        put(lph_consult_call, num(&reply.value, "hConsultCall"));
        request_id(L, &reply)
    })
}

export! {
    fn lineAddToConference(h_conf_call: u32, h_consult_call: u32) => guard(L, || {
        let params = json!({"hConfCall": h_conf_call, "hAddCall": h_consult_call});
        let (_, reply) = on_call(h_conf_call, "lineAddToConference", params)?;
        request_id(L, &reply)
    })
}

export! {
    fn lineRemoveFromConference(h_call: u32) =>
        guard(L, || call_async(h_call, "lineRemoveFromConference", json!({})))
}

export! {
    fn linePrepareAddToConference, linePrepareAddToConferenceA(
        h_conf_call: u32, lph_consult_call: *mut u32, _call_params: *const c_void,
    ) => guard(L, || {
        non_null(L, lph_consult_call)?;
        let params = json!({"hConfCall": h_conf_call});
        let (_, reply) = on_call(h_conf_call, "linePrepareAddToConference", params)?;
        put(lph_consult_call, num(&reply.value, "hAddCall"));
        request_id(L, &reply)
    })
}

export! {
    fn lineGenerateDigits, lineGenerateDigitsA(
        h_call: u32, digit_mode: u32, digits: *const c_char, duration: u32,
    ) => guard(L, || {
        // A NULL string cancels, like an empty one on the wire.
        let params = json!({"digitMode": digit_mode, "digits": text(digits).unwrap_or_default(),
            "duration": duration});
        call_sync(h_call, "lineGenerateDigits", params)
    })
}

export! {
    fn lineGenerateTone(
        h_call: u32, tone_mode: u32, duration: u32, num_tones: u32, tones: *const LINEGENERATETONE,
    ) => guard(L, || {
        let mut params = json!({"toneMode": tone_mode, "duration": duration});
        if num_tones > 0 && !tones.is_null() {
            params["tones"] = json!(custom_tones(tones, num_tones));
        }
        call_sync(h_call, "lineGenerateTone", params)
    })
}

/// LINEGENERATETONE entries of a custom tone.
unsafe fn custom_tones(tones: *const LINEGENERATETONE, count: u32) -> Vec<Value> {
    (0..count as usize)
        .map(|i| {
            let t = std::ptr::read_unaligned(tones.add(i));
            let (frequency, on, off, volume) =
                (t.dwFrequency, t.dwCadenceOn, t.dwCadenceOff, t.dwVolume);
            json!({"frequency": frequency, "cadenceOn": on, "cadenceOff": off, "volume": volume})
        })
        .collect()
}

export! {
    fn lineMonitorDigits(h_call: u32, digit_modes: u32) =>
        guard(L, || call_sync(h_call, "lineMonitorDigits", json!({"digitModes": digit_modes})))
}

export! {
    fn lineGatherDigits, lineGatherDigitsA(
        h_call: u32, digit_modes: u32, digits: *mut c_char, num_digits: u32,
        term_digits: *const c_char, first_timeout: u32, inter_timeout: u32,
    ) => guard(L, || {
        // A NULL buffer (or no digits wanted) cancels the gathering in progress; no new gather
        // starts, so no buffer waits for a message.
        let cancel = digits.is_null() || num_digits == 0;
        let (modes, count) = if cancel { (0, 0) } else { (digit_modes, num_digits) };
        let params = json!({"digitModes": modes, "numDigits": count,
            "termDigits": text(term_digits).unwrap_or_default(),
            "firstTimeout": first_timeout, "interTimeout": inter_timeout});
        if cancel {
            return call_sync(h_call, "lineGatherDigits", params);
        }
        // Queued before the request: LINE_GATHERDIGITS may follow its answer at once, and the
        // CANCEL of a gather this one replaces comes first and takes the older buffer.
        registry::push_gather(h_call, GatherBuf { addr: digits as usize, len: num_digits as usize });
        call_sync(h_call, "lineGatherDigits", params).inspect_err(|_| registry::unpush_gather(h_call))
    })
}
