//! Digest authentication (RFC 2617, RFC 7616, RFC 8760). (to be written)
