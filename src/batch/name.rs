//! `--name PATTERN`: how a batch names its saved files, e.g. `{job}_{seed}_{filename}`.
//! Fields: `{job}` (index), `{prompt}` (short prompt id), `{seed}`, `{node}`,
//! `{filename}` (the server's name, made safe), `{stem}` and `{ext}`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern(String);

/// What a name is made of.
#[derive(Debug, Clone, Copy)]
pub struct NameParts<'a> {
    pub job: usize,
    pub prompt: &'a str,
    pub seed: Option<u64>,
    pub node: &'a str,
    /// The local name the file would get without a pattern.
    pub filename: &'a str,
}

const FIELDS: &[&str] = &["job", "prompt", "seed", "node", "filename", "stem", "ext"];

impl NamePattern {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("--name {text}: a `{{` without its `}}`"))?;
            let field = &rest[open + 1..open + close];
            if !FIELDS.contains(&field) {
                return Err(format!(
                    "--name {text}: unknown field {{{field}}}; the fields are {}",
                    FIELDS
                        .iter()
                        .map(|f| format!("{{{f}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            rest = &rest[open + close + 1..];
        }
        if !text.contains("{filename}") && !text.contains("{ext}") {
            return Err(format!(
                "--name {text}: keep {{filename}} or {{ext}} in it, so the files keep their type"
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The name for one file; the caller still makes it safe and never overwrites.
    pub fn render(&self, parts: NameParts<'_>) -> String {
        let (stem, ext) = match parts.filename.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, ext),
            _ => (parts.filename, ""),
        };
        self.0
            .replace("{job}", &parts.job.to_string())
            .replace("{prompt}", parts.prompt)
            .replace(
                "{seed}",
                &parts
                    .seed
                    .map_or_else(|| "noseed".to_owned(), |s| s.to_string()),
            )
            .replace("{node}", parts.node)
            .replace("{filename}", parts.filename)
            .replace("{stem}", stem)
            .replace("{ext}", ext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_filled_and_unknown_ones_refused() {
        let p = NamePattern::parse("{job}_{seed}_{filename}").unwrap();
        let parts = NameParts {
            job: 3,
            prompt: "5f0c6a62",
            seed: Some(42),
            node: "9",
            filename: "ComfyUI_00001_.png",
        };
        assert_eq!(p.render(parts), "3_42_ComfyUI_00001_.png");
        let p = NamePattern::parse("{stem}-{prompt}.{ext}").unwrap();
        assert_eq!(p.render(parts), "ComfyUI_00001_-5f0c6a62.png");
        assert!(
            NamePattern::parse("{job}_{when}_{filename}")
                .unwrap_err()
                .contains("{when}")
        );
        assert!(
            NamePattern::parse("{job}")
                .unwrap_err()
                .contains("{filename}")
        );
        assert!(NamePattern::parse("{job").unwrap_err().contains("without"));
    }
}
