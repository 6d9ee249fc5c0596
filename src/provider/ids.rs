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

    fn hex(&mut self, words: usize) -> String {
        let mut out = String::with_capacity(words * 16);
        for _ in 0..words {
            out.push_str(&format!("{:016x}", self.rng.next_u64()));
        }
        out
    }

    /// A From/To tag: 64 random bits (§19.3 asks for at least 32).
    pub fn tag(&mut self) -> String {
        self.hex(1)
    }

    /// A Via branch with the RFC 3261 magic cookie.
    pub fn branch(&mut self) -> String {
        format!("{BRANCH_MAGIC_COOKIE}{}", self.hex(1))
    }

    /// A globally unique Call-ID: 128 random bits at our host.
    pub fn call_id(&mut self, host: &str) -> String {
        format!("{}@{host}", self.hex(2))
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
}
