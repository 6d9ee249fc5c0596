//! Extensions negotiated honestly (RFC 3261 §8.2.2.3): a request whose `Require` names an
//! option tag we do not support gets 420 Bad Extension with `Unsupported` listing those tags,
//! in a dialog or out of one. What we support is [`SUPPORTED_TAGS`], the list our `Supported`
//! headers are made of. `Proxy-Require` is for proxies and a UA ignores it (§20.29); CANCEL
//! and ACK are never refused for it (§8.2.2.3: a CANCEL's Require is not checked, and an ACK
//! cannot be answered).

use std::time::Instant;

use crate::sip::message::{Method, Request};
use crate::sip::transaction::ServerTxKey;

use super::build::SUPPORTED_TAGS;
use super::SipProvider;

impl SipProvider {
    /// Answers 420 when `request` requires what we do not support; true when it did.
    pub(super) fn refuse_unsupported(
        &mut self,
        now: Instant,
        key: &ServerTxKey,
        request: &Request,
    ) -> bool {
        if matches!(request.method, Method::Cancel | Method::Ack) {
            return false;
        }
        let unsupported = unsupported_tags(request);
        if unsupported.is_empty() {
            return false;
        }
        let list = unsupported.join(", ");
        tracing::info!(method = %request.method, unsupported = %list, "420 Bad Extension");
        self.respond(now, key, request, 420, Some(("Unsupported", &list)));
        true
    }
}

/// The option tags of every `header` line (`Supported`, `Require`, ...), trimmed.
pub fn option_tags<'a>(
    headers: &'a crate::sip::message::Headers,
    header: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header)
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
}

/// The option tags of the request's `Require` headers that we do not support, in order, each
/// once (option tags compare case-insensitively, §19.2).
pub fn unsupported_tags(request: &Request) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in option_tags(&request.headers, "Require") {
        let supported = SUPPORTED_TAGS.iter().any(|s| s.eq_ignore_ascii_case(tag));
        if !supported && !out.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            out.push(tag.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::{CSeq, Headers, Host, NameAddr, Uri, Via};

    fn request(require: &[&str]) -> Request {
        let uri = Uri::sip(Some("1001"), Host::Name("gw".into()), None);
        let mut headers = Headers::new(
            Via::new("UDP", Host::Name("a".into()), Some(5060), "z9hG4bK1"),
            NameAddr::new(uri.clone()).with_tag("ft"),
            NameAddr::new(uri.clone()),
            "c".into(),
            CSeq {
                seq: 1,
                method: Method::Invite,
            },
        );
        for r in require {
            headers.push("Require", r.to_string());
        }
        headers.push("Proxy-Require", "foo");
        Request {
            method: Method::Invite,
            uri,
            headers,
            body: Vec::new(),
        }
    }

    #[test]
    fn only_what_we_do_not_support_is_listed_once() {
        assert!(
            unsupported_tags(&request(&[])).is_empty(),
            "Proxy-Require is ignored"
        );
        assert!(unsupported_tags(&request(&["Replaces"])).is_empty());
        assert_eq!(
            unsupported_tags(&request(&["foo, replaces", "bar", "FOO"])),
            vec!["foo", "bar"]
        );
    }

    #[test]
    fn the_supported_header_is_the_list() {
        assert_eq!(super::super::build::SUPPORTED, SUPPORTED_TAGS.join(", "));
    }
}
