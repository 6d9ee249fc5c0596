//! One TAPI message (the six LINEMESSAGE fields) and how it is read from a notification's
//! params: LINE_REPLY's and PHONE_REPLY's result is sign-extended to DWORD_PTR, as 64-bit TAPI
//! does, so that `(LONG)dwParam2` and a wider signed read both give the error code.

use serde_json::Value;

use crate::consts::*;

/// One LINEMESSAGE / PHONEMESSAGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Msg {
    pub h_device: u32,
    pub id: u32,
    pub instance: usize,
    pub p1: usize,
    pub p2: usize,
    pub p3: usize,
}

/// The six LINEMESSAGE fields of a notification (LINE_REPLY's result sign-extended).
pub fn message_from(params: &Value) -> Msg {
    let id = dword(params, "dwMessageID");
    let mut p2 = dword_ptr(params.get("dwParam2"));
    if id == LINE_REPLY || id == PHONE_REPLY {
        p2 = (p2 as u32 as i32) as isize as usize;
    }
    Msg {
        h_device: dword(params, "hDevice"),
        id,
        instance: dword_ptr(params.get("dwCallbackInstance")),
        p1: dword_ptr(params.get("dwParam1")),
        p2,
        p3: dword_ptr(params.get("dwParam3")),
    }
}

fn dword(v: &Value, key: &str) -> u32 {
    dword_ptr(v.get(key)) as u32
}

fn dword_ptr(v: Option<&Value>) -> usize {
    match v {
        Some(v) => v
            .as_u64()
            .map(|u| u as usize)
            .or_else(|| v.as_i64().map(|i| i as isize as usize))
            .unwrap_or(0),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reply_results_are_sign_extended() {
        let m = message_from(&json!({"hDevice":0,"dwMessageID":12,"dwCallbackInstance":3,
            "dwParam1":5,"dwParam2":-2147483576,"dwParam3":0}));
        assert_eq!(m.p2 as i32, LINEERR_OPERATIONFAILED as i32);
        assert_eq!(m.p2 as isize, LINEERR_OPERATIONFAILED as i32 as isize);
        assert_eq!((m.p1, m.instance), (5, 3));
        let s = message_from(&json!({"hDevice":9,"dwMessageID":2,"dwParam1":256,"dwParam2":1}));
        assert_eq!((s.h_device, s.id, s.p1, s.p2, s.p3), (9, 2, 256, 1, 0));
    }
}
