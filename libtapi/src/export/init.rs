//! lineInitializeEx / phoneInitializeEx (connect, authenticate, initialise, start the reader
//! and, in callback mode, the callback thread), lineShutdown / phoneShutdown,
//! lineNegotiateAPIVersion / phoneNegotiateAPIVersion and lineGetMessage / phoneGetMessage.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{export, guard, non_null, num, on_app, put, text, Ret};
use crate::abi::{off, INITIALIZEEXPARAMS, MESSAGE};
use crate::app::{App, AppInit, Callback, Mode};
use crate::config::Settings;
use crate::consts::*;
use crate::errors::{Err, Fail, Family};
use crate::eventfd::EventFd;
use crate::registry;
use crate::session::run_reader;
use crate::wire::{Handshake, HandshakeError};

/// dwTimeout meaning "wait for ever".
const INFINITE: u32 = 0xFFFF_FFFF;

export! {
    fn lineInitializeExA(
        lph_line_app: *mut u32,
        _h_instance: *mut c_void,
        callback: Option<Callback>,
        app_name: *const c_char,
        lpdw_num_devs: *mut u32,
        lpdw_api_version: *mut u32,
        params: *mut INITIALIZEEXPARAMS,
    ) => guard(Family::Line, || {
        let out = Outs { handle: lph_line_app, num_devs: lpdw_num_devs, api_version: lpdw_api_version, params };
        initialize(Family::Line, callback, text(app_name), out)
    })
}

export! {
    fn phoneInitializeExA(
        lph_phone_app: *mut u32,
        _h_instance: *mut c_void,
        callback: Option<Callback>,
        app_name: *const c_char,
        lpdw_num_devs: *mut u32,
        lpdw_api_version: *mut u32,
        params: *mut INITIALIZEEXPARAMS,
    ) => guard(Family::Phone, || {
        let out = Outs { handle: lph_phone_app, num_devs: lpdw_num_devs, api_version: lpdw_api_version, params };
        initialize(Family::Phone, callback, text(app_name), out)
    })
}

export! {
    fn lineShutdown(h_line_app: u32) => guard(Family::Line, || shutdown(Family::Line, h_line_app))
}

export! {
    fn phoneShutdown(h_phone_app: u32) => guard(Family::Phone, || shutdown(Family::Phone, h_phone_app))
}

export! {
    fn lineNegotiateAPIVersion(
        h_line_app: u32, device_id: u32, low: u32, high: u32,
        lpdw_api_version: *mut u32, ext_id: *mut [u32; 4],
    ) => guard(Family::Line, || negotiate(Family::Line, h_line_app, device_id, (low, high), lpdw_api_version, ext_id))
}

export! {
    fn phoneNegotiateAPIVersion(
        h_phone_app: u32, device_id: u32, low: u32, high: u32,
        lpdw_api_version: *mut u32, ext_id: *mut [u32; 4],
    ) => guard(Family::Phone, || negotiate(Family::Phone, h_phone_app, device_id, (low, high), lpdw_api_version, ext_id))
}

export! {
    fn lineGetMessage(h_line_app: u32, message: *mut MESSAGE, timeout: u32) =>
        guard(Family::Line, || get_message(Family::Line, h_line_app, message, timeout))
}

export! {
    fn phoneGetMessage(h_phone_app: u32, message: *mut MESSAGE, timeout: u32) =>
        guard(Family::Phone, || get_message(Family::Phone, h_phone_app, message, timeout))
}

/// The out-parameters of lineInitializeEx.
struct Outs {
    handle: *mut u32,
    num_devs: *mut u32,
    api_version: *mut u32,
    params: *mut INITIALIZEEXPARAMS,
}

impl Family {
    fn init_method(self) -> &'static str {
        match self {
            Family::Line => "lineInitializeEx",
            Family::Phone => "phoneInitializeEx",
        }
    }

    fn app_key(self) -> &'static str {
        match self {
            Family::Line => "hLineApp",
            Family::Phone => "hPhoneApp",
        }
    }

    fn shutdown_method(self) -> &'static str {
        match self {
            Family::Line => "lineShutdown",
            Family::Phone => "phoneShutdown",
        }
    }
}

