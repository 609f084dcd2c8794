//! A smoothed steps-per-second figure and the ETA it implies. Pure: the caller supplies
//! the time of each observation.

use std::time::{Duration, Instant};

/// How much a new observation counts; the rest is history. Chosen so that the figure
/// settles within a handful of steps but does not jump with each one.
const SMOOTHING: f64 = 0.3;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepRate {
    last: Option<(Instant, f64)>,
    per_second: Option<f64>,
}

impl StepRate {
    /// Records that progress reached `value` at `at`. A value that goes backwards (a new
    /// sampler pass, a changed max) starts over.
    pub fn observe(&mut self, value: f64, at: Instant) {
        match self.last {
            Some((then, previous)) if value >= previous => {
                let elapsed = at.saturating_duration_since(then).as_secs_f64();
                if value > previous && elapsed > 0.0 {
                    let instant = (value - previous) / elapsed;
                    self.per_second = Some(match self.per_second {
                        Some(rate) => rate + SMOOTHING * (instant - rate),
                        None => instant,
                    });
                    self.last = Some((at, value));
                } else if value > previous {
                    // Several steps in the same instant: wait for time to pass.
                }
            }
            _ => {
                self.per_second = None;
                self.last = Some((at, value));
            }
        }
    }

    pub fn per_second(&self) -> Option<f64> {
        self.per_second.filter(|r| r.is_finite() && *r > 0.0)
    }

    /// Time left to reach `max` at the smoothed rate.
    pub fn eta(&self, value: f64, max: f64) -> Option<Duration> {
        let rate = self.per_second()?;
        let left = (max - value).max(0.0) / rate;
        left.is_finite()
            .then(|| Duration::from_secs_f64(left.min(1e7)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_steps_give_their_rate_and_eta() {
        let t0 = Instant::now();
        let mut rate = StepRate::default();
        for step in 0..=10 {
            rate.observe(step as f64, t0 + Duration::from_millis(100 * step));
        }
        let r = rate.per_second().expect("rate");
        assert!((r - 10.0).abs() < 0.01, "{r}");
        let eta = rate.eta(10.0, 20.0).expect("eta");
        assert!((eta.as_secs_f64() - 1.0).abs() < 0.01, "{eta:?}");
    }

    #[test]
    fn going_backwards_resets() {
        let t0 = Instant::now();
        let mut rate = StepRate::default();
        rate.observe(5.0, t0);
        rate.observe(6.0, t0 + Duration::from_secs(1));
        assert!(rate.per_second().is_some());
        rate.observe(0.0, t0 + Duration::from_secs(2));
        assert!(rate.per_second().is_none());
    }
}
