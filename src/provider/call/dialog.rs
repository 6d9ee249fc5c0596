//! RFC 3261 §12 dialog state, and the key the provider routes in-dialog requests by.

use crate::sip::message::{NameAddr, Request, Response, Uri};

/// Identifies one of our dialogs: its Call-ID and our own tag (unique per dialog we create, so
/// the peer's tag is not needed to find it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogKey {
    pub call_id: String,
    pub local_tag: String,
}

impl DialogKey {
    /// The dialog a request from the peer belongs to: its Call-ID and its To tag (ours).
    pub fn of_request(request: &Request) -> Option<DialogKey> {
        Some(DialogKey {
            call_id: request.headers.call_id.clone(),
            local_tag: request.headers.to.tag()?.to_string(),
        })
    }
}

/// A dialog (early or confirmed), from our side.
#[derive(Debug, Clone)]
pub struct Dialog {
    pub key: DialogKey,
    pub remote_tag: Option<String>,
    /// Our From (outbound) / To (inbound) with our tag.
    pub local: NameAddr,
    /// The peer's To (outbound) / From (inbound), without its tag.
    pub remote: NameAddr,
    /// Where in-dialog requests go (the peer's Contact), §12.1.
    pub remote_target: Uri,
    /// Route set, in the order in-dialog requests list it (§12.1.1 / §12.1.2).
    pub route_set: Vec<NameAddr>,
    pub local_cseq: u32,
    pub remote_cseq: Option<u32>,
}

impl Dialog {
    /// Next CSeq for a request we send in this dialog (§12.2.1.1).
    pub fn next_cseq(&mut self) -> u32 {
        self.local_cseq += 1;
        self.local_cseq
    }

    /// §12.2.2: a CSeq lower than the last one seen is out of order; otherwise it is recorded.
    pub fn accept_remote_cseq(&mut self, seq: u32) -> bool {
        match self.remote_cseq {
            Some(last) if seq < last => false,
            _ => {
                self.remote_cseq = Some(seq);
                true
            }
        }
    }

    /// §12.1.2: the UAC's dialog from a 2xx (or a provisional with a tag): remote tag, remote
    /// target (Contact), route set (Record-Route reversed).
    pub fn establish_from(&mut self, response: &Response) {
        self.remote_tag = response.headers.to.tag().map(str::to_string);
        if let Some(contact) = response.headers.contact.first() {
            self.remote_target = contact.uri.clone();
        }
        self.route_set = response
            .headers
            .record_route
            .iter()
            .rev()
            .cloned()
            .collect();
    }

    /// The peer's identity with its tag, as To of our in-dialog requests.
    pub fn remote_with_tag(&self) -> NameAddr {
        let mut to = self.remote.clone();
        if let Some(tag) = &self.remote_tag {
            to.params.set("tag", Some(tag));
        }
        to
    }
}
