//! Per-frame training info: a small ordered list of named scalars (step, episode, return,
//! reward, action, the env's own fields) that a publisher sends with a frame, under the same
//! seqlock as its pixels. The byte encoding is documented in `src/slot/FORMAT.md` ("Info").
//!
//! Consumers read it from [`crate::frame::Frame::info`]; [`Scalar`]'s `Display` formats one
//! value for a panel or a tile title, and `serde` writes an [`Info`] as a JSON object with
//! the fields in the publisher's order.

use std::fmt;

/// Most fields one info may carry.
pub const MAX_FIELDS: usize = 32;
/// Largest encoded info, in bytes.
pub const MAX_ENCODED: usize = 4096;
/// Longest key, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 64;

const TYPE_INT: u8 = 1;
const TYPE_FLOAT: u8 = 2;
const TYPE_BOOL: u8 = 3;
const TYPE_STR: u8 = 4;

/// One value of an info field.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A whole number.
    Int(i64),
    /// Always finite.
    Float(f64),
    /// True or false.
    Bool(bool),
    /// Text.
    Str(String),
}

impl Scalar {
    /// The value as a number, when it is one (bools count as 0/1): what a sparkline or a
    /// sort by field uses.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(f) => Some(*f),
            Scalar::Bool(b) => Some(*b as u8 as f64),
            Scalar::Str(_) => None,
        }
    }

    /// The type's name, as error messages say it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Int(_) => "int",
            Scalar::Float(_) => "float",
            Scalar::Bool(_) => "bool",
            Scalar::Str(_) => "str",
        }
    }
}

/// Compact and one-line: integers as they are, floats with at most 4 significant decimals
/// (scientific below 0.001 and from 10^6), bools as `true`/`false`, strings with control
/// characters escaped.
impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Float(v) => f.write_str(&format_float(*v)),
            Scalar::Str(s) => {
                for c in s.chars() {
                    if c.is_control() {
                        write!(f, "{}", c.escape_default())?;
                    } else {
                        write!(f, "{c}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

fn format_float(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        return format!("{v:.3e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0');
    if let Some(stripped) = s.strip_suffix('.') {
        format!("{stripped}.0")
    } else {
        s.to_string()
    }
}

impl serde::Serialize for Scalar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Scalar::Int(i) => s.serialize_i64(*i),
            Scalar::Float(v) => s.serialize_f64(*v),
            Scalar::Bool(b) => s.serialize_bool(*b),
            Scalar::Str(v) => s.serialize_str(v),
        }
    }
}

/// Why an info cannot be encoded or decoded. One line, no newline.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InfoError {
    /// More than [`MAX_FIELDS`] fields (the count).
    #[error("info has {0} fields, at most {MAX_FIELDS} are allowed")]
    TooManyFields(usize),
    /// Encodes to more than [`MAX_ENCODED`] bytes (the size).
    #[error("info encodes to {0} bytes, at most {MAX_ENCODED} are allowed")]
    TooBig(usize),
    /// A key that is empty, too long or not printable UTF-8.
    #[error("info key {0:?} is not 1-{MAX_KEY_BYTES} bytes of printable UTF-8")]
    BadKey(String),
    /// A key given twice.
    #[error("info key {0:?} appears twice")]
    DuplicateKey(String),
    /// A float field that is NaN or infinite (its key).
    #[error("info field {0:?} is not a finite number")]
    NotFinite(String),
    /// The encoded bytes are damaged at `offset`.
    #[error("info damaged at byte {offset}: {what}")]
    Damaged {
        /// Where, in bytes from the start of the encoded info.
        offset: usize,
        /// What is wrong there.
        what: &'static str,
    },
}

/// The info of one frame: fields in the publisher's order, keys unique.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Info {
    fields: Vec<(String, Scalar)>,
}

fn key_ok(key: &str) -> bool {
    (1..=MAX_KEY_BYTES).contains(&key.len()) && !key.chars().any(char::is_control)
}

impl Info {
    /// No fields.
    pub fn new() -> Info {
        Info::default()
    }

