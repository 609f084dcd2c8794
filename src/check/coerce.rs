//! Python's `int()`, `float()` and `==` as ComfyUI's `validate_inputs` applies them to
//! literal inputs: a value passes when Python would convert it, and the range check sees
//! the converted value. Being exactly as lenient is the point: anything the server would
//! convert must pass here.

use serde_json::{Number, Value};
use std::cmp::Ordering;

/// A converted number, exact for whole numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    pub fn from_json(n: &Number) -> Self {
        if let Some(i) = n.as_i64() {
            Self::Int(i128::from(i))
        } else if let Some(u) = n.as_u64() {
            Self::Int(i128::from(u))
        } else {
            Self::Float(n.as_f64().unwrap_or(f64::NAN))
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            // Precision loss only matters beyond 2^53, where bounds are whole numbers
            // compared exactly below.
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }

    /// `None` when Python's comparison is false both ways (NaN).
    pub fn compare(self, other: Self) -> Option<Ordering> {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
        }
    }
}

/// Why a conversion did not give a number.
#[derive(Debug, Clone, PartialEq)]
pub enum NotConverted {
    /// Python raises: the server refuses the value.
    Fails(String),
    /// Python might accept it in ways not mirrored here (non-ASCII digits).
    Unsure(String),
}

/// Python's `int(value)`.
pub fn to_int(value: &Value) -> Result<Num, NotConverted> {
    match value {
        Value::Number(n) => match Num::from_json(n) {
            Num::Float(f) if f.is_nan() => Err(NotConverted::Fails(
                "cannot convert NaN to an integer".into(),
            )),
            Num::Float(f) if f.is_infinite() => Err(NotConverted::Fails(
                "cannot convert infinity to an integer".into(),
            )),
            Num::Float(f) => Ok(Num::Int(f.trunc() as i128)),
            int => Ok(int),
        },
        Value::Bool(b) => Ok(Num::Int(i128::from(*b))),
        Value::String(s) => int_from_str(s),
        other => Err(NotConverted::Fails(format!(
            "{} cannot be converted to a whole number",
            describe(other)
        ))),
    }
}

/// Python's `float(value)`.
pub fn to_float(value: &Value) -> Result<Num, NotConverted> {
    match value {
        Value::Number(n) => Ok(Num::Float(Num::from_json(n).as_f64())),
        Value::Bool(b) => Ok(Num::Float(if *b { 1.0 } else { 0.0 })),
        Value::String(s) => float_from_str(s),
        other => Err(NotConverted::Fails(format!(
            "{} cannot be converted to a number",
            describe(other)
        ))),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Python strips whitespace and accepts `_` between digits (`"1_000"`).
fn python_digits(s: &str) -> Result<String, NotConverted> {
    let trimmed = s.trim();
    if !trimmed.is_ascii() {
        return Err(NotConverted::Unsure(format!(
            "`{trimmed}` has non-ASCII characters, which Python may read as digits"
        )));
    }
    let bytes = trimmed.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let digit = |j: Option<&u8>| j.is_some_and(u8::is_ascii_digit);
            if !(i > 0 && digit(bytes.get(i - 1)) && digit(bytes.get(i + 1))) {
                return Err(not_a_number(s));
            }
        } else {
            out.push(b as char);
        }
    }
    Ok(out)
}

fn not_a_number(s: &str) -> NotConverted {
    NotConverted::Fails(format!("\"{s}\" is not a number"))
}

fn int_from_str(s: &str) -> Result<Num, NotConverted> {
    let digits = python_digits(s)?;
    let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(&digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NotConverted::Fails(format!(
            "\"{s}\" is not a whole number"
        )));
    }
    match digits.parse::<i128>() {
        Ok(i) => Ok(Num::Int(i)),
        // Python's ints are unbounded; beyond i128 an approximation still ranks right.
        Err(_) => Ok(Num::Float(digits.parse::<f64>().unwrap_or(f64::INFINITY))),
    }
}

