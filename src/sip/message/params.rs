//! Generic `;name[=value]` parameter lists used by URIs, name-addrs and Via (RFC 3261 §25.1).

use std::fmt;

use super::wire::WriteWire;

/// One parameter. Names compare case-insensitively (RFC 3261 §19.1.4, §20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}

/// An ordered parameter list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<Param>);

impl Params {
    pub fn new() -> Self {
        Params(Vec::new())
    }

    /// The parameter's value: `Some(None)` for a flag such as `lr`, `None` when absent.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_deref())
    }

    /// The parameter's value when it has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets (replacing) a parameter.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_string);
        match self
            .0
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        {
            Some(p) => p.value = value,
            None => self.push_compact(Param {
                name: name.to_string(),
                value,
            }),
        }
    }

    /// Adds a parameter; a first one gets room for itself only (a Vec's first growth is four
    /// slots, 192 bytes, and most of ours carry one parameter: a tag, a branch).
    fn push_compact(&mut self, param: Param) {
        if self.0.capacity() == 0 {
            self.0.reserve_exact(1);
        }
        self.0.push(param);
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl WriteWire for Params {
    /// Writes `;a=b;c` (nothing for an empty list).
    fn write_wire<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        for p in &self.0 {
            out.write_char(';')?;
            out.write_str(&p.name)?;
            if let Some(v) = &p.value {
                out.write_char('=')?;
                out.write_str(v)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_wire(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_remove_display() {
        let mut p = Params::new();
        p.set("tag", Some("abc"));
        p.set("lr", None);
        assert_eq!(p.value("TAG"), Some("abc"));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.get("x"), None);
        assert_eq!(p.to_string(), ";tag=abc;lr");
        p.set("Tag", Some("def"));
        assert_eq!(p.to_string(), ";tag=def;lr");
        p.remove("lr");
        assert_eq!(p.to_string(), ";tag=def");
    }
}