    /// Appends a field; refuses bad keys, duplicates, non-finite floats and a 33rd field.
    pub fn push(&mut self, key: impl Into<String>, value: Scalar) -> Result<(), InfoError> {
        let key = key.into();
        if !key_ok(&key) {
            return Err(InfoError::BadKey(key));
        }
        if self.get(&key).is_some() {
            return Err(InfoError::DuplicateKey(key));
        }
        if matches!(value, Scalar::Float(v) if !v.is_finite()) {
            return Err(InfoError::NotFinite(key));
        }
        if self.fields.len() == MAX_FIELDS {
            return Err(InfoError::TooManyFields(MAX_FIELDS + 1));
        }
        self.fields.push((key, value));
        Ok(())
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[(String, Scalar)] {
        &self.fields
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Scalar> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True without fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields as one line: `step=120 episode=3 reward=0.5`.
    pub fn line(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&format!("{k}={v}"));
        }
        out
    }

    /// The slot and recording encoding (FORMAT.md, "Info").
    pub fn encode(&self) -> Result<Vec<u8>, InfoError> {
        if self.fields.len() > MAX_FIELDS {
            return Err(InfoError::TooManyFields(self.fields.len()));
        }
        let mut out = vec![self.fields.len() as u8];
        for (k, v) in &self.fields {
            let code = match v {
                Scalar::Int(_) => TYPE_INT,
                Scalar::Float(_) => TYPE_FLOAT,
                Scalar::Bool(_) => TYPE_BOOL,
                Scalar::Str(_) => TYPE_STR,
            };
            out.push(code);
            out.push(k.len() as u8);
            out.extend_from_slice(k.as_bytes());
        }
        for (_, v) in &self.fields {
            match v {
                Scalar::Int(i) => out.extend_from_slice(&i.to_le_bytes()),
                Scalar::Float(f) => out.extend_from_slice(&f.to_le_bytes()),
                Scalar::Bool(b) => out.push(*b as u8),
                Scalar::Str(s) => {
                    let n = s.len().min(MAX_ENCODED + 1) as u16;
                    out.extend_from_slice(&n.to_le_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
            }
            if out.len() > MAX_ENCODED {
                return Err(InfoError::TooBig(out.len()));
            }
        }
        Ok(out)
    }

    /// Decodes [`Info::encode`]'s bytes. Never panics; memory is bounded by the input, which
    /// may be at most [`MAX_ENCODED`] bytes.
    pub fn decode(bytes: &[u8]) -> Result<Info, InfoError> {
        if bytes.len() > MAX_ENCODED {
            return Err(InfoError::TooBig(bytes.len()));
        }
        let mut r = Cursor { b: bytes, pos: 0 };
        let count = r.u8("field count missing")? as usize;
        if count > MAX_FIELDS {
            return Err(InfoError::TooManyFields(count));
        }
        let mut keys: Vec<(u8, String)> = Vec::with_capacity(count);
        for _ in 0..count {
            let at = r.pos;
            let code = r.u8("field type missing")?;
            if !(TYPE_INT..=TYPE_STR).contains(&code) {
                return Err(damaged(at, "unknown field type"));
            }
            let n = r.u8("key length missing")? as usize;
            let at = r.pos;
            let raw = r.take(n, "key cut short")?;
            let key = std::str::from_utf8(raw).map_err(|_| damaged(at, "key is not UTF-8"))?;
            if !key_ok(key) {
                return Err(damaged(
                    at,
                    "key is empty, too long or has control characters",
                ));
            }
            if keys.iter().any(|(_, k)| k == key) {
                return Err(damaged(at, "duplicate key"));
            }
            keys.push((code, key.to_string()));
        }
        let mut fields = Vec::with_capacity(count);
        for (code, key) in keys {
            let at = r.pos;
            let value = match code {
                TYPE_INT => Scalar::Int(i64::from_le_bytes(r.array("int value cut short")?)),
                TYPE_FLOAT => {
                    let v = f64::from_le_bytes(r.array("float value cut short")?);
                    if !v.is_finite() {
                        return Err(damaged(at, "float value is not finite"));
                    }
                    Scalar::Float(v)
                }
                TYPE_BOOL => match r.u8("bool value missing")? {
                    0 => Scalar::Bool(false),
                    1 => Scalar::Bool(true),
                    _ => return Err(damaged(at, "bool value is not 0 or 1")),
                },
                _ => {
                    let n = u16::from_le_bytes(r.array("string length cut short")?) as usize;
                    let at = r.pos;
                    let raw = r.take(n, "string value cut short")?;
                    let s = std::str::from_utf8(raw)
                        .map_err(|_| damaged(at, "string value is not UTF-8"))?;
                    Scalar::Str(s.to_string())
                }
            };
            fields.push((key, value));
        }
        if r.pos != bytes.len() {
            return Err(damaged(r.pos, "bytes after the last field"));
        }
        Ok(Info { fields })
    }
}

fn damaged(offset: usize, what: &'static str) -> InfoError {
    InfoError::Damaged { offset, what }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], InfoError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or(damaged(self.pos, what))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, InfoError> {
        Ok(self.take(1, what)?[0])
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], InfoError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
}

/// A JSON object with the fields in order.
impl serde::Serialize for Info {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl fmt::Display for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Info {
        let mut i = Info::new();
        i.push("step", Scalar::Int(1234)).unwrap();
        i.push("episode_return", Scalar::Float(-12.5)).unwrap();
        i.push("done", Scalar::Bool(true)).unwrap();
        i.push("map", Scalar::Str("Pallet Town é".into())).unwrap();
        i
    }