fn float_from_str(s: &str) -> Result<Num, NotConverted> {
    let digits = python_digits(s)?;
    let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(&digits);
    let lower = unsigned.to_ascii_lowercase();
    // Python spells the specials `inf`, `infinity` and `nan` in any case, nothing else.
    let special = matches!(lower.as_str(), "inf" | "infinity" | "nan");
    let numeric = !unsigned.is_empty()
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !special && !numeric {
        return Err(not_a_number(s));
    }
    digits
        .parse::<f64>()
        .map(Num::Float)
        .map_err(|_| not_a_number(s))
}

/// Python's `a == b` for JSON values (`1 == 1.0 == True`), as `val in combo_list` uses.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    let number = |v: &Value| match v {
        Value::Number(n) => Some(Num::from_json(n)),
        Value::Bool(x) => Some(Num::Int(i128::from(*x))),
        _ => None,
    };
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.compare(y) == Some(Ordering::Equal),
        (None, None) => match (a, b) {
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
            }
            _ => a == b,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn int(v: Value) -> Result<Num, NotConverted> {
        to_int(&v)
    }

    fn float(v: Value) -> Result<Num, NotConverted> {
        to_float(&v)
    }

    #[test]
    fn int_accepts_what_python_accepts() {
        assert_eq!(int(json!(5)), Ok(Num::Int(5)));
        assert_eq!(int(json!(5.9)), Ok(Num::Int(5)));
        assert_eq!(int(json!(-5.9)), Ok(Num::Int(-5)));
        assert_eq!(int(json!(true)), Ok(Num::Int(1)));
        assert_eq!(int(json!(" +7 ")), Ok(Num::Int(7)));
        assert_eq!(int(json!("1_000")), Ok(Num::Int(1000)));
        assert_eq!(int(json!(u64::MAX)), Ok(Num::Int(i128::from(u64::MAX))));
        assert!(matches!(
            int(json!("99999999999999999999999999999999999999999999")),
            Ok(Num::Float(_))
        ));
    }

    #[test]
    fn int_refuses_what_python_refuses() {
        for bad in [
            json!("5.0"),
            json!("randomize"),
            json!(""),
            json!("1__0"),
            json!("_1"),
            json!(null),
            json!({"a": 1}),
        ] {
            assert!(matches!(to_int(&bad), Err(NotConverted::Fails(_))), "{bad}");
        }
        assert!(matches!(int(json!("٣")), Err(NotConverted::Unsure(_))));
    }

    #[test]
    fn float_accepts_what_python_accepts() {
        assert_eq!(float(json!(2)), Ok(Num::Float(2.0)));
        assert_eq!(float(json!(" 1e3 ")), Ok(Num::Float(1000.0)));
        assert_eq!(float(json!("1_0.5")), Ok(Num::Float(10.5)));
        assert_eq!(float(json!(".5")), Ok(Num::Float(0.5)));
        assert_eq!(float(json!("-Infinity")), Ok(Num::Float(f64::NEG_INFINITY)));
        assert!(matches!(float(json!("nan")), Ok(Num::Float(f)) if f.is_nan()));
        assert_eq!(float(json!(false)), Ok(Num::Float(0.0)));
        for bad in [
            json!("abc"),
            json!("1,5"),
            json!("0x10"),
            json!(null),
            json!(""),
        ] {
            assert!(
                matches!(to_float(&bad), Err(NotConverted::Fails(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn comparisons_are_exact_for_big_ints_and_false_for_nan() {
        let max = Num::Int(i128::from(u64::MAX));
        assert_eq!(
            Num::Int(i128::from(u64::MAX) - 1).compare(max),
            Some(Ordering::Less)
        );
        assert_eq!(Num::Float(f64::NAN).compare(Num::Int(1)), None);
        assert_eq!(
            Num::Float(1.5).compare(Num::Int(1)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn python_equality() {
        assert!(py_eq(&json!(8), &json!(8.0)));
        assert!(py_eq(&json!(true), &json!(1)));
        assert!(py_eq(&json!("a"), &json!("a")));
        assert!(!py_eq(&json!("8"), &json!(8)));
        assert!(!py_eq(&json!("A"), &json!("a")));
    }
}
