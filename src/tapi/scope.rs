//! What one API connection may see and do, from the token it authenticated with
//! (`api.token` / `[[api.tokens]]`, docs/configuration.md): the lines it sees (by line user) and
//! whether it may ever own a call. TAPISRV applies it (`server::scope`); the API layer decides it.
//!
//! A scoped connection sees its lines as devices 0..n-1 (in device-ID order), as a client of a
//! Windows telephony server sees only the lines assigned to its user, numbered for it.

use std::fmt;

/// The lines a token may see.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LineScope {
    /// Every line, with the gateway's own device IDs.
    #[default]
    All,
    /// Only the lines whose `user` is listed.
    Users(Vec<String>),
}

/// One connection's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub lines: LineScope,
    /// False for `max_privilege = "monitor"`: never an owner, never an action on a call.
    pub may_own: bool,
}

impl Default for Scope {
    fn default() -> Self {
        Scope::full()
    }
}

impl Scope {
    /// Everything (no token, or `api.token`).
    pub fn full() -> Scope {
        Scope {
            lines: LineScope::All,
            may_own: true,
        }
    }

    /// Every line, owner rights: nothing to restrict.
    pub fn is_full(&self) -> bool {
        self.may_own && self.lines == LineScope::All
    }

    /// Whether the line of `user` is visible.
    pub fn sees(&self, user: &str) -> bool {
        match &self.lines {
            LineScope::All => true,
            LineScope::Users(users) => users.iter().any(|u| u == user),
        }
    }

    /// True when device IDs are renumbered for this connection.
    pub fn renumbers(&self) -> bool {
        self.lines != LineScope::All
    }
}

/// A token as an app sent it: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(pub String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_see_their_users_only() {
        let scoped = Scope {
            lines: LineScope::Users(vec!["1001".into()]),
            may_own: false,
        };
        assert!(scoped.sees("1001") && !scoped.sees("1002"));
        assert!(!scoped.is_full() && scoped.renumbers());
        assert!(Scope::full().is_full() && Scope::full().sees("x"));
        assert_eq!(format!("{:?}", Token("secret".into())), "Token(..)");
    }
}