    #[test]
    fn round_trip_keeps_order_and_types() {
        let i = sample();
        let bytes = i.encode().unwrap();
        assert_eq!(Info::decode(&bytes).unwrap(), i);
        assert_eq!(
            serde_json::to_string(&i).unwrap(),
            r#"{"step":1234,"episode_return":-12.5,"done":true,"map":"Pallet Town é"}"#
        );
        assert_eq!(
            i.line(),
            "step=1234 episode_return=-12.5 done=true map=Pallet Town é"
        );
    }

    #[test]
    fn python_layout_is_decoded() {
        // What examples/python/gbwatch/__init__.py writes for {"a": 1, "b": 0.5, "c": False, "d": "x"}.
        let mut b = vec![4u8];
        for (t, k) in [(1u8, "a"), (2, "b"), (3, "c"), (4, "d")] {
            b.extend_from_slice(&[t, 1]);
            b.extend_from_slice(k.as_bytes());
        }
        b.extend_from_slice(&1i64.to_le_bytes());
        b.extend_from_slice(&0.5f64.to_le_bytes());
        b.push(0);
        b.extend_from_slice(&1u16.to_le_bytes());
        b.push(b'x');
        let i = Info::decode(&b).unwrap();
        assert_eq!(i.line(), "a=1 b=0.5 c=false d=x");
    }

    #[test]
    fn values_format_compactly() {
        let f = |v: f64| Scalar::Float(v).to_string();
        assert_eq!(f(2.0), "2.0");
        assert_eq!(f(0.25), "0.25");
        assert_eq!(f(1.0 / 3.0), "0.3333");
        assert_eq!(f(-1234.5), "-1234.5");
        assert_eq!(f(1e-5), "1.000e-5");
        assert_eq!(f(3e9), "3.000e9");
        assert_eq!(Scalar::Str("a\nb".into()).to_string(), "a\\nb");
        assert_eq!(Scalar::Int(-3).to_string(), "-3");
    }

    #[test]
    fn limits_are_enforced() {
        let mut i = Info::new();
        for n in 0..MAX_FIELDS {
            i.push(format!("k{n}"), Scalar::Int(n as i64)).unwrap();
        }
        assert_eq!(
            i.push("one-more", Scalar::Int(0)),
            Err(InfoError::TooManyFields(33))
        );
        let mut i = Info::new();
        assert!(i.push("", Scalar::Int(0)).is_err());
        assert!(i.push("x".repeat(65), Scalar::Int(0)).is_err());
        assert!(i.push("nan", Scalar::Float(f64::NAN)).is_err());
        i.push("s", Scalar::Str("y".repeat(5000))).unwrap();
        assert!(matches!(i.encode(), Err(InfoError::TooBig(_))));
        assert!(Info::decode(&vec![0u8; MAX_ENCODED + 1]).is_err());
    }

    #[test]
    fn damage_is_one_line_with_an_offset() {
        let bytes = sample().encode().unwrap();
        for cut in 0..bytes.len() {
            let e = Info::decode(&bytes[..cut]).unwrap_err();
            assert!(!e.to_string().contains('\n'));
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            Info::decode(&long).unwrap_err().to_string(),
            format!(
                "info damaged at byte {}: bytes after the last field",
                bytes.len()
            )
        );
        let mut nan = Info::new();
        nan.push("x", Scalar::Float(1.0)).unwrap();
        let mut b = nan.encode().unwrap();
        let n = b.len();
        b[n - 8..].copy_from_slice(&f64::NAN.to_le_bytes());
        assert!(Info::decode(&b).is_err());
    }
}
