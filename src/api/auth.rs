//! The `authenticate` handshake of one API connection, sans-I/O (docs/api.md "Security").
//!
//! With tokens configured, the first request must be `authenticate` with a known token
//! (answered `{}`); anything else before it, or a wrong token, is answered -32001
//! "unauthenticated", and the third such failure closes the connection. Tokens are compared as
//! SHA-256 digests with `subtle`'s constant-time equality, every configured token each time,
//! so neither the token's length nor how much of it matched shows in the answer's timing.
//! Without tokens `authenticate` is accepted as it comes (clients that always send it work).

use std::sync::Arc;

use subtle::ConstantTimeEq;

use super::protocol::{fault, UNAUTHENTICATED};
use crate::config::{token_digest, ApiToken};
use crate::tapi::{Fault, ReplyTag, Request, Scope};

/// Failures (wrong token, or a request before `authenticate`) that close the connection.
pub const MAX_FAILURES: u32 = 3;

/// The tokens the gateway accepts.
#[derive(Debug, Default)]
pub struct TokenTable {
    tokens: Vec<ApiToken>,
}

impl TokenTable {
    pub fn new(tokens: Vec<ApiToken>) -> TokenTable {
        TokenTable { tokens }
    }

    /// No token configured: nobody needs to authenticate (loopback clients only).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The entry `candidate` matches, comparing with every entry in constant time.
    pub fn check(&self, candidate: &str) -> Option<&ApiToken> {
        let digest = token_digest(candidate);
        let mut found = None;
        for token in &self.tokens {
            let equal: bool = token.digest.ct_eq(&digest).into();
            if equal && found.is_none() {
                found = Some(token);
            }
        }
        found
    }
}

/// What to do with one parsed line.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the core as it is.
    Pass(Result<(ReplyTag, Request), Fault>),
    /// A right token: the core answers `tag` with `{}` and applies `scope`.
    Authenticated {
        tag: ReplyTag,
        scope: Scope,
        name: String,
    },
    /// Answer `fault`; with `close`, then close the connection.
    Refused { fault: Fault, close: bool },
}

enum State {
    /// No tokens configured.
    Open,
    Waiting {
        failures: u32,
    },
    Done {
        token: ApiToken,
    },
}

/// One connection's handshake state.
pub struct AuthGate {
    table: Arc<TokenTable>,
    state: State,
}

impl AuthGate {
    pub fn new(table: Arc<TokenTable>) -> AuthGate {
        let state = if table.is_empty() {
            State::Open
        } else {
            State::Waiting { failures: 0 }
        };
        AuthGate { table, state }
    }

    /// Requests pass (no token needed, or the right one was given).
    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Waiting { .. })
    }

    pub fn check(&mut self, parsed: Result<(ReplyTag, Request), Fault>) -> Verdict {
        let (tag, token) = match parsed {
            Ok((tag, Request::Authenticate { token })) => (tag, token),
            other if self.is_open() => return Verdict::Pass(other),
            other => {
                let tag = match other {
                    Ok((tag, _)) => Some(tag),
                    Err(f) => f.tag,
                };
                return self.fail(tag);
            }
        };
        match &self.state {
            State::Open => Verdict::Authenticated {
                tag,
                scope: Scope::full(),
                name: "no token".into(),
            },
            State::Waiting { .. } => match self.table.check(&token.0).cloned() {
                Some(found) => {
                    let verdict = authenticated(tag, &found);
                    self.state = State::Done { token: found };
                    verdict
                }
                None => self.fail(Some(tag)),
            },
            // Once authenticated, a connection keeps its scope: the same token again is fine,
            // any other is refused (and does not count towards closing).
            State::Done { token: current } => {
                let same: bool = current.digest.ct_eq(&token_digest(&token.0)).into();
                if same {
                    authenticated(tag, current)
                } else {
                    Verdict::Refused {
                        fault: unauthenticated(Some(tag)),
                        close: false,
                    }
                }
            }
        }
    }

    fn fail(&mut self, tag: Option<ReplyTag>) -> Verdict {
        let failures = match &mut self.state {
            State::Waiting { failures } => {
                *failures += 1;
                *failures
            }
            _ => 0,
        };
        Verdict::Refused {
            fault: unauthenticated(tag),
            close: failures >= MAX_FAILURES,
        }
    }
}

fn authenticated(tag: ReplyTag, token: &ApiToken) -> Verdict {
    Verdict::Authenticated {
        tag,
        scope: token.scope.clone(),
        name: token.name.clone(),
    }
}

fn unauthenticated(tag: Option<ReplyTag>) -> Fault {
    fault(tag, UNAUTHENTICATED, "unauthenticated")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::protocol::parse_request;
    use crate::tapi::LineScope;

    fn table() -> Arc<TokenTable> {
        Arc::new(TokenTable::new(vec![
            ApiToken {
                digest: token_digest("right"),
                scope: Scope::full(),
                name: "api.token".into(),
            },
            ApiToken {
                digest: token_digest("monitor"),
                scope: Scope {
                    lines: LineScope::Users(vec!["1001".into()]),
                    may_own: false,
                },
                name: "mon".into(),
            },
        ]))
    }

    fn auth(token: &str) -> Result<(ReplyTag, Request), Fault> {
        parse_request(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"authenticate","params":{{"token":"{token}"}}}}"#
        ))
    }

    fn other() -> Result<(ReplyTag, Request), Fault> {
        parse_request(r#"{"jsonrpc":"2.0","id":2,"method":"lineShutdown","params":{"hLineApp":1}}"#)
    }

    fn refused(v: &Verdict) -> Option<bool> {
        match v {
            Verdict::Refused { fault, close } => {
                assert_eq!(fault.code, UNAUTHENTICATED);
                Some(*close)
            }
            _ => None,
        }
    }

    #[test]
    fn the_third_failure_closes() {
        let mut gate = AuthGate::new(table());
        assert_eq!(refused(&gate.check(other())), Some(false));
        assert_eq!(refused(&gate.check(auth("wrong"))), Some(false));
        assert_eq!(refused(&gate.check(parse_request("{oops"))), Some(true));
    }

    #[test]
    fn the_right_token_opens_with_its_scope() {
        let mut gate = AuthGate::new(table());
        assert_eq!(refused(&gate.check(auth("righ"))), Some(false));
        match gate.check(auth("monitor")) {
            Verdict::Authenticated { scope, name, .. } => {
                assert!(!scope.may_own);
                assert_eq!(name, "mon");
            }
            v => panic!("{v:?}"),
        }
        assert!(matches!(gate.check(other()), Verdict::Pass(Ok(_))));
        assert!(matches!(
            gate.check(auth("monitor")),
            Verdict::Authenticated { .. }
        ));
        // Another token does not widen the scope, and does not close the connection.
        assert_eq!(refused(&gate.check(auth("right"))), Some(false));
        assert_eq!(refused(&gate.check(auth("right"))), Some(false));
        assert_eq!(refused(&gate.check(auth("right"))), Some(false));
    }

    #[test]
    fn without_tokens_everything_passes() {
        let mut gate = AuthGate::new(Arc::new(TokenTable::default()));
        assert!(matches!(gate.check(other()), Verdict::Pass(Ok(_))));
        assert!(matches!(
            gate.check(auth("anything")),
            Verdict::Authenticated { scope, .. } if scope.is_full()
        ));
    }
}
