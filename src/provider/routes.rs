//! Who owns what: which call or line a client transaction belongs to (and why it was started),
//! which call a dialog and a server INVITE belong to. The provider routes every transaction
//! event and in-dialog request through these tables.

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
    /// Keyed by what peers choose (Call-ID, tags): keyed foldhash (`crate::hash`).
    pub dialogs: PeerMap<DialogKey, CallId>,
    /// Keyed by our own random branches (a peer's response only looks one up), so Fx needs no
    /// key against crafted collisions (docs/architecture.md, "Allocator and hashing").
    pub client: FxHashMap<ClientTxKey, TxOwner>,
    /// Inbound INVITE transactions, for their CANCEL and Timer H.
    pub server_invites: PeerMap<ServerTxKey, CallId>,
}

impl Routes {
    /// A new call's dialog (and, inbound, its INVITE transaction) become reachable.
    pub fn add_call(&mut self, call: &Call) {
        self.dialogs.insert(call.dialog_key().clone(), call.id);
        if let Some(tx) = call.server_invite() {
            self.server_invites.insert(tx.clone(), call.id);
        }
    }

    /// The call ended: requests in its dialog get 481 from now on.
    pub fn forget_dialog(&mut self, call: &Call) {
        if self.dialogs.get(call.dialog_key()) == Some(&call.id) {
            self.dialogs.remove(call.dialog_key());
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
