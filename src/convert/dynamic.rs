//! Dynamic prompts (rule E): comments stripped, `{a|b|c}` replaced by one option picked
//! with the caller's random source, escapes resolved last.

use rand::Rng;

/// Strips `/* … */` and `// …` comments as the frontend's regex does: a `//` removes the rest
/// of its line, even inside a URL.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let block = rest.find("/*");
        let line = rest.find("//");
        // The regex tries both alternatives at each position; the leftmost match wins, and
        // at the same position the block comment is tried first.
        let (start, is_block) = match (block, line) {
            (None, None) => break,
            (Some(b), None) => (b, true),
            (None, Some(l)) => (l, false),
            (Some(b), Some(l)) => {
                if b <= l {
                    (b, true)
                } else {
                    (l, false)
                }
            }
        };
        if is_block {
            match rest[start + 2..].find("*/") {
                Some(end) => {
                    out.push_str(&rest[..start]);
                    rest = &rest[start + 2 + end + 2..];
                }
                // An unclosed block comment is no match; a `//` may still follow.
                None => match line.filter(|&l| l > start) {
                    Some(l) => {
                        out.push_str(&rest[..l]);
                        rest = skip_line(&rest[l..]);
                    }
                    None => break,
                },
            }
        } else {
            out.push_str(&rest[..start]);
            rest = skip_line(&rest[start..]);
        }
    }
    out.push_str(rest);
    out
}

/// `.` in a JavaScript regex stops at line terminators.
fn skip_line(text: &str) -> &str {
    match text.find(['\n', '\r', '\u{2028}', '\u{2029}']) {
        Some(end) => &text[end..],
        None => "",
    }
}

/// Expands a dynamic prompt. The recursion unescapes each chosen option too, exactly as
/// the frontend's recursive call does.
pub fn expand<R: Rng>(text: &str, rng: &mut R) -> String {
    unescape(&expand_inner(text, rng))
}

fn expand_inner<R: Rng>(text: &str, rng: &mut R) -> String {
    let stripped = strip_comments(text);
    let chars: Vec<char> = stripped.chars().collect();
    let mut at = 0;
    let mut result = String::new();
    while let Some(&c) = chars.get(at) {
        at += 1;
        match c {
            '\\' => {
                result.push('\\');
                if let Some(&next) = chars.get(at) {
                    result.push(next);
                }
                at += 1;
            }
            '{' => result.push_str(&choice(&chars, &mut at, rng)),
            _ => result.push(c),
        }
    }
    result
}

fn choice<R: Rng>(chars: &[char], at: &mut usize, rng: &mut R) -> String {
    let mut options = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    while let Some(&c) = chars.get(*at) {
        *at += 1;
        match c {
            '\\' => {
                current.push('\\');
                if let Some(&next) = chars.get(*at) {
                    current.push(next);
                }
                *at += 1;
                continue;
            }
            '{' => depth += 1,
            '}' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            '|' if depth == 0 => {
                options.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    options.push(current);
    let pick = rng.random_range(0..options.len());
    // The frontend calls the whole function again on the option, unescaping included.
    expand(&options[pick], rng)
}

/// `\{`, `\}` and `\|` become the bare character; other backslashes stay.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && matches!(next, '{' | '}' | '|')
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// True when the text holds a choice (`{` not escaped by a backslash).
pub fn has_choice(text: &str) -> bool {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn run(text: &str) -> String {
        expand(text, &mut StdRng::seed_from_u64(1))
    }

    #[test]
    fn comments_are_stripped_and_urls_lose_their_tail() {
        assert_eq!(run("a /* b */c // d\ne"), "a c \ne");
        assert_eq!(run("see https://example.com now"), "see https:");
    }

    #[test]
    fn choices_whose_result_cannot_vary() {
        assert_eq!(run("{cat}"), "cat");
        assert_eq!(run("{red|red} {{big}|{big}}"), "red big");
        assert_eq!(run(r"\{x\} a\|b c\d"), r"{x} a|b c\d");
    }

    #[test]
    fn only_unescaped_braces_are_choices() {
        assert!(has_choice("a {b|c}"));
        assert!(!has_choice(r"a \{b\}"));
        assert!(!has_choice("plain"));
    }

    #[test]
    fn picks_follow_the_seed() {
        let text = "{a|b|c|d|e|f|g|h} {1|2|3|4|5|6|7|8}";
        let first = expand(text, &mut StdRng::seed_from_u64(42));
        let again = expand(text, &mut StdRng::seed_from_u64(42));
        assert_eq!(first, again);
        let all: std::collections::HashSet<String> = (0..64)
            .map(|seed| expand(text, &mut StdRng::seed_from_u64(seed)))
            .collect();
        assert!(all.len() > 8, "different seeds pick differently: {all:?}");
        assert!(all.iter().all(|s| s.len() == 3));
    }
}
