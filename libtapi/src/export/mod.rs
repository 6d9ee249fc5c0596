//! The exported C functions of `include/tapi.h`, grouped by what they act on, and the helpers
//! they share: the panic guard (no panic crosses the FFI boundary), pointer checks, routing a
//! handle to the app whose connection owns it, and reading results.
//!
//! Safety contract of every exported function: pointers are null or valid for what TAPI
//! documents (dwTotalSize bytes for variable-size structures, NUL-terminated strings).
#![allow(clippy::missing_safety_doc)]

pub mod call;
pub mod init;
pub mod line;
pub mod media;
pub mod phone;

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use serde_json::Value;

use crate::app::{App, Reply};
use crate::errors::{Err, Fail, Family};
use crate::registry;

/// What an exported function body returns: the LONG, or a LONG error.
pub type Ret = Result<i32, i32>;

/// Runs an exported function body; a panic becomes OPERATIONFAILED.
pub fn guard(family: Family, body: impl FnOnce() -> Ret) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) | Ok(Err(v)) => v,
        Err(_) => family.code(Err::OperationFailed),
    }
}

/// Fails with INVALPOINTER when `p` is null.
pub fn non_null<T>(family: Family, p: *const T) -> Result<(), i32> {
    if p.is_null() {
        Err(family.code(Err::InvalPointer))
    } else {
        Ok(())
    }
}

/// Writes `value` through an out-pointer checked non-null.
pub unsafe fn put<T>(p: *mut T, value: T) {
    std::ptr::write_unaligned(p, value);
}

/// A C string argument; `None` for a null pointer.
pub unsafe fn text(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    Some(CStr::from_ptr(p).to_string_lossy().into_owned())
}

/// A required C string argument.
pub unsafe fn required_text(family: Family, p: *const c_char) -> Result<String, i32> {
    text(p).ok_or(family.code(Err::InvalPointer))
}

/// A number in a result.
pub fn num(v: &Value, key: &str) -> u32 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0) as u32
}

/// Calls `method` on the first of `apps` that knows the handle (the registry lists the owner,
/// or every app when the handle was never seen); `invalid` is the "not my handle" error.
pub fn routed(
    family: Family,
    apps: Vec<Arc<App>>,
    invalid: i32,
    method: &str,
    params: Value,
) -> Result<(Arc<App>, Reply), i32> {
    for app in apps {
        match app.call(method, params.clone()) {
            Ok(reply) => return Ok((app, reply)),
            Err(Fail::Rpc { code, .. }) if code == i64::from(invalid) => continue,
            Err(fail) => return Err(fail.code(family)),
        }
    }
    Err(invalid)
}

/// A call on a line device handle.
pub fn on_line(h_line: u32, method: &str, params: Value) -> Result<(Arc<App>, Reply), i32> {
    let invalid = Family::Line.code(Err::InvalDeviceHandle);
    let apps = registry::for_device(Family::Line, h_line);
    routed(Family::Line, apps, invalid, method, params)
}

/// A call on a call handle.
pub fn on_call(h_call: u32, method: &str, params: Value) -> Result<(Arc<App>, Reply), i32> {
    let invalid = Family::Line.code(Err::InvalCallHandle);
    routed(
        Family::Line,
        registry::for_call(h_call),
        invalid,
        method,
        params,
    )
}

/// A call on a phone device handle.
pub fn on_phone(h_phone: u32, method: &str, params: Value) -> Result<(Arc<App>, Reply), i32> {
    let invalid = Family::Phone.code(Err::InvalDeviceHandle);
    let apps = registry::for_device(Family::Phone, h_phone);
    routed(Family::Phone, apps, invalid, method, params)
}

/// A call on an app handle (hLineApp / hPhoneApp).
pub fn on_app(
    family: Family,
    handle: u32,
    method: &str,
    params: Value,
) -> Result<(Arc<App>, Reply), i32> {
    let app = registry::app(family, handle).ok_or(family.code(Err::InvalAppHandle))?;
    let reply = app.call(method, params).map_err(|f| f.code(family))?;
    Ok((app, reply))
}

/// The device opened by lineOpen / phoneOpen (its `params` without callbackInstance).
pub struct Open<'a> {
    pub family: Family,
    pub app: u32,
    pub method: &'a str,
    pub params: Value,
    /// The app's DWORD_PTR; the gateway gets a 32-bit token that stands for it.
    pub instance: usize,
    /// "hLine" or "hPhone".
    pub handle_key: &'a str,
}

/// lineOpen / phoneOpen; writes the new handle through `out`.
pub unsafe fn open_device(open: Open<'_>, out: *mut u32) -> Ret {
    let family = open.family;
    non_null(family, out)?;
    let app = registry::app(family, open.app).ok_or(family.code(Err::InvalAppHandle))?;
    let token = app.instance_token(open.instance);
    let mut params = open.params;
    params["callbackInstance"] = serde_json::json!(token);
    let reply = app.call(open.method, params).map_err(|f| {
        app.forget_token(token);
        f.code(family)
    })?;
    let handle = num(&reply.value, open.handle_key);
    app.device_opened(handle, token);
    put(out, handle);
    Ok(0)
}

/// lineClose / phoneClose.
pub fn close_device(family: Family, handle: u32, method: &str, handle_key: &str) -> Ret {
    let params = serde_json::json!({ handle_key: handle });
    let invalid = family.code(Err::InvalDeviceHandle);
    let apps = registry::for_device(family, handle);
    let (app, _) = routed(family, apps, invalid, method, params)?;
    app.device_closed(handle);
    registry::forget_device(family, handle);
    Ok(0)
}

/// The result of an asynchronous function: its positive request ID.
pub fn request_id(family: Family, reply: &Reply) -> Ret {
    match reply.value.get("requestId").and_then(Value::as_u64) {
        Some(id) if id > 0 && id <= i32::MAX as u64 => Ok(id as i32),
        _ => Err(family.code(Err::OperationFailed)),
    }
}

/// Exports one body under several names (a function and its "A" twin).
macro_rules! export {
    (fn $name:ident $(, $more:ident)* ($($args:tt)*) => $body:expr) => {
        #[no_mangle]
        pub unsafe extern "C" fn $name($($args)*) -> i32 {
            $body
        }
        $crate::export::export!(fn $($more),* ($($args)*) => $body);
    };
    (fn ($($args:tt)*) => $body:expr) => {};
}
pub(crate) use export;
