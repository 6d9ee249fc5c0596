//! The functions apps call, as typed requests TAPISRV serves: one variant per TAPI function,
//! with the parameters TAPI gives it (Hungarian prefixes dropped, handles typed).
//!
//! Values TAPI validates itself (privileges, options, modes) stay raw `u32`s here so TAPISRV
//! can answer a bad one with the exact LINEERR_ Microsoft documents for it.

use super::ids::{DeviceId, HCall, HLine, HLineApp};
use super::provider::ForwardEntry;
use super::types::{AddressStates, LineDevStates};

/// One function call of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    LineInitializeEx {
        app_name: String,
        api_version: u32,
        /// LINEINITIALIZEEXOPTION_ (notification mode).
        options: u32,
        completion_key: u32,
    },
    LineShutdown {
        app: HLineApp,
    },
    LineNegotiateApiVersion {
        app: HLineApp,
        device: DeviceId,
        low: u32,
        high: u32,
    },
    LineGetDevCaps {
        app: HLineApp,
        device: DeviceId,
        api_version: u32,
    },
    LineOpen {
        app: HLineApp,
        /// A device ID or LINEMAPPER.
        device: u32,
        api_version: u32,
        callback_instance: u32,
        /// LINECALLPRIVILEGE_ bits, possibly with LINEOPENOPTION_ flags.
        privileges: u32,
        /// LINEMEDIAMODE_ bits.
        media_modes: u32,
    },
    LineClose {
        line: HLine,
    },
    LineSetStatusMessages {
        line: HLine,
        line_states: LineDevStates,
        address_states: AddressStates,
    },
    LineGetLineDevStatus {
        line: HLine,
    },
    LineMakeCall {
        line: HLine,
        dest: String,
    },
    LineAccept {
        call: HCall,
    },
    LineAnswer {
        call: HCall,
    },
    LineDrop {
        call: HCall,
    },
    LineRedirect {
        call: HCall,
        dest: String,
    },
    LineDeallocateCall {
        call: HCall,
    },
    LineGetCallInfo {
        call: HCall,
    },
    LineGetCallStatus {
        call: HCall,
    },
    LineSetCallPrivilege {
        call: HCall,
        /// LINECALLPRIVILEGE_MONITOR or _OWNER (anything else: LINEERR_INVALCALLPRIVILEGE).
        privilege: u32,
    },
    LineGetMessage {
        app: HLineApp,
        /// Milliseconds; 0 polls, 0xFFFFFFFF (INFINITE) waits for ever.
        timeout: u32,
    },
    LineHold {
        call: HCall,
    },
    LineUnhold {
        call: HCall,
    },
    LineSwapHold {
        active: HCall,
        held: HCall,
    },
    LineBlindTransfer {
        call: HCall,
        dest: String,
    },
    LineSetupTransfer {
        call: HCall,
    },
    LineDial {
        call: HCall,
        dest: String,
    },
    LineCompleteTransfer {
        call: HCall,
        consult: HCall,
        /// LINETRANSFERMODE_TRANSFER or _CONFERENCE.
        mode: u32,
    },
    LineForward {
        line: HLine,
        all_addresses: bool,
        forwards: Vec<ForwardEntry>,
        num_rings_no_answer: u32,
    },
}
