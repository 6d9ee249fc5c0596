//! Turning what can go wrong into TAPI results: a TAPI error on the wire is returned as the
//! LONG it is; JSON-RPC protocol errors, a lost connection and time-outs map to the closest
//! LINEERR_ (or PHONEERR_ for phone functions).

use crate::consts::*;

/// JSON-RPC "method not found": this gateway build lacks the function.
pub const RPC_METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC "invalid params".
pub const RPC_INVALID_PARAMS: i64 = -32602;

/// Which error family a function answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Line,
    Phone,
}

/// The errors the library produces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Err {
    InvalPointer,
    InvalParam,
    InvalAppHandle,
    /// Invalid line or phone device handle.
    InvalDeviceHandle,
    InvalCallHandle,
    OperationFailed,
    OperationUnavail,
    NoDriver,
    NoMem,
    StructureTooSmall,
}

impl Family {
    /// The LONG value of `err` in this family.
    pub fn code(self, err: Err) -> i32 {
        let v = match (self, err) {
            (Family::Line, Err::InvalPointer) => LINEERR_INVALPOINTER,
            (Family::Line, Err::InvalParam) => LINEERR_INVALPARAM,
            (Family::Line, Err::InvalAppHandle) => LINEERR_INVALAPPHANDLE,
            (Family::Line, Err::InvalDeviceHandle) => LINEERR_INVALLINEHANDLE,
            (Family::Line, Err::InvalCallHandle) => LINEERR_INVALCALLHANDLE,
            (Family::Line, Err::OperationFailed) => LINEERR_OPERATIONFAILED,
            (Family::Line, Err::OperationUnavail) => LINEERR_OPERATIONUNAVAIL,
            (Family::Line, Err::NoDriver) => LINEERR_NODRIVER,
            (Family::Line, Err::NoMem) => LINEERR_NOMEM,
            (Family::Line, Err::StructureTooSmall) => LINEERR_STRUCTURETOOSMALL,
            (Family::Phone, Err::InvalPointer) => PHONEERR_INVALPOINTER,
            (Family::Phone, Err::InvalParam) => PHONEERR_INVALPARAM,
            (Family::Phone, Err::InvalAppHandle) => PHONEERR_INVALAPPHANDLE,
            (Family::Phone, Err::InvalDeviceHandle | Err::InvalCallHandle) => {
                PHONEERR_INVALPHONEHANDLE
            }
            (Family::Phone, Err::OperationFailed) => PHONEERR_OPERATIONFAILED,
            (Family::Phone, Err::OperationUnavail) => PHONEERR_OPERATIONUNAVAIL,
            (Family::Phone, Err::NoDriver) => PHONEERR_NODRIVER,
            (Family::Phone, Err::NoMem) => PHONEERR_NOMEM,
            (Family::Phone, Err::StructureTooSmall) => PHONEERR_STRUCTURETOOSMALL,
        };
        v as i32
    }
}

/// Why a request to the gateway produced no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    /// The gateway answered with a JSON-RPC error.
    Rpc { code: i64, message: String },
    /// The connection went away before the answer.
    Lost,
    /// No answer within the call time-out.
    Timeout,
    /// The app was shut down (locally) meanwhile.
    Closed,
}

impl Fail {
    /// The LONG an exported function returns for this failure.
    pub fn code(&self, family: Family) -> i32 {
        match self {
            Fail::Rpc { code, .. } => rpc_code(*code, family),
            Fail::Lost | Fail::Timeout => family.code(Err::OperationFailed),
            Fail::Closed => family.code(Err::InvalAppHandle),
        }
    }
}

/// A JSON-RPC error code as a TAPI result.
pub fn rpc_code(code: i64, family: Family) -> i32 {
    if is_tapi_error(code) {
        return code as i32;
    }
    match code {
        RPC_METHOD_NOT_FOUND => family.code(Err::OperationUnavail),
        RPC_INVALID_PARAMS => family.code(Err::InvalParam),
        _ => family.code(Err::OperationFailed),
    }
}

/// A LINEERR_ (0x8000xxxx) or PHONEERR_ (0x9000xxxx) read as a signed 32-bit integer.
fn is_tapi_error(code: i64) -> bool {
    let Ok(v) = i32::try_from(code) else {
        return false;
    };
    matches!((v as u32) >> 28, 0x8 | 0x9) && (v as u32) & 0x0FFF_0000 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_errors_map_to_tapi_results() {
        let invalline = LINEERR_INVALLINEHANDLE as i32;
        assert_eq!(rpc_code(i64::from(invalline), Family::Line), invalline);
        let notowner = 0x9000_001Bu32 as i32;
        assert_eq!(rpc_code(i64::from(notowner), Family::Phone), notowner);
        assert_eq!(
            rpc_code(-32601, Family::Line),
            LINEERR_OPERATIONUNAVAIL as i32
        );
        assert_eq!(
            rpc_code(-32601, Family::Phone),
            PHONEERR_OPERATIONUNAVAIL as i32
        );
        assert_eq!(rpc_code(-32602, Family::Line), LINEERR_INVALPARAM as i32);
        assert_eq!(
            rpc_code(-32001, Family::Line),
            LINEERR_OPERATIONFAILED as i32
        );
        assert_eq!(rpc_code(5, Family::Line), LINEERR_OPERATIONFAILED as i32);
        assert_eq!(
            Fail::Lost.code(Family::Line),
            LINEERR_OPERATIONFAILED as i32
        );
        assert_eq!(
            Fail::Closed.code(Family::Phone),
            PHONEERR_INVALAPPHANDLE as i32
        );
    }
}
