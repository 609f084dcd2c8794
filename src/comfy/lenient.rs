//! Lenient JSON: ComfyUI serialises non-finite floats as the bare tokens `NaN`,
//! `Infinity` and `-Infinity`, which strict JSON parsers reject.

use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// Parses `text`, first retrying with non-finite float tokens turned into `null` when
/// the strict parse fails. Only text outside strings is touched.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(strict_error) => match replace_non_finite(text) {
            Cow::Owned(fixed) => serde_json::from_str(&fixed),
            Cow::Borrowed(_) => Err(strict_error),
        },
    }
}

/// Replaces `NaN`, `Infinity` and `-Infinity` tokens outside string literals by `null`.
pub fn replace_non_finite(text: &str) -> Cow<'_, str> {
    const TOKENS: [&str; 3] = ["-Infinity", "Infinity", "NaN"];
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied_to = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if let Some(token) = TOKENS.iter().find(|t| bytes[i..].starts_with(t.as_bytes())) {
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buf.push_str(&text[copied_to..i]);
            buf.push_str("null");
            i += token.len();
            copied_to = i;
            continue;
        }
        i += 1;
    }
    match out {
        Some(mut buf) => {
            buf.push_str(&text[copied_to..]);
            Cow::Owned(buf)
        }
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn non_finite_tokens_become_null_outside_strings() {
        let v: Value = from_str(r#"{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN in text"}"#)
            .expect("lenient parse");
        assert_eq!(v, json!({"a": null, "b": [null, null], "c": "NaN in text"}));
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        let v: Value = from_str(r#"{"a": "say \"NaN\"", "b": NaN}"#).expect("lenient parse");
        assert_eq!(v, json!({"a": "say \"NaN\"", "b": null}));
    }

    #[test]
    fn broken_json_still_fails() {
        assert!(from_str::<Value>("{\"a\": ").is_err());
    }
}
