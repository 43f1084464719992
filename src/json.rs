//! Strict JSON objects: the enrollment messages and the app's stored records.
//!
//! [miniserde](https://docs.rs/miniserde) (David Tolnay's JSON library built for small
//! code) parses a message into a `Value`; [`Fields`] then takes each expected field by
//! name and type and refuses fields it does not know, so each message has exactly one
//! shape. None of this is generic per message type, which is what keeps the mobile
//! library small: serde_json's derived parsers for the same messages cost 38 KB more
//! (BENCHMARKS.md, "Library size").
//!
//! Duplicate keys: the last one wins (a parsed object is a map). Every message is
//! authenticated (the enrollment transcript hash, or AES-GCM for stored records), so
//! that cannot change what the two sides agree on. Error messages name our field names,
//! never the input.

use miniserde::json::{self, Number, Object, Value};

/// Why a JSON object was refused. The text never repeats the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not UTF-8, or not JSON.
    #[error("not valid JSON")]
    Syntax,
    /// Valid JSON, but not an object.
    #[error("not a JSON object")]
    NotAnObject,
    /// A field this format does not have.
    #[error("an unknown field")]
    Unknown,
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// A field of the wrong JSON type, or a number out of range.
    #[error("field `{0}` has the wrong type or is out of range")]
    Type(&'static str),
}

/// The fields of one parsed JSON object, taken one by one.
pub(crate) struct Fields(Object);

impl Fields {
    /// Parses `bytes` as one JSON object. With `known`, a field not in it is refused.
    pub(crate) fn parse(bytes: &[u8], known: Option<&[&str]>) -> Result<Self, JsonError> {
        let text = std::str::from_utf8(bytes).map_err(|_| JsonError::Syntax)?;
        match json::from_str::<Value>(text).map_err(|_| JsonError::Syntax)? {
            Value::Object(object) => {
                let fields = Self(object);
                if let Some(known) = known {
                    fields.only(known)?;
                }
                Ok(fields)
            }
            _ => Err(JsonError::NotAnObject),
        }
    }

    /// Refuses the object if a field not yet taken is not in `known`.
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), JsonError> {
        if self.0.keys().any(|k| !known.contains(&k.as_str())) {
            return Err(JsonError::Unknown);
        }
        Ok(())
    }

    fn take(&mut self, key: &'static str) -> Result<Value, JsonError> {
        self.0.remove(key).ok_or(JsonError::Missing(key))
    }

    /// A required string.
    pub(crate) fn string(&mut self, key: &'static str) -> Result<String, JsonError> {
        match self.take(key)? {
            Value::String(s) => Ok(s),
            _ => Err(JsonError::Type(key)),
        }
    }

    /// A string that may be absent or `null`.
    pub(crate) fn opt_string(&mut self, key: &'static str) -> Result<Option<String>, JsonError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(JsonError::Type(key)),
        }
    }

    /// A required non-negative integer that fits `T`.
    pub(crate) fn uint<T: TryFrom<u64>>(&mut self, key: &'static str) -> Result<T, JsonError> {
        match self.take(key)? {
            Value::Number(Number::U64(n)) => T::try_from(n).map_err(|_| JsonError::Type(key)),
            _ => Err(JsonError::Type(key)),
        }
    }

    /// A non-negative integer that fits `T`, or nothing when absent or `null`.
    pub(crate) fn opt_uint<T: TryFrom<u64>>(
        &mut self,
        key: &'static str,
    ) -> Result<Option<T>, JsonError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(Number::U64(n))) => {
                T::try_from(n).map(Some).map_err(|_| JsonError::Type(key))
            }
            Some(_) => Err(JsonError::Type(key)),
        }
    }

    /// A required integer of either sign.
    pub(crate) fn int(&mut self, key: &'static str) -> Result<i64, JsonError> {
        match self.take(key)? {
            Value::Number(Number::U64(n)) => i64::try_from(n).map_err(|_| JsonError::Type(key)),
            Value::Number(Number::I64(n)) => Ok(n),
            _ => Err(JsonError::Type(key)),
        }
    }

    /// A required array of strings.
    pub(crate) fn string_list(&mut self, key: &'static str) -> Result<Vec<String>, JsonError> {
        match self.take(key)? {
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(JsonError::Type(key)),
                })
                .collect(),
            _ => Err(JsonError::Type(key)),
        }
    }

    /// A required JSON object, as its own `Fields`.
    pub(crate) fn object(&mut self, key: &'static str) -> Result<Fields, JsonError> {
        match self.take(key)? {
            Value::Object(object) => Ok(Self(object)),
            _ => Err(JsonError::Type(key)),
        }
    }

    /// A required object whose values are all strings, as pairs sorted by key.
    pub(crate) fn string_map(
        &mut self,
        key: &'static str,
    ) -> Result<Vec<(String, String)>, JsonError> {
        match self.take(key)? {
            Value::Object(object) => object
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    _ => Err(JsonError::Type(key)),
                })
                .collect(),
            _ => Err(JsonError::Type(key)),
        }
    }
}

/// Builds one JSON object.
#[derive(Default)]
pub(crate) struct Writer(Object);

