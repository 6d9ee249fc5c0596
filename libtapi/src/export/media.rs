//! tapigw extensions (not in Microsoft's TAPI): playing a WAV file of the gateway's
//! `media.files_dir` into a call and recording the peer's audio into one (the contract's
//! mediaPlay, mediaRecord, mediaStop). Declared in tapi.h's "tapigw extensions" block.

use std::ffi::c_char;

use serde_json::json;

use super::{export, guard, on_call, request_id, required_text, Ret};
use crate::errors::Family;

const L: Family = Family::Line;

/// Plays `file` (relative to `media.files_dir`) into the call, once or looped: a request ID;
/// LINE_REPLY(0) at the end of the file, LINEERR_OPERATIONFAILED when stopped or unreadable.
fn media_play(h_call: u32, file: *const c_char, looped: u32) -> Ret {
    let file = unsafe { required_text(L, file)? };
    let params = json!({"hCall": h_call, "file": file, "loop": looped != 0});
    let (_, reply) = on_call(h_call, "mediaPlay", params)?;
    request_id(L, &reply)
}

/// Records into `file` until `max_ms`, `silence_ms` of silence (0: none), mediaStop or the
/// call's end: a request ID; LINE_REPLY(0) when the file is written.
fn media_record(h_call: u32, file: *const c_char, max_ms: u32, silence_ms: u32) -> Ret {
    let file = unsafe { required_text(L, file)? };
    let mut params = json!({"hCall": h_call, "file": file, "maxMs": max_ms});
    if silence_ms > 0 {
        params["silenceMs"] = json!(silence_ms);
    }
    let (_, reply) = on_call(h_call, "mediaRecord", params)?;
    request_id(L, &reply)
}

export! {
    fn tapigwMediaPlay(h_call: u32, file: *const c_char, looped: u32) =>
        guard(L, || media_play(h_call, file, looped))
}

export! {
    fn tapigwMediaRecord(h_call: u32, file: *const c_char, max_ms: u32, silence_ms: u32) =>
        guard(L, || media_record(h_call, file, max_ms, silence_ms))
}

export! {
    fn tapigwMediaStop(h_call: u32) => guard(L, || {
        on_call(h_call, "mediaStop", json!({"hCall": h_call}))?;
        Ok(0)
    })
}
