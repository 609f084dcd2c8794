//! Many jobs from one command: `--count`, `--sweep` (one input over values or ranges; the
//! product of several), `--seed random|N|increment[:N]` per job, and the `--name` pattern
//! for saved files. Pure: it says which variants to make; `launch` makes them.

pub mod name;
pub mod sweep;

pub use name::NamePattern;
pub use sweep::Sweep;

/// How seeds are set, per job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedMode {
    /// As the workflow has them.
    Keep,
    /// A fresh random seed for every job.
    Random,
    /// This seed for every job.
    Fixed(u64),
    /// Counting up per job from this seed (or from the workflow's own first seed).
    Increment(Option<u64>),
}

impl SeedMode {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "--seed {text}: expected `random`, a whole number, `increment` or `increment:N`"
            )
        };
        match text.trim() {
            "random" => Ok(Self::Random),
            "increment" => Ok(Self::Increment(None)),
            other => match other.strip_prefix("increment:") {
                Some(n) => n
                    .trim()
                    .parse()
                    .map(|n| Self::Increment(Some(n)))
                    .map_err(|_| bad()),
                None => other.parse().map(Self::Fixed).map_err(|_| bad()),
            },
        }
    }

    /// The seed of job `index`, given a random source and the workflow's first seed.
    pub fn seed_for(
        self,
        index: usize,
        workflow_seed: Option<u64>,
        random: &mut impl FnMut() -> u64,
    ) -> Option<u64> {
        match self {
            Self::Keep => None,
            Self::Random => Some(random()),
            Self::Fixed(n) => Some(n),
            Self::Increment(start) => Some(
                start
                    .or(workflow_seed)
                    .unwrap_or(0)
                    .wrapping_add(index as u64),
            ),
        }
    }
}

/// One job of a batch: its index, and the `NODE.INPUT=value` settings its sweeps give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub index: usize,
    pub sets: Vec<(String, String)>,
}

/// The jobs to make: every combination of the sweeps' values (the first sweep varies
/// slowest), `count` times each. No sweeps and a count of 1 is the one job of a plain run.
pub fn variants(count: usize, sweeps: &[Sweep]) -> Vec<Variant> {
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for sweep in sweeps {
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                sweep.values.iter().map(move |value| {
                    let mut next = combo.clone();
                    next.push((sweep.target.clone(), value.clone()));
                    next
                })
            })
            .collect();
    }
    combos
        .into_iter()
        .flat_map(|sets| std::iter::repeat_n(sets, count.max(1)))
        .enumerate()
        .map(|(index, sets)| Variant { index, sets })
        .collect()
}

/// How the batch's status is ranked: the worst one wins (`rejected` > `error` > `lost` >
/// `interrupted` > `success`).
pub fn severity(status: &str) -> u8 {
    match status {
        "rejected" | "invalid" => 6,
        "error" | "incomplete" => 5,
        "lost" | "timeout" => 4,
        "detached" => 3,
        "interrupted" => 2,
        "success" => 0,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_per_job() {
        let mut random = {
            let mut n = 100;
            move || {
                n += 1;
                n
            }
        };
        assert_eq!(
            SeedMode::parse("increment").unwrap(),
            SeedMode::Increment(None)
        );
        assert_eq!(
            SeedMode::parse("increment:7").unwrap(),
            SeedMode::Increment(Some(7))
        );
        assert_eq!(SeedMode::parse("42").unwrap(), SeedMode::Fixed(42));
        assert!(SeedMode::parse("soon").unwrap_err().contains("increment"));
        let inc = SeedMode::Increment(None);
        assert_eq!(inc.seed_for(3, Some(10), &mut random), Some(13));
        assert_eq!(
            SeedMode::Increment(Some(5)).seed_for(2, Some(10), &mut random),
            Some(7)
        );
        assert_eq!(SeedMode::Random.seed_for(0, None, &mut random), Some(101));
        assert_eq!(SeedMode::Random.seed_for(1, None, &mut random), Some(102));
        assert_eq!(SeedMode::Keep.seed_for(1, Some(3), &mut random), None);
    }

    #[test]
    fn variants_are_the_product_times_the_count() {
        let cfg = Sweep::parse("3.cfg=4,8").unwrap();
        let steps = Sweep::parse("3.steps=10..30:10").unwrap();
        let jobs = variants(2, &[cfg, steps]);
        assert_eq!(jobs.len(), 2 * 3 * 2);
        assert_eq!(
            jobs[0].sets,
            vec![
                ("3.cfg".into(), "4".into()),
                ("3.steps".into(), "10".into())
            ]
        );
        assert_eq!(jobs[1].sets, jobs[0].sets, "count repeats each combination");
        assert_eq!(jobs[2].sets[1].1, "20");
        assert_eq!(
            jobs[11].sets,
            vec![
                ("3.cfg".into(), "8".into()),
                ("3.steps".into(), "30".into())
            ]
        );
        assert_eq!(
            jobs.iter().map(|v| v.index).collect::<Vec<_>>(),
            (0..12).collect::<Vec<_>>()
        );
        assert_eq!(variants(1, &[]).len(), 1);
    }

    #[test]
    fn the_worst_status_ranks_highest() {
        let mut statuses = ["success", "interrupted", "lost", "error", "rejected"];
        statuses.sort_by_key(|s| severity(s));
        assert_eq!(
            statuses,
            ["success", "interrupted", "lost", "error", "rejected"]
        );
    }
}
