//! Python semantics ComfyUI's validation relies on: `int()`/`float()`/`str()`
//! conversions of literal inputs and `str()`/`repr()` of values in error messages.

use serde_json::Value;

/// Python-style `int()` / `float()` / `str()` conversion of a literal input.
pub fn convert(type_input: &Value, val: &Value) -> Result<Value, String> {
    match type_input.as_str() {
        Some("INT") => to_int(val).map(|i| {
            i64::try_from(i)
                .map(Value::from)
                .or_else(|_| u64::try_from(i).map(Value::from))
                .unwrap_or_else(|_| Value::from(i as f64))
        }),
        Some("FLOAT") => to_float(val).map(|f| {
            serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null)
        }),
        Some("STRING") => Ok(match val {
            Value::String(_) => val.clone(),
            other => Value::from(py_str(other)),
        }),
        _ => Ok(val.clone()),
    }
}

fn to_int(val: &Value) -> Result<i128, String> {
    match val {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Ok(i128::from(u))
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() {
                    Ok(f.trunc() as i128)
                } else {
                    Err("cannot convert float NaN to integer".to_owned())
                }
            }
        }
        Value::Bool(b) => Ok(i128::from(*b)),
        // Python also takes `_` between digits ("1_000").
        Value::String(s) => match crate::check::coerce::to_int(val) {
            Ok(crate::check::coerce::Num::Int(i)) => Ok(i),
            _ => Err(format!("invalid literal for int() with base 10: '{s}'")),
        },
        other => Err(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            py_type(other)
        )),
    }
}

fn to_float(val: &Value) -> Result<f64, String> {
    match val {
        Value::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => match crate::check::coerce::to_float(val) {
            Ok(crate::check::coerce::Num::Float(f)) => Ok(f),
            _ => Err(format!("could not convert string to float: '{s}'")),
        },
        other => Err(format!(
            "float() argument must be a string or a real number, not '{}'",
            py_type(other)
        )),
    }
}

/// Python's `str()` of a JSON value, as it shows up in ComfyUI's messages.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Null => "None".to_owned(),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 1e16 {
                format!("{f:.1}")
            } else {
                format!("{f}")
            }
        }
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(_) => v.to_string(),
    }
}

pub fn py_repr(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => py_str(other),
    }
}

pub fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `json.dumps(v)` with its defaults: `", "` and `": "` separators and
/// `ensure_ascii` (non-ASCII as `\uXXXX`), as ComfyUI writes PNG text chunks.
pub fn json_dumps(v: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyFormatter);
    // Serialising a `Value` into a Vec cannot fail.
    let _ = serde::Serialize::serialize(v, &mut ser);
    String::from_utf8(out).unwrap_or_default()
}

struct PyFormatter;

impl serde_json::ser::Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                w.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod dumps_tests {
    use super::*;

    #[test]
    fn dumps_matches_python() {
        let v: Value =
            serde_json::from_str(r#"{"a": [1, 2.5, "é😀"], "b": {"c": null, "d": true}}"#)
                .expect("json");
        assert_eq!(
            json_dumps(&v),
            r#"{"a": [1, 2.5, "\u00e9\ud83d\ude00"], "b": {"c": null, "d": true}}"#
        );
        assert_eq!(
            serde_json::from_str::<Value>(&json_dumps(&v)).expect("parses"),
            v
        );
    }
}
