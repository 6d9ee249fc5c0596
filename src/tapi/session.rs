//! Sessions that survive a dropped connection (api.md, "Sessions that survive a dropped
//! connection"): the opaque session ID an app is given at initialisation, the stamp every TAPI
//! message carries (which app it is for, and its place in that app's numbering), and the
//! counters TAPISRV keeps about kept, resumed and expired sessions.

use std::fmt;

/// An app's session ID: 128 random bits as 32 lowercase hex digits. It is a bearer secret
/// (whoever knows it can take the app over), so it is drawn from a CSPRNG seeded by the OS.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// The ID of 16 random bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> SessionId {
        let mut text = String::with_capacity(32);
        for b in bytes {
            text.push_str(&format!("{b:02x}"));
        }
        SessionId(text)
    }

    /// The ID as an app sent it back (any string: an unknown one simply matches no session).
    pub fn from_wire(text: String) -> SessionId {
        SessionId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What goes with every TAPI message besides its six LINEMESSAGE fields: the app it is for
/// (an hLineApp, or an hPhoneApp when `phone`) and its `seq`, numbering that app's messages
/// from 1 without gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub app: u32,
    pub phone: bool,
    pub seq: u64,
}

/// Counters of the session machinery, for metrics (plain numbers since the gateway started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Resumable apps kept when their connection dropped.
    pub kept: u64,
    /// Sessions re-attached by lineResume / phoneResume (take-overs included).
    pub resumed: u64,
    /// Kept apps shut down because their grace period ran out.
    pub expired: u64,
    /// Resumes of a session that was still attached to another connection.
    pub taken_over: u64,
    /// Kept apps shut down because their queue of messages overflowed while away.
    pub overflowed: u64,
    /// lineResume / phoneResume refused (unknown, expired or not resumable session).
    pub refused: u64,
    /// Apps kept right now, waiting for a resume.
    pub detached: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_32_hex_digits() {
        let id = SessionId::from_bytes([0, 1, 0xab, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]);
        assert_eq!(id.as_str(), "0001abff000000000000000000000010");
        assert_eq!(id.as_str().len(), 32);
    }
}
