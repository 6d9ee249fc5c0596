//! Phone device functions (the gateway's handsets): phoneGetDevCaps, phoneOpen, phoneClose,
//! phoneSetStatusMessages, phoneGetHookSwitch, phoneGetStatus and phoneSetHookSwitch.

use serde_json::json;

use super::{
    close_device, export, guard, non_null, num, on_app, on_phone, open_device, put, request_id,
    Open,
};
use crate::errors::{Err, Family};
use crate::fill::{self, TooSmall};

const P: Family = Family::Phone;

fn too_small(_: TooSmall) -> i32 {
    P.code(Err::StructureTooSmall)
}

export! {
    fn phoneGetDevCaps, phoneGetDevCapsA(
        h_phone_app: u32, device_id: u32, api_version: u32, _ext_version: u32, caps: *mut u8,
    ) => guard(P, || {
        non_null(P, caps)?;
        let params = json!({"hPhoneApp": h_phone_app, "deviceId": device_id, "apiVersion": api_version});
        let (_, reply) = on_app(P, h_phone_app, "phoneGetDevCaps", params)?;
        fill::phone_caps(caps, api_version, &reply.value).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn phoneOpen(
        h_phone_app: u32, device_id: u32, lph_phone: *mut u32, api_version: u32,
        _ext_version: u32, callback_instance: usize, privilege: u32,
    ) => guard(P, || {
        let params = json!({"hPhoneApp": h_phone_app, "deviceId": device_id,
            "apiVersion": api_version, "privilege": privilege});
        let open = Open { family: P, app: h_phone_app, method: "phoneOpen", params,
            instance: callback_instance, handle_key: "hPhone" };
        open_device(open, lph_phone)
    })
}

export! {
    fn phoneClose(h_phone: u32) => guard(P, || close_device(P, h_phone, "phoneClose", "hPhone"))
}

export! {
    fn phoneSetStatusMessages(h_phone: u32, phone_states: u32, button_modes: u32, button_states: u32) => guard(P, || {
        let params = json!({"hPhone": h_phone, "phoneStates": phone_states,
            "buttonModes": button_modes, "buttonStates": button_states});
        on_phone(h_phone, "phoneSetStatusMessages", params)?;
        Ok(0)
    })
}

export! {
    fn phoneGetHookSwitch(h_phone: u32, lpdw_devs: *mut u32) => guard(P, || {
        non_null(P, lpdw_devs)?;
        let (_, reply) = on_phone(h_phone, "phoneGetHookSwitch", json!({"hPhone": h_phone}))?;
        put(lpdw_devs, num(&reply.value, "hookSwitchDevs"));
        Ok(0)
    })
}

export! {
    fn phoneGetStatus, phoneGetStatusA(h_phone: u32, status: *mut u8) => guard(P, || {
        non_null(P, status)?;
        let (app, reply) = on_phone(h_phone, "phoneGetStatus", json!({"hPhone": h_phone}))?;
        fill::phone_status(status, app.api_version, &reply.value).map_err(too_small)?;
        Ok(0)
    })
}

export! {
    fn phoneSetHookSwitch(h_phone: u32, devs: u32, mode: u32) => guard(P, || {
        let params = json!({"hPhone": h_phone, "hookSwitchDevs": devs, "hookSwitchMode": mode});
        let (_, reply) = on_phone(h_phone, "phoneSetHookSwitch", params)?;
        request_id(P, &reply)
    })
}