unsafe fn initialize(
    family: Family,
    callback: Option<Callback>,
    name: Option<String>,
    out: Outs,
) -> Ret {
    non_null(family, out.handle)?;
    non_null(family, out.num_devs)?;
    non_null(family, out.api_version)?;
    let mode = notification_mode(family, callback, out.params)?;
    let event = match mode {
        Mode::Event => Some(EventFd::new().map_err(|_| family.code(Err::NoMem))?),
        Mode::Callback(_) => None,
    };
    let settings = Settings::from_env();
    let version = std::ptr::read_unaligned(out.api_version);
    let mut hs = Handshake::open(&settings).map_err(|e| handshake_code(family, e))?;
    let mut params = json!({
        "appName": name.unwrap_or_else(program_name),
        "apiVersion": version,
        "options": LINEINITIALIZEEXOPTION_USEHIDDENWINDOW,
    });
    if settings.resume {
        params["resumable"] = json!(true);
    }
    let result = hs
        .request(family.init_method(), &params)
        .map_err(|e| handshake_code(family, e))?;
    let app = start_app(family, mode, event, hs, &result, settings)?;
    put(out.handle, app.handle);
    put(out.num_devs, num(&result, "numDevs"));
    put(out.api_version, num(&result, "apiVersion"));
    if !out.params.is_null() {
        write_params(out.params, app.event_fd());
    }
    Ok(0)
}

/// The notification mechanism from LINEINITIALIZEEXPARAMS (none given: hidden window).
unsafe fn notification_mode(
    family: Family,
    callback: Option<Callback>,
    params: *const INITIALIZEEXPARAMS,
) -> Result<Mode, i32> {
    let options = if params.is_null() {
        LINEINITIALIZEEXOPTION_USEHIDDENWINDOW
    } else {
        let total = std::ptr::read_unaligned(params as *const u32) as usize;
        if total < size_of::<INITIALIZEEXPARAMS>() {
            return Err(family.code(Err::StructureTooSmall));
        }
        std::ptr::read_unaligned(
            params.cast::<u8>().add(off!(INITIALIZEEXPARAMS, dwOptions)) as *const u32
        ) & !LINEINITIALIZEEXOPTION_CALLHUBTRACKING
    };
    match options {
        LINEINITIALIZEEXOPTION_USEHIDDENWINDOW => callback
            .map(Mode::Callback)
            .ok_or(family.code(Err::InvalPointer)),
        LINEINITIALIZEEXOPTION_USEEVENT => Ok(Mode::Event),
        // No completion ports on Linux; any other value is not an option either.
        _ => Err(family.code(Err::InvalParam)),
    }
}

unsafe fn write_params(params: *mut INITIALIZEEXPARAMS, event: Option<i32>) {
    let base = params.cast::<u8>();
    let size = size_of::<INITIALIZEEXPARAMS>() as u32;
    put(
        base.add(off!(INITIALIZEEXPARAMS, dwNeededSize)) as *mut u32,
        size,
    );
    put(
        base.add(off!(INITIALIZEEXPARAMS, dwUsedSize)) as *mut u32,
        size,
    );
    if let Some(fd) = event {
        put(
            base.add(off!(INITIALIZEEXPARAMS, hEvent)) as *mut usize,
            fd as usize,
        );
    }
}

