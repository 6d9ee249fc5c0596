//! The hashers of tables keyed by what peers and apps choose (Call-IDs, dialog keys, server
//! transactions' branches) and of the call journal's fingerprints and dialog keys:
//! foldhash, seeded from the operating system's randomness (through std's `RandomState`,
//! whose keys come from it) instead of foldhash's own seed (the clock and addresses).
//! docs/architecture.md, "Allocator and hashing", says why this is enough for those tables.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::LazyLock;

use foldhash::SharedSeed;

/// A table keyed by what a peer or an app chooses.
pub type PeerMap<K, V> = HashMap<K, V, PeerHash>;

/// foldhash (its fast variant) with a per-table random seed and a per-process random shared
/// seed.
#[derive(Debug, Clone)]
pub struct PeerHash(foldhash::fast::SeedableRandomState);

impl Default for PeerHash {
    fn default() -> Self {
        PeerHash(foldhash::fast::SeedableRandomState::with_seed(
            os_random(),
            shared_seed(),
        ))
    }
}

impl BuildHasher for PeerHash {
    type Hasher = foldhash::fast::FoldHasher<'static>;

    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

/// foldhash's quality variant (a last avalanche step, for hashes used as fingerprints or
/// keys rather than table slots), randomly seeded like [`PeerHash`].
pub fn quality() -> foldhash::quality::SeedableRandomState {
    foldhash::quality::SeedableRandomState::with_seed(os_random(), shared_seed())
}

/// The process's shared seed, drawn once.
fn shared_seed() -> &'static SharedSeed {
    static SEED: LazyLock<SharedSeed> = LazyLock::new(|| SharedSeed::from_u64(os_random()));
    &SEED
}

/// 64 random bits: std's `RandomState` keys SipHash from the OS's randomness once per thread
/// and then steps the key for every new one, so a hash of a constant under a new one is
/// unpredictable to anyone who does not know those keys.
fn os_random() -> u64 {
    RandomState::new().hash_one(0x7461_7069_6777_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_fingerprints_are_seeded_apart() {
        let (a, b) = (PeerHash::default(), PeerHash::default());
        assert_ne!(a.hash_one("call-id"), b.hash_one("call-id"));
        assert_eq!(a.hash_one("call-id"), a.hash_one("call-id"));
        let (q, r) = (quality(), quality());
        assert_ne!(q.hash_one("call-id"), r.hash_one("call-id"));
        let mut map: PeerMap<String, u32> = PeerMap::default();
        map.insert("x".into(), 1);
        assert_eq!(map.get("x"), Some(&1));
    }
}
