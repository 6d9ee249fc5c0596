//! Constructors that follow RFC 3261 rules for deriving one message from another.

use super::status::reason_phrase;
use super::{CSeq, Headers, Method, NameAddr, Request, Response};

impl Request {
    /// A request bound to this one's transaction (CANCEL, RFC 3261 §9.1; ACK for a non-2xx,
    /// §17.1.1.3): the same Request-URI, top Via (branch included), From, Call-ID, CSeq number
    /// and Route; `method` and `to` as given, Max-Forwards 70, no body.
    pub fn derive(&self, method: Method, to: NameAddr) -> Request {
        let mut headers = Headers::new(
            self.headers.via[0].clone(),
            self.headers.from.clone(),
            to,
            self.headers.call_id.clone(),
            CSeq {
                seq: self.headers.cseq.seq,
                method: method.clone(),
            },
        );
        headers.max_forwards = Some(70);
        headers.route = self.headers.route.clone();
        Request {
            method,
            uri: self.uri.clone(),
            headers,
            body: Vec::new(),
        }
    }
}

impl Response {
    /// A response to `req` per RFC 3261 §8.2.6.2: Via (all values, in order), From, Call-ID and
    /// CSeq copied; To copied, with `to_tag` added when the request's To has no tag yet.
    /// A 100 Trying never gets a To tag (§8.2.6.2).
    pub fn for_request(req: &Request, status: u16, to_tag: Option<&str>) -> Response {
        let mut headers = req.headers.clone();
        headers.max_forwards = None;
        headers.contact.clear();
        headers.route.clear();
        headers.content_type = None;
        headers.expires = None;
        headers.other.clear();
        // Record-Route is copied into 2xx/1xx responses to dialog-creating requests by the UAS
        // (§12.1.1); the dialog layer decides, so it is cleared here too.
        headers.record_route.clear();
        if status > 100 && headers.to.tag().is_none() {
            if let Some(tag) = to_tag {
                headers.to.params.set("tag", Some(tag));
            }
        }
        Response {
            status,
            reason: reason_phrase(status).to_string(),
            headers,
            body: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;

    fn request() -> Request {
        let uri = Uri::sip(Some("1001"), Host::Name("gw".into()), None);
        let mut headers = Headers::new(
            Via::new("UDP", Host::Name("a".into()), Some(5060), "z9hG4bK1"),
            NameAddr::new(uri.clone()).with_tag("ft"),
            NameAddr::new(uri.clone()),
            "cid@a".into(),
            CSeq {
                seq: 7,
                method: Method::Invite,
            },
        );
        headers
            .via
            .push(Via::new("UDP", Host::Name("b".into()), None, "z9hG4bK2"));
        headers.max_forwards = Some(70);
        headers.contact.push(NameAddr::new(uri.clone()));
        headers.push("Subject", "hi");
        Request {
            method: Method::Invite,
            uri,
            headers,
            body: b"v=0".to_vec(),
        }
    }

    #[test]
    fn copies_the_right_headers() {
        let req = request();
        let resp = Response::for_request(&req, 486, Some("tt"));
        assert_eq!(resp.status, 486);
        assert_eq!(resp.reason, "Busy Here");
        assert_eq!(resp.headers.via, req.headers.via);
        assert_eq!(resp.headers.from, req.headers.from);
        assert_eq!(resp.headers.call_id, "cid@a");
        assert_eq!(resp.headers.cseq, req.headers.cseq);
        assert_eq!(resp.headers.to.tag(), Some("tt"));
        assert!(resp.headers.contact.is_empty());
        assert!(resp.headers.other.is_empty());
        assert!(resp.body.is_empty());
    }

    #[test]
    fn trying_has_no_to_tag_and_existing_tag_is_kept() {
        let mut req = request();
        assert_eq!(
            Response::for_request(&req, 100, Some("tt"))
                .headers
                .to
                .tag(),
            None
        );
        req.headers.to.params.set("tag", Some("old"));
        let resp = Response::for_request(&req, 200, Some("new"));
        assert_eq!(resp.headers.to.tag(), Some("old"));
    }
}
