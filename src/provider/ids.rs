//! Fresh identifiers for SIP: tags (RFC 3261 §19.3), branches (§8.1.1.7) and Call-IDs
//! (§8.1.1.4), from a seeded generator so tests are reproducible.

use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

use crate::sip::message::BRANCH_MAGIC_COOKIE;

pub struct IdGen {
    rng: SmallRng,
}

impl IdGen {
    pub fn new(seed: u64) -> Self {
        IdGen {
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// Appends `words` random 64-bit words as 16 lower-case hex digits each (what `{:016x}`
    /// writes, without `format!` and an allocation per word).
    fn push_hex(&mut self, out: &mut String, words: usize) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for _ in 0..words {
            let word = self.rng.next_u64();
            for shift in (0..16).rev() {
                out.push(char::from(DIGITS[(word >> (shift * 4)) as usize & 0xf]));
            }
        }
    }

    /// `prefix`, then `words` random words in hex, in one allocation.
    fn hex_after(&mut self, prefix: &str, words: usize) -> String {
        let mut out = String::with_capacity(prefix.len() + words * 16);
        out.push_str(prefix);
        self.push_hex(&mut out, words);
        out
    }

    fn hex(&mut self, words: usize) -> String {
        self.hex_after("", words)
    }

    /// A From/To tag: 64 random bits (§19.3 asks for at least 32).
    pub fn tag(&mut self) -> String {
        self.hex(1)
    }

    /// A Via branch with the RFC 3261 magic cookie.
    pub fn branch(&mut self) -> String {
        self.hex_after(BRANCH_MAGIC_COOKIE, 1)
    }

    /// A globally unique Call-ID: 128 random bits at our host.
    pub fn call_id(&mut self, host: &str) -> String {
        let mut out = String::with_capacity(2 * 16 + 1 + host.len());
        self.push_hex(&mut out, 2);
        out.push('@');
        out.push_str(host);
        out
    }

    /// A cnonce for digest authentication.
    pub fn cnonce(&mut self) -> String {
        self.hex(1)
    }

    /// A random value in `0..bound` (backoff jitter).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.rng.next_u64() % bound
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_well_formed() {
        let mut ids = IdGen::new(7);
        let a = ids.branch();
        let b = ids.branch();
        assert!(a.starts_with("z9hG4bK") && a.len() == 23);
        assert_ne!(a, b);
        assert_ne!(ids.tag(), ids.tag());
        assert!(ids.call_id("gw").ends_with("@gw"));
        assert!(ids.below(10) < 10);
    }

    #[test]
    fn hex_is_what_format_writes() {
        let (mut ids, mut same) = (IdGen::new(11), IdGen::new(11));
        let words = ids.hex(2);
        let expected = format!("{:016x}{:016x}", same.rng.next_u64(), same.rng.next_u64());
        assert_eq!(words, expected);
    }
}
