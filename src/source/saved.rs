//! Workflows saved on the server (the editor's workflow sidebar): `@NAME` to a file of
//! the user directory's `workflows/` folder, and the closest names for a wrong one.

use crate::comfy::http::UserFile;

/// The user-directory folder the web UI saves workflows in.
pub const FOLDER: &str = "workflows";

/// What is wrong with a `@NAME` before asking the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("`@` must be followed by the name of a saved workflow, e.g. @portraits/flux-dev")]
    Empty,
    #[error(
        "saved workflow `@{0}`: a name must not start with `/` or hold `..`, `\\` or control characters"
    )]
    Unsafe(String),
}

/// `@portraits/flux-dev` or `@portraits/flux-dev.json` → `portraits/flux-dev.json`
/// (relative to [`FOLDER`]).
pub fn file_name(name: &str) -> Result<String, NameError> {
    let name = name.strip_prefix('@').unwrap_or(name).trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let unsafe_name = name.starts_with('/')
        || name.contains('\\')
        || name.chars().any(char::is_control)
        || name.split('/').any(|part| part == ".." || part.is_empty());
    if unsafe_name {
        return Err(NameError::Unsafe(name.to_owned()));
    }
    Ok(if name.ends_with(".json") {
        name.to_owned()
    } else {
        format!("{name}.json")
    })
}

/// The name `run` takes for a listed file: its path without `.json`.
pub fn display_name(path: &str) -> &str {
    path.strip_suffix(".json").unwrap_or(path)
}

/// Only `.json` files are workflows (the sidebar shows no others).
pub fn workflows(files: Vec<UserFile>) -> Vec<UserFile> {
    let mut files: Vec<UserFile> = files
        .into_iter()
        .filter(|f| f.path.ends_with(".json"))
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Up to `count` listed names that resemble `wanted`, best first: the same file name
/// in another folder, names containing it, then by edit similarity.
pub fn closest(wanted: &str, names: &[&str], count: usize) -> Vec<String> {
    let wanted = display_name(wanted).to_lowercase();
    let wanted_base = wanted.rsplit('/').next().unwrap_or(&wanted).to_owned();
    let mut scored: Vec<(f64, &str)> = names
        .iter()
        .map(|name| {
            let lower = display_name(name).to_lowercase();
            let base = lower.rsplit('/').next().unwrap_or(&lower);
            let similarity = strsim::normalized_damerau_levenshtein(&wanted, &lower)
                .max(strsim::jaro_winkler(&wanted_base, base) * 0.9);
            let score = if base == wanted_base {
                2.0
            } else if lower.contains(&wanted_base) || wanted.contains(base) {
                1.0 + similarity / 10.0
            } else {
                similarity
            };
            (score, *name)
        })
        .filter(|(score, _)| *score >= 0.6)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(count)
        .map(|(_, name)| display_name(name).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_gain_json_and_unsafe_ones_are_refused() {
        assert_eq!(
            file_name("@portraits/flux-dev"),
            Ok("portraits/flux-dev.json".into())
        );
        assert_eq!(file_name("@a.json"), Ok("a.json".into()));
        assert_eq!(file_name("@"), Err(NameError::Empty));
        for bad in ["@../x", "@/etc/passwd", "@a//b", "@a\\b", "@a/../../b"] {
            assert!(matches!(file_name(bad), Err(NameError::Unsafe(_))), "{bad}");
        }
    }

    #[test]
    fn the_closest_names_come_first() {
        let names = [
            "portraits/flux-dev.json",
            "portraits/flux-schnell.json",
            "landscape.json",
            "txt2img.json",
        ];
        let found = closest("flux-dev", &names, 3);
        assert_eq!(
            found.first().map(String::as_str),
            Some("portraits/flux-dev")
        );
        let found = closest("portraits/flux-dve", &names, 3);
        assert_eq!(
            found.first().map(String::as_str),
            Some("portraits/flux-dev")
        );
        assert!(
            found.contains(&"portraits/flux-schnell".to_owned()),
            "{found:?}"
        );
        assert!(!found.contains(&"txt2img".to_owned()), "{found:?}");
        assert!(closest("zzzzzzzz", &names, 3).is_empty());
    }

    #[test]
    fn only_json_files_are_listed_sorted() {
        let file = |p: &str| UserFile {
            path: p.into(),
            size: None,
            modified: None,
        };
        let listed = workflows(vec![file("b.json"), file("notes.txt"), file("a/c.json")]);
        let paths: Vec<&str> = listed.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a/c.json", "b.json"]);
    }
}