/// Registers the app and starts its threads.
fn start_app(
    family: Family,
    mode: Mode,
    event: Option<EventFd>,
    hs: Handshake,
    result: &Value,
    settings: Settings,
) -> Result<Arc<App>, i32> {
    let failed = family.code(Err::OperationFailed);
    let next_id = hs.next_id();
    let (reader, writer, early) = hs.into_parts().map_err(|_| failed)?;
    let init = AppInit {
        family,
        handle: num(result, family.app_key()),
        api_version: num(result, "apiVersion"),
        mode,
        event,
        writer,
        next_id,
        session: result
            .get("sessionId")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    let app = Arc::new(App::new(init, settings));
    registry::add(Arc::clone(&app));
    let spawned = spawn_threads(&app, reader, early);
    if spawned.is_err() {
        registry::remove(family, app.handle);
        app.close();
        return Err(family.code(Err::NoMem));
    }
    Ok(app)
}

fn spawn_threads(
    app: &Arc<App>,
    reader: std::io::BufReader<std::net::TcpStream>,
    early: Vec<String>,
) -> std::io::Result<()> {
    let r = Arc::clone(app);
    std::thread::Builder::new()
        .name(format!("tapi-reader-{:x}", app.handle))
        .spawn(move || run_reader(r, reader, early))?;
    if let Mode::Callback(cb) = app.mode {
        let d = Arc::clone(app);
        let t = std::thread::Builder::new()
            .name(format!("tapi-callback-{:x}", app.handle))
            .spawn(move || d.deliver_callbacks(cb))?;
        app.set_delivery_thread(t);
    }
    Ok(())
}

/// Failing to reach the gateway is LINEERR_NODRIVER (PHONEERR_NODRIVER): the service provider
/// is not there; an error the gateway answers is returned as it is.
fn handshake_code(family: Family, e: HandshakeError) -> i32 {
    match e {
        HandshakeError::Unreachable(why) => {
            if Settings::from_env().debug {
                eprintln!("libtapi: gateway unreachable: {why}");
            }
            family.code(Err::NoDriver)
        }
        HandshakeError::Refused(fail) => fail.code(family),
    }
}

/// The application's name when it gives none (TAPI uses the module file name).
fn program_name() -> String {
    std::env::args()
        .next()
        .and_then(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "libtapi".to_string())
}

fn shutdown(family: Family, handle: u32) -> Ret {
    let app = registry::app(family, handle).ok_or(family.code(Err::InvalAppHandle))?;
    let result = app.call(
        family.shutdown_method(),
        json!({ family.app_key(): handle }),
    );
    registry::remove(family, handle);
    app.close();
    match result {
        // A gateway that no longer has the app (lost session) still leaves it shut down.
        Ok(_) | Err(Fail::Lost | Fail::Timeout | Fail::Closed) => Ok(0),
        Err(Fail::Rpc { code, .. }) if code == i64::from(family.code(Err::InvalAppHandle)) => Ok(0),
        Err(fail) => Err(fail.code(family)),
    }
}

unsafe fn negotiate(
    family: Family,
    handle: u32,
    device_id: u32,
    (low, high): (u32, u32),
    lpdw_api_version: *mut u32,
    ext_id: *mut [u32; 4],
) -> Ret {
    non_null(family, lpdw_api_version)?;
    non_null(family, ext_id)?;
    let method = match family {
        Family::Line => "lineNegotiateAPIVersion",
        Family::Phone => "phoneNegotiateAPIVersion",
    };
    let params = json!({
        family.app_key(): handle, "deviceId": device_id,
        "apiLowVersion": low, "apiHighVersion": high,
    });
    let (_, reply) = on_app(family, handle, method, params)?;
    put(lpdw_api_version, num(&reply.value, "apiVersion"));
    put(ext_id, [0; 4]);
    Ok(0)
}

unsafe fn get_message(family: Family, handle: u32, message: *mut MESSAGE, timeout: u32) -> Ret {
    let app = registry::app(family, handle).ok_or(family.code(Err::InvalAppHandle))?;
    non_null(family, message)?;
    if !matches!(app.mode, Mode::Event) {
        return Err(family.code(Err::InvalAppHandle));
    }
    let wait = (timeout != INFINITE).then(|| Duration::from_millis(u64::from(timeout)));
    let m = app.next_ready(wait).map_err(|f| match f {
        Fail::Timeout => family.code(Err::OperationFailed),
        other => other.code(family),
    })?;
    put(
        message,
        MESSAGE {
            hDevice: m.h_device,
            dwMessageID: m.id,
            dwCallbackInstance: m.instance,
            dwParam1: m.p1,
            dwParam2: m.p2,
            dwParam3: m.p3,
        },
    );
    Ok(0)
}
