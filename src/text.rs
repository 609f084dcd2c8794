//! Making server-supplied text safe to print: no control characters, no escape sequences.
//!
//! Titles, class names, messages, tracebacks, file names and log lines all come from a
//! server (or from custom nodes on it). Printed raw, `\x1b]0;...\x07` would retitle the
//! terminal and `\x1b[2J` would wipe it; in the worst case a terminal answers a query into
//! our input. Everything from the server goes through [`sanitize`] before it is drawn.

use std::borrow::Cow;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
/// The C1 string introducers and terminator (DCS, SOS, OSC, PM, APC, ST) and CSI.
const C1_CSI: char = '\u{9b}';
const C1_ST: char = '\u{9c}';

/// One line of text with every control character and escape sequence removed.
/// Newlines, carriage returns and tabs become spaces (a line must stay one line).
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_work) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => match chars.next() {
                // CSI: parameters and intermediates up to a final byte in 0x40..=0x7e.
                Some('[') => skip_csi(&mut chars),
                // OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \).
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // Two- and three-byte sequences (ESC ( B, ESC 7, ...): drop the next one or two.
                Some(' '..='/') => {
                    chars.next();
                }
                _ => {}
            },
            C1_CSI => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text that may span lines (tracebacks, node text): each line sanitized on its own.
pub fn sanitize_lines(text: &str) -> impl Iterator<Item = Cow<'_, str>> {
    text.split('\n')
        .map(|line| sanitize(line.strip_suffix('\r').unwrap_or(line)))
}

fn needs_work(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Bidirectional overrides can make a file name read backwards on screen.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
    }
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            BEL | C1_ST => return,
            ESC => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc_title_and_clear_screen_are_removed() {
        assert_eq!(sanitize("a\x1b]0;owned\x07b"), "ab");
        assert_eq!(sanitize("x\x1b[2Jy"), "xy");
        assert_eq!(sanitize("\x1b]0;owned\x1b\\title"), "title");
        assert_eq!(sanitize("red \x1b[31;1mtext\x1b[0m"), "red text");
    }

    #[test]
    fn c1_controls_and_bidi_overrides_are_removed() {
        assert_eq!(sanitize("a\u{9b}2Jb"), "ab");
        assert_eq!(sanitize("a\u{9d}0;t\u{9c}b"), "ab");
        assert_eq!(sanitize("file\u{202e}gnp.exe"), "filegnp.exe");
        assert_eq!(sanitize("bell\x07 nul\0"), "bell nul");
    }

    #[test]
    fn line_breaks_become_spaces_and_plain_text_is_borrowed() {
        assert_eq!(sanitize("a\nb\tc"), "a b c");
        assert!(matches!(sanitize("KSampler — 日本"), Cow::Borrowed(_)));
        let lines: Vec<_> = sanitize_lines("one\r\ntwo\x1b[2J\n").collect();
        assert_eq!(lines, vec!["one", "two", ""]);
    }

    #[test]
    fn unterminated_sequences_swallow_only_themselves() {
        assert_eq!(sanitize("ok\x1b]0;never ends"), "ok");
        assert_eq!(sanitize("ok\x1b"), "ok");
        assert_eq!(sanitize("ok\x1b[12"), "ok");
    }
}
