//! Untrusted text from the server made safe for a terminal: control characters and
//! escape sequences never reach the screen.

use std::borrow::Cow;

/// Removes C0/C1 control characters (and so every escape sequence's introducer) from
/// `text`. Tabs become spaces; newlines are kept only when `keep_newlines` is set.
pub fn sanitize_with(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let is_bad = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !text.chars().any(|c| is_bad(c) || is_invisible_format(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // 8-bit CSI/OSC/DCS introducers: the sequence that follows goes too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\t' => out.push(' '),
            c if is_bad(c) || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// One line of untrusted text: no controls, no newlines.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    sanitize_with(text, false)
}

/// Bidirectional overrides can make a file name read differently from what it is.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // Two-character sequences (ESC c, ESC 7, ...): the second character goes too.
        _ => {}
    }
}

/// CSI: parameters and intermediates up to a final byte in `@`..=`~`.
fn skip_csi(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

/// OSC/DCS/...: up to BEL or ST (`ESC \`).
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        if c == '\u{7}' || c == '\u{9c}' {
            break;
        }
        if c == '\u{1b}' {
            if chars.peek() == Some(&'\\') {
                chars.next();
            }
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_removed_whole() {
        let hostile = "boom\x1b]0;owned\x07 and \x1b[2J cleared\x1b[31m red";
        assert_eq!(sanitize(hostile), "boom and  cleared red");
    }

    #[test]
    fn controls_and_newlines() {
        assert_eq!(sanitize("a\u{0}b\rc\nd\te"), "abcd e");
        assert_eq!(sanitize_with("a\nb\u{7}", true), "a\nb");
        assert_eq!(sanitize("x\u{9b}2Jy\u{9d}t\u{9c}z"), "xyz");
        assert_eq!(sanitize("a\u{202e}gnp.exe"), "agnp.exe");
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(sanitize("plain ünïcode"), Cow::Borrowed(_)));
    }
}
