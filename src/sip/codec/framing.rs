//! TCP/TLS stream framing (RFC 3261 §18.3): a message ends Content-Length bytes after its
//! empty line. CRLF keep-alives between messages are recognised (RFC 5626 §3.5.1: a CRLFCRLF
//! ping is answered with a CRLF pong). A message over the limit (64 KiB unless configured), or
//! one without exactly one valid Content-Length, ends the connection: the stream cannot be cut
//! (RFC 4475 §3.3.9). Before it closes, the driver answers such a request
//! ([`FramingError::answer`], [`StreamFramer::pending_head`], `codec::refuse`): 400 for the
//! Content-Length, 413 for the size (RFC 3261 §21.4.11).
//!
//! The framer only finds where a message ends (the empty line, then Content-Length); it does
//! not parse it. `decode` parses each frame once. It also reads each byte of the stream once:
//! the search for the empty line goes on where the last one stopped, and a head's
//! Content-Length is read once, however the bytes are cut into reads (a peer that sends one
//! byte per segment made every read rescan the whole buffer: 0.2 s of CPU for a 60 KiB head,
//! found by the `tcp_framer` fuzz target, docs/fuzzing.md).

use super::normalize::{find_head_end, full_name};

/// Largest message (head + body) taken on a stream by default (`sip.max_message_bytes`).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// One unit cut from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The bytes of one complete message, ready for `decode`.
    Message(Vec<u8>),
    /// A CRLFCRLF keep-alive ping: answer with CRLF.
    Ping,
    /// A lone CRLF (a pong, or padding between messages): nothing to do.
    KeepAlive,
}

/// Why the stream cannot be framed; the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("message larger than the limit")]
    TooLarge,
    #[error("message without a valid Content-Length on a stream")]
    NoContentLength,
    #[error("message with more than one Content-Length on a stream")]
    DuplicateContentLength,
}

impl FramingError {
    /// The status and reason a request refused for this gets before the connection closes.
    pub fn answer(&self) -> (u16, &'static str) {
        match self {
            FramingError::TooLarge => (413, "Request Entity Too Large"),
            FramingError::NoContentLength => (400, "Missing or Bad Content-Length"),
            FramingError::DuplicateContentLength => (400, "Multiple Content-Length Headers"),
        }
    }
}

/// Accumulates stream bytes and cuts them into frames.
#[derive(Debug)]
pub struct StreamFramer {
    buf: Vec<u8>,
    limit: usize,
    /// Bytes of `buf` already searched for the empty line without finding it.
    scanned: usize,
    /// The length (head + body) of the message at the front of `buf`, once its head is in.
    total: Option<usize>,
}

impl Default for StreamFramer {
    fn default() -> Self {
        StreamFramer::with_limit(MAX_MESSAGE)
    }
}

impl StreamFramer {
    pub fn new() -> Self {
        StreamFramer::default()
    }

    /// A framer taking messages of at most `limit` bytes (head and body).
    pub fn with_limit(limit: usize) -> Self {
        StreamFramer {
            buf: Vec::new(),
            limit,
            scanned: 0,
            total: None,
        }
    }

    /// The complete head (through its empty line) at the start of the buffer, if there is
    /// one: after an error, the head of the message that could not be framed.
    pub fn pending_head(&self) -> Option<&[u8]> {
        let start = self.buf.iter().position(|b| !matches!(b, b'\r' | b'\n'))?;
        let (_, body_start) = find_head_end(&self.buf[start..])?;
        Some(&self.buf[start..start + body_start])
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes waiting for the rest of a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FramingError> {
        if self.total.is_none() {
            if let Some(frame) = self.keep_alive() {
                return Ok(Some(frame));
            }
        }
        let total = match self.total {
            Some(total) => total,
            None => match self.find_total()? {
                Some(total) => total,
                None => return Ok(None),
            },
        };
        if self.buf.len() < total {
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        let message = std::mem::replace(&mut self.buf, rest);
        self.scanned = 0;
        self.total = None;
        Ok(Some(Frame::Message(message)))
    }

    /// The length of the message at the front, once its head is complete; the search starts
    /// where the previous one stopped, less the two bytes an empty line may have begun with and
    /// the CR before them (`find_head_end` looks one byte back).
    fn find_total(&mut self) -> Result<Option<usize>, FramingError> {
        let from = self.scanned.saturating_sub(3);
        let Some((head_end, body_start)) = find_head_end(&self.buf[from..]) else {
            if self.buf.len() > self.limit {
                return Err(FramingError::TooLarge);
            }
            self.scanned = self.buf.len();
            return Ok(None);
        };
        let (head_end, body_start) = (from + head_end, from + body_start);
        let length = content_length(&self.buf[..head_end])?;
        let total = body_start
            .checked_add(length)
            .ok_or(FramingError::TooLarge)?;
        if total > self.limit {
            return Err(FramingError::TooLarge);
        }
        self.total = Some(total);
        Ok(Some(total))
    }

    /// Leading CRLFs: a double one is a ping, a single one a keep-alive.
    fn keep_alive(&mut self) -> Option<Frame> {
        let (frame, len) = if self.buf.starts_with(b"\r\n\r\n") {
            (Frame::Ping, 4)
        } else if self.buf.starts_with(b"\r\n") && self.buf.len() >= 3 && self.buf[2] != b'\r' {
            (Frame::KeepAlive, 2)
        } else if self.buf.first() == Some(&b'\n') {
            (Frame::KeepAlive, 1)
        } else {
            // A lone CRLF could be the start of a ping: it is decided when more bytes come.
            return None;
        };
        self.buf.drain(..len);
        self.scanned = 0;
        Some(frame)
    }
}

/// The one Content-Length (or compact `l`) of a message head.
fn content_length(head: &[u8]) -> Result<usize, FramingError> {
    let text = std::str::from_utf8(head).map_err(|_| FramingError::NoContentLength)?;
    let mut values = text.split('\n').skip(1).filter_map(|line| {
        let (name, value) = line.split_once(':')?;
        full_name(name.trim())
            .eq_ignore_ascii_case("Content-Length")
            .then_some(value)
    });
    let value = values.next().ok_or(FramingError::NoContentLength)?;
    if values.next().is_some() {
        return Err(FramingError::DuplicateContentLength);
    }
    value
        .trim()
        .parse()
        .map_err(|_| FramingError::NoContentLength)
}
