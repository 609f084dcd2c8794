//! Paths for people and for scripts. A path need not be UTF-8 (an output folder named
//! with Latin-1 bytes is a valid folder), so neither form may assume it: people get a
//! shell-quoted form they can paste, scripts get the exact bytes alongside the text.

use base64::Engine;
use std::path::Path;

/// The path as a person should see it: unchanged when it is UTF-8 (controls removed),
/// otherwise in bash's `$'…'` quoting with every byte that is not UTF-8 as `\xNN`, so
/// that pasting it into a shell names the same file.
pub fn display(path: &Path) -> String {
    match path.to_str() {
        Some(text) => crate::text::sanitize(text).into_owned(),
        None => shell_quoted(&bytes(path)),
    }
}

/// The path for JSON: the text (lossy where the path is not UTF-8), and, only when it is
/// not UTF-8, the exact bytes in standard base64 (the `path_bytes` field).
pub fn json_parts(path: &Path) -> (String, Option<String>) {
    match path.to_str() {
        Some(text) => (text.to_owned(), None),
        None => (
            path.to_string_lossy().into_owned(),
            Some(base64::engine::general_purpose::STANDARD.encode(bytes(path))),
        ),
    }
}

#[cfg(unix)]
fn bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}

fn shell_quoted(raw: &[u8]) -> String {
    let mut out = String::from("$'");
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\'' => out.push_str("\\'"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32 & 0xff)),
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out.push('\'');
    out
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn utf8_paths_are_shown_as_they_are() {
        assert_eq!(display(Path::new("out/a b.png")), "out/a b.png");
        assert_eq!(
            json_parts(Path::new("out/é.png")),
            ("out/é.png".into(), None)
        );
    }

    #[test]
    fn other_bytes_are_exact_in_both_forms() {
        let path = Path::new(OsStr::from_bytes(b"o_\xfe/it's.png"));
        assert_eq!(display(path), "$'o_\\xfe/it\\'s.png'");
        let (text, exact) = json_parts(path);
        assert_eq!(text, "o_\u{fffd}/it's.png");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(exact.expect("bytes"))
            .expect("base64");
        assert_eq!(decoded, b"o_\xfe/it's.png");
    }
}
