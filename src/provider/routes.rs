//! Who owns what: which call or line a client transaction belongs to (and why it was started),
//! which call a dialog and a server INVITE belong to. The provider routes every transaction
//! event and in-dialog request through these tables.

use std::hash::BuildHasher;

use crate::hash::PeerMap;

use rustc_hash::FxHashMap;

use crate::sip::transaction::{ClientTxKey, ServerTxKey};
use crate::tapi::CallId;

use super::call::{Call, DialogKey, Purpose};

/// The owner of one of our client transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxOwner {
    Call(CallId, Purpose),
    /// A line's REGISTER.
    Line(usize),
}

impl TxOwner {
    /// Our INVITE: its route outlives a 2xx (retransmissions need the ACK again).
    pub fn is_invite(self) -> bool {
        matches!(self, TxOwner::Call(_, Purpose::Invite))
    }
}

/// The routing tables.
#[derive(Default)]
pub struct Routes {
    /// By the 128-bit hash of the dialog's key ([`DialogHash`]), not by a copy of it (Call-ID
    /// and our tag: about 110 bytes per live call with their heap blocks); a hit is checked
    /// against the call's own key ([`Routes::dialog`]).
    dialogs: FxHashMap<u128, CallId>,
    dialog_hash: DialogHash,
    /// Keyed by our own random branches (a peer's response only looks one up), so Fx needs no
    /// key against crafted collisions (docs/architecture.md, "Allocator and hashing").
    pub client: FxHashMap<ClientTxKey, TxOwner>,
    /// Inbound INVITE transactions, for their CANCEL and Timer H.
    pub server_invites: PeerMap<ServerTxKey, CallId>,
}

/// Two randomly seeded hashes (foldhash's quality variant, `crate::hash::quality`) of a
/// dialog's key, as one 128-bit number: peers choose Call-IDs, so the hash is keyed; two live
/// dialogs collide with probability about n² / 2¹²⁹ (10⁻²⁹ for 100 000 dialogs), and a
/// collision could only make a request find no call.
struct DialogHash([foldhash::quality::SeedableRandomState; 2]);

impl Default for DialogHash {
    fn default() -> Self {
        DialogHash([crate::hash::quality(), crate::hash::quality()])
    }
}

impl DialogHash {
    fn of(&self, key: &DialogKey) -> u128 {
        let [high, low] = &self.0;
        let key = (key.call_id.as_str(), key.local_tag.as_str());
        (u128::from(high.hash_one(key)) << 64) | u128::from(low.hash_one(key))
    }
}

impl Routes {
    /// The call whose dialog is `key` (§12.2.2), checked against the call's own key.
    pub fn dialog(&self, key: &DialogKey, calls: &FxHashMap<CallId, Box<Call>>) -> Option<CallId> {
        let id = *self.dialogs.get(&self.dialog_hash.of(key))?;
        calls
            .get(&id)
            .filter(|call| call.dialog_key() == key)
            .map(|_| id)
    }

    /// A new call's dialog (and, inbound, its INVITE transaction) become reachable.
    pub fn add_call(&mut self, call: &Call) {
        let hash = self.dialog_hash.of(call.dialog_key());
        self.dialogs.insert(hash, call.id);
        if let Some(tx) = call.server_invite() {
            self.server_invites.insert(tx.clone(), call.id);
        }
    }

    /// The call ended: requests in its dialog get 481 from now on.
    pub fn forget_dialog(&mut self, call: &Call) {
        let hash = self.dialog_hash.of(call.dialog_key());
        if self.dialogs.get(&hash) == Some(&call.id) {
            self.dialogs.remove(&hash);
        }
        if let Some(tx) = call.server_invite() {
            self.server_invites.remove(tx);
        }
    }

    /// The call is gone: nothing routes to it any more.
    pub fn forget_call(&mut self, call: &Call) {
        self.forget_dialog(call);
        if let Some(tx) = call.lingering_client_tx() {
            if matches!(self.client.get(tx), Some(TxOwner::Call(id, _)) if *id == call.id) {
                self.client.remove(tx);
            }
        }
    }
}
