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
    /// LINE_GATHERDIGITS only: the digits gathered (our extension, the `"digits"` field);
    /// empty for every other message.
    pub digits: Digits,
}

/// The most digits one lineGatherDigits may ask for (its `numDigits`).
pub const MAX_GATHER_DIGITS: usize = 64;

/// A short digit string kept inline, so a message stays `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digits {
    len: u8,
    buf: [u8; MAX_GATHER_DIGITS],
}

impl Default for Digits {
    fn default() -> Self {
        Digits {
            len: 0,
            buf: [0; MAX_GATHER_DIGITS],
        }
    }
}

impl Digits {
    /// Appends an ASCII digit character; false when full or not ASCII.
    pub fn push(&mut self, c: char) -> bool {
        if usize::from(self.len) >= MAX_GATHER_DIGITS || !c.is_ascii() {
            return false;
        }
        self.buf[usize::from(self.len)] = c as u8;
        self.len += 1;
        true
    }

    /// Up to [`MAX_GATHER_DIGITS`] ASCII characters of `s` (the rest is dropped).
    pub fn from_text(s: &str) -> Digits {
        let mut d = Digits::default();
        for c in s.chars() {
            if !d.push(c) {
                break;
            }
        }
        d
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len()]).unwrap_or("")
    }
}

impl LineMessage {
    /// dwParam2 of a LINE_REPLY as TAPI's LONG result (0 or a negative LINEERR_).
    pub fn reply_result(&self) -> i32 {
        self.dw_param2 as i32
    }
}
