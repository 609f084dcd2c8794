//! `--sweep NODE.INPUT=v1,v2,…`: one input over a list of values; numbers also take
//! ranges, `a..b` (step 1) and `a..b:step`, both ends included.

/// How many values one sweep may make (a typo in a range must not make a million jobs).
pub const MAX_VALUES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// `NODE.INPUT`, matched as `--set` matches it.
    pub target: String,
    /// Each value as `--set` would take it.
    pub values: Vec<String>,
}

impl Sweep {
    pub fn parse(spec: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("--sweep {spec}: {why}");
        let (target, list) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected NODE.INPUT=v1,v2,…"))?;
        if !target.contains('.') || target.starts_with('.') || target.ends_with('.') {
            return Err(bad("expected NODE.INPUT=v1,v2,…"));
        }
        let mut values = Vec::new();
        for part in list.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(bad("an empty value"));
            }
            match range(part).map_err(|why| bad(&why))? {
                Some(range) => values.extend(range),
                None => values.push(part.to_owned()),
            }
            if values.len() > MAX_VALUES {
                return Err(bad(&format!("more than {MAX_VALUES} values")));
            }
        }
        Ok(Self {
            target: target.to_owned(),
            values,
        })
    }
}

/// `a..b` or `a..b:step` as its values (integers when all three are, else decimals);
/// `None` when `part` is no range.
fn range(part: &str) -> Result<Option<Vec<String>>, String> {
    let Some((start, rest)) = part.split_once("..") else {
        return Ok(None);
    };
    let (end, step) = match rest.split_once(':') {
        Some((end, step)) => (end, Some(step)),
        None => (rest, None),
    };
    if let (Ok(a), Ok(b), Ok(s)) = (
        start.trim().parse::<i64>(),
        end.trim().parse::<i64>(),
        step.map_or(Ok(1), |s| s.trim().parse::<i64>()),
    ) {
        if s <= 0 {
            return Err(format!("{part}: the step must be above 0"));
        }
        if b < a {
            return Err(format!("{part}: the range runs backwards"));
        }
        let count = (b - a) / s + 1;
        if count as u64 > MAX_VALUES as u64 {
            return Err(format!("{part}: more than {MAX_VALUES} values"));
        }
        return Ok(Some((0..count).map(|i| (a + i * s).to_string()).collect()));
    }
    let number = |t: &str| t.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    let (Some(a), Some(b)) = (number(start), number(end)) else {
        return Err(format!("{part}: a range needs numbers at both ends"));
    };
    let s = match step {
        Some(step) => number(step).ok_or_else(|| format!("{part}: the step is no number"))?,
        None => 1.0,
    };
    if s <= 0.0 {
        return Err(format!("{part}: the step must be above 0"));
    }
    if b < a {
        return Err(format!("{part}: the range runs backwards"));
    }
    let count = ((b - a) / s + 1e-9).floor() as u64 + 1;
    if count > MAX_VALUES as u64 {
        return Err(format!("{part}: more than {MAX_VALUES} values"));
    }
    // Printed with as few digits as the step needs, so `0.1` steps read `0.3`, not
    // `0.30000000000000004`.
    let decimals = decimals_of(step.unwrap_or("1")).max(decimals_of(start));
    Ok(Some(
        (0..count)
            .map(|i| format!("{:.*}", decimals, a + i as f64 * s))
            .collect(),
    ))
}

fn decimals_of(text: &str) -> usize {
    text.trim()
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        let s = Sweep::parse("KSampler.cfg=4, 6.5,8").unwrap();
        assert_eq!(s.target, "KSampler.cfg");
        assert_eq!(s.values, ["4", "6.5", "8"]);
        assert_eq!(
            Sweep::parse("3.steps=1..4").unwrap().values,
            ["1", "2", "3", "4"]
        );
        assert_eq!(
            Sweep::parse("3.steps=10..25:5").unwrap().values,
            ["10", "15", "20", "25"]
        );
        assert_eq!(
            Sweep::parse("3.denoise=0.5..0.8:0.1").unwrap().values,
            ["0.5", "0.6", "0.7", "0.8"]
        );
        assert_eq!(
            Sweep::parse("3.sampler_name=euler,dpmpp_2m")
                .unwrap()
                .values,
            ["euler", "dpmpp_2m"]
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert!(Sweep::parse("cfg=4").unwrap_err().contains("NODE.INPUT"));
        assert!(Sweep::parse("3.cfg=4,,5").unwrap_err().contains("empty"));
        assert!(
            Sweep::parse("3.cfg=9..1")
                .unwrap_err()
                .contains("backwards")
        );
        assert!(Sweep::parse("3.cfg=1..9:0").unwrap_err().contains("step"));
        assert!(
            Sweep::parse("3.seed=0..99999999")
                .unwrap_err()
                .contains("more than")
        );
        assert!(Sweep::parse("3.cfg=a..b").unwrap_err().contains("numbers"));
    }
}
