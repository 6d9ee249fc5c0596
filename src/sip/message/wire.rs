//! Writing the message model as wire text (RFC 3261 §25 grammar) straight into a buffer.
//!
//! Each type's `Display` is its [`WriteWire`], so there is one serialiser per type; the encoder
//! calls it on a `String` directly. `write!` would go through `core::fmt`'s argument machinery
//! once per piece and integer `Display`'s padding logic: callgrind counted about 800
//! instructions per `write!` in the encoder, some 30 of them per call (docs/performance.md,
//! "Writing without core::fmt").

use std::fmt::{self, Write};

/// A value that can write its wire form.
pub trait WriteWire {
    fn write_wire<W: Write>(&self, out: &mut W) -> fmt::Result;
}

/// Writes an integer in decimal (the same digits as its `Display`).
pub fn write_int<W: Write>(out: &mut W, n: impl itoa::Integer) -> fmt::Result {
    out.write_str(itoa::Buffer::new().format(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_match_display() {
        for n in [0u32, 7, 10, 99, 100, 5060, 65_535, u32::MAX] {
            let mut s = String::new();
            write_int(&mut s, n).unwrap();
            assert_eq!(s, n.to_string());
        }
    }
}
