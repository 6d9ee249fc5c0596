//! LINEMESSAGE: what a LINECALLBACK receives, and the unit TAPISRV delivers to apps.

/// The six fields of TAPI's LINEMESSAGE, with TAPI's numeric values. For LINE_REPLY,
/// `dw_param2` carries the result as a signed 32-bit value cast to u32 (see
/// [`LineMessage::reply_result`]); the API layer writes it as a signed integer on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineMessage {
    pub h_device: u32,
    pub dw_message_id: u32,
    pub dw_callback_instance: u32,
    pub dw_param1: u32,
    pub dw_param2: u32,
    pub dw_param3: u32,
}

impl LineMessage {
    /// dwParam2 of a LINE_REPLY as TAPI's LONG result (0 or a negative LINEERR_).
    pub fn reply_result(&self) -> i32 {
        self.dw_param2 as i32
    }
}
