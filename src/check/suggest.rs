//! "Did you mean …?": the candidates closest to a misspelt name, a class or a model file.

/// How alike two names must be to be worth suggesting (normalised Damerau–Levenshtein
/// similarity on lowercase text; a substring also counts).
const THRESHOLD: f64 = 0.55;

/// Up to `limit` candidates that resemble `target`, best first; ties keep the
/// candidates' own order.
pub fn closest<'a>(
    target: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Vec<String> {
    let wanted = normalise(target);
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, usize, &str)> = candidates
        .into_iter()
        .enumerate()
        .filter_map(|(i, candidate)| {
            let have = normalise(candidate);
            let score = similarity(&wanted, &have);
            (score >= THRESHOLD).then_some((score, i, candidate))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, _, candidate) in scored {
        if !out.iter().any(|o| o == candidate) {
            out.push(candidate.to_owned());
        }
        if out.len() == limit {
            break;
        }
    }
    out
}

/// Case and the file extension do not tell model files apart for a human.
fn normalise(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    match lower.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && (1..=12).contains(&ext.len()) => stem.to_owned(),
        _ => lower,
    }
}

fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let edit = strsim::normalized_damerau_levenshtein(a, b);
    // `ksampler` in `ksampleradvanced`: a prefix or part is a strong hint.
    let part = if a.len() >= 4 && b.len() >= 4 && (a.contains(b) || b.contains(a)) {
        0.8
    } else {
        0.0
    };
    edit.max(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_case_find_the_name() {
        let classes = ["KSampler", "KSamplerAdvanced", "SaveImage", "VAEDecode"];
        assert_eq!(closest("KSamplr", classes, 3)[0], "KSampler");
        assert_eq!(closest("saveimage", classes, 3), ["SaveImage"]);
        assert!(closest("KSamplerAdvance", classes, 3).contains(&"KSamplerAdvanced".to_owned()));
        assert!(closest("Totally Different", classes, 3).is_empty());
        assert!(closest("", classes, 3).is_empty());
    }

    #[test]
    fn model_files_resemble_by_stem() {
        let files = [
            "v1-5-pruned-emaonly.safetensors",
            "sd_xl_base_1.0.safetensors",
            "flux1-dev.safetensors",
        ];
        assert_eq!(
            closest("v1-5-pruned-emaonly-fp16.safetensors", files, 3),
            ["v1-5-pruned-emaonly.safetensors"]
        );
        assert_eq!(
            closest("sd_xl_base_1.0.ckpt", files, 1),
            ["sd_xl_base_1.0.safetensors"]
        );
    }
}
