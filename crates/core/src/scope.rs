//! Scopes as a typed, ordered, duplicate-free set.
//!
//! OAuth scopes travel as one space-separated string (RFC 6749 §3.3). Order is
//! kept as first seen so a response's `scope` reads the way it was asked for.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The scopes OpenID Connect defines; they never need an API audience.
pub const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "address", "phone"];
/// Asks for a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";
/// Makes a request an OpenID Connect one (an ID token, `/userinfo`).
pub const OPENID: &str = "openid";

/// True for the scopes that belong to OpenID Connect itself (not to an API).
pub fn is_oidc_scope(scope: &str) -> bool {
    OIDC_SCOPES.contains(&scope)
}

/// A set of scopes in the order first seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<String>);

impl ScopeSet {
    /// The empty set.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Parses a space-separated scope string; empty words are skipped.
    pub fn parse(s: &str) -> Self {
        let mut set = Self::new();
        for word in s.split(' ').filter(|w| !w.is_empty()) {
            set.insert(word);
        }
        set
    }

    /// Adds `scope`; false when it was there already.
    pub fn insert(&mut self, scope: &str) -> bool {
        if self.contains(scope) {
            return false;
        }
        self.0.push(scope.to_string());
        true
    }

    /// Takes `scope` out; false when it was not there.
    pub fn remove(&mut self, scope: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|s| s != scope);
        self.0.len() != before
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Whether the set has no scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scopes in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// True when every scope of `self` is in `other`.
    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.iter().all(|s| other.contains(s))
    }

    /// The scopes in order, owned.
    pub fn to_vec(&self) -> Vec<String> {
        self.0.clone()
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl<S: AsRef<str>> FromIterator<S> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut set = Self::new();
        for s in iter {
            set.insert(s.as_ref());
        }
        set
    }
}

impl Serialize for ScopeSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ScopeSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dedupes_and_keeps_order() {
        let s = ScopeSet::parse("openid  profile openid read:x");
        assert_eq!(s.to_string(), "openid profile read:x");
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn subset() {
        let a = ScopeSet::parse("a b");
        assert!(a.is_subset_of(&ScopeSet::parse("b c a")));
        assert!(!ScopeSet::parse("a d").is_subset_of(&a));
    }
}