impl Writer {
    /// An empty object.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Sets a string field.
    pub(crate) fn string(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.insert(key.into(), Value::String(value.into()));
        self
    }

    /// Sets a string field, or `null`.
    pub(crate) fn opt_string(mut self, key: &str, value: Option<&str>) -> Self {
        self.0.insert(key.into(), value.map_or(Value::Null, |s| Value::String(s.into())));
        self
    }

    /// Sets a non-negative integer field.
    pub(crate) fn uint(mut self, key: &str, value: impl Into<u64>) -> Self {
        self.0.insert(key.into(), Value::Number(Number::U64(value.into())));
        self
    }

    /// Sets a non-negative integer field, or `null`.
    pub(crate) fn opt_uint(mut self, key: &str, value: Option<u64>) -> Self {
        self.0.insert(key.into(), value.map_or(Value::Null, |n| Value::Number(Number::U64(n))));
        self
    }

    /// Sets an integer field of either sign.
    pub(crate) fn int(mut self, key: &str, value: i64) -> Self {
        let n = u64::try_from(value).map_or(Number::I64(value), Number::U64);
        self.0.insert(key.into(), Value::Number(n));
        self
    }

    /// Sets an array of strings.
    pub(crate) fn string_list(mut self, key: &str, items: &[String]) -> Self {
        let array = items.iter().map(|s| Value::String(s.clone())).collect();
        self.0.insert(key.into(), Value::Array(array));
        self
    }

    /// Sets a nested object.
    pub(crate) fn object(mut self, key: &str, value: Writer) -> Self {
        self.0.insert(key.into(), Value::Object(value.0));
        self
    }

    /// Sets an object of strings from pairs (a repeated key keeps the last value).
    pub(crate) fn string_map(mut self, key: &str, pairs: &[(String, String)]) -> Self {
        let mut object = Object::new();
        for (k, v) in pairs {
            object.insert(k.clone(), Value::String(v.clone()));
        }
        self.0.insert(key.into(), Value::Object(object));
        self
    }

    /// The object's JSON text (keys in sorted order).
    pub(crate) fn finish(self) -> Vec<u8> {
        json::to_string(&Value::Object(self.0)).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["s", "o", "u", "i", "m"];

    #[test]
    fn round_trip() {
        let map =
            vec![("a".to_string(), "1".to_string()), ("k".to_string(), "v\"\n한".to_string())];
        let bytes = Writer::new()
            .string("s", "text \u{1} \\ \"")
            .opt_string("o", None)
            .uint("u", u64::MAX)
            .int("i", -5)
            .string_map("m", &map)
            .finish();
        let mut f = Fields::parse(&bytes, Some(KNOWN)).unwrap();
        assert_eq!(f.string("s").unwrap(), "text \u{1} \\ \"");
        assert_eq!(f.opt_string("o").unwrap(), None);
        assert_eq!(f.uint::<u64>("u").unwrap(), u64::MAX);
        assert_eq!(f.int("i").unwrap(), -5);
        assert_eq!(f.string_map("m").unwrap(), map);
    }

    #[test]
    fn refusals_are_typed() {
        assert_eq!(Fields::parse(b"{\"s\":1", None).err(), Some(JsonError::Syntax));
        assert_eq!(Fields::parse(b"\xff", None).err(), Some(JsonError::Syntax));
        assert_eq!(Fields::parse(b"[1]", None).err(), Some(JsonError::NotAnObject));
        assert_eq!(Fields::parse(b"{\"zz\":1}", Some(KNOWN)).err(), Some(JsonError::Unknown));
        let mut f = Fields::parse(br#"{"s":1,"u":-1,"i":1.5,"m":{"a":1}}"#, Some(KNOWN)).unwrap();
        assert_eq!(f.string("s"), Err(JsonError::Type("s")));
        assert_eq!(f.uint::<u64>("u"), Err(JsonError::Type("u")));
        assert_eq!(f.int("i"), Err(JsonError::Type("i")));
        assert_eq!(f.string_map("m"), Err(JsonError::Type("m")));
        assert_eq!(f.string("o"), Err(JsonError::Missing("o")));
        assert_eq!(Fields::parse(b"{} {}", None).err(), Some(JsonError::Syntax));
        assert_eq!(Fields::parse(b"{\"s\":\"\\q\"}", None).err(), Some(JsonError::Syntax));
        let mut f = Fields::parse(br#"{"u":1e3,"v":18446744073709551616}"#, None).unwrap();
        assert_eq!(f.uint::<u64>("u"), Err(JsonError::Type("u")));
        assert_eq!(f.uint::<u64>("v"), Err(JsonError::Type("v")));
        let mut f = Fields::parse(br#"{"u":256}"#, None).unwrap();
        assert_eq!(f.uint::<u8>("u"), Err(JsonError::Type("u")));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert_eq!(Fields::parse(deep.as_bytes(), None).err(), Some(JsonError::Syntax));
        let nested = format!("{{\"s\":{}1{}}}", "[".repeat(50_000), "]".repeat(50_000));
        let mut f = Fields::parse(nested.as_bytes(), None).unwrap();
        assert_eq!(f.string("s"), Err(JsonError::Type("s")));
    }
}
