//! The byte budget of the live view: how many bytes the terminal may receive, and so
//! whether the next preview picture may be drawn now and how large it may be. Pure: every
//! write and every decision is told the time.
//!
//! A real sampler sends a new latent preview every step and it changes everywhere, so each
//! one repaints every cell of the picture (about 40 bytes a half-block cell in truecolor).
//! Over SSH that is lag. The budget keeps the whole view under a rate averaged over any
//! [`WINDOW`], skipping step previews while over it, yet shows a new one at least every
//! [`FLOOR`]; it sizes pictures so that one a second fits.

use ratatui::layout::Size;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The default rate for everything the view writes: 32 KiB a second.
pub const DEFAULT_BYTES_PER_SEC: u64 = 32 * 1024;
/// The rate is an average over any window this long.
pub const WINDOW: Duration = Duration::from_secs(5);
/// A new preview is drawn at least this often while previews keep coming.
pub const FLOOR: Duration = Duration::from_secs(1);
/// The share of the rate pictures may use; the rest is for the text around them (gauges,
/// clock, log), about 1 KB/s while a node steps.
const PICTURE_SHARE: f64 = 0.75;
/// What a half-block cell costs at worst: a truecolor foreground and background escape
/// (19 bytes each) and the glyph. Used until a drawn picture says better.
pub const HALFBLOCK_CELL_BYTES: f64 = 41.0;
/// A learnt cost this close to the one in use is not worth resizing pictures for.
const HYSTERESIS: f64 = 0.2;

/// Whether a picture is a step preview (may be skipped) or one that must be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picture {
    /// A preview with more to come from the same node.
    Step,
    /// A node's last preview, or an output: always drawn.
    Final,
}

#[derive(Debug, Clone)]
pub struct PreviewBudget {
    /// Bytes a second; 0 = unlimited.
    rate: u64,
    /// What was written and when, for the last [`WINDOW`].
    writes: VecDeque<(Instant, u64)>,
    in_window: u64,
    /// When a picture was last drawn, and what that draw cost.
    last_picture: Option<(Instant, u64)>,
    /// Bytes per picture cell, learnt from drawn pictures.
    cell_bytes: f64,
}

impl PreviewBudget {
    /// A budget of `bytes_per_sec` (0 = unlimited), assuming pictures cost `cell_bytes`
    /// a cell until one has been drawn.
    pub fn new(bytes_per_sec: u64, cell_bytes: f64) -> Self {
        Self {
            rate: bytes_per_sec,
            writes: VecDeque::new(),
            in_window: 0,
            last_picture: None,
            cell_bytes: cell_bytes.max(1.0),
        }
    }

    pub fn unlimited(&self) -> bool {
        self.rate == 0
    }

    /// Counts `bytes` written to the terminal at `at` (anything: text, pictures, titles).
    pub fn record(&mut self, at: Instant, bytes: u64) {
        if bytes > 0 {
            self.writes.push_back((at, bytes));
            self.in_window += bytes;
        }
        self.expire(at);
    }

    /// A picture of `cells` cells was drawn at `at` by a draw that wrote `bytes` (already
    /// [`record`](Self::record)ed): the cost per cell is learnt from it.
    pub fn picture_drawn(&mut self, at: Instant, cells: u32, bytes: u64) {
        self.last_picture = Some((at, bytes));
        if cells > 0 && bytes > 0 {
            let learnt = bytes as f64 / f64::from(cells);
            if (learnt - self.cell_bytes).abs() > self.cell_bytes * HYSTERESIS {
                self.cell_bytes = learnt.max(1.0);
            }
        }
    }

    /// Bytes written in the window that ends at `at`.
    pub fn spent(&mut self, at: Instant) -> u64 {
        self.expire(at);
        self.in_window
    }

    fn expire(&mut self, at: Instant) {
        while let Some(&(t, n)) = self.writes.front() {
            if at.saturating_duration_since(t) < WINDOW {
                break;
            }
            self.writes.pop_front();
            self.in_window -= n;
        }
    }

    /// The most a window may hold.
    fn limit(&self) -> u64 {
        self.rate.saturating_mul(WINDOW.as_secs())
    }

    /// The gap between step pictures that keeps them to their share of the rate.
    fn pace(&self, cost: u64) -> Duration {
        Duration::from_secs_f64(cost as f64 / (self.rate as f64 * PICTURE_SHARE))
    }

    /// Whether a picture may be drawn at `at`.
    pub fn may_show(&mut self, at: Instant, picture: Picture) -> bool {
        if self.unlimited() || picture == Picture::Final {
            return true;
        }
        let Some((last, cost)) = self.last_picture else {
            return true;
        };
        let since = at.saturating_duration_since(last);
        if since >= FLOOR {
            return true;
        }
        since >= self.pace(cost) && self.spent(at) + cost <= self.limit()
    }

    /// When a step picture refused at `at` may next be drawn, at the latest: the loop
    /// wakes then even if nothing else happens.
    pub fn next_chance(&self, at: Instant) -> Instant {
        let Some((last, cost)) = self.last_picture else {
            return at;
        };
        let floor = last + FLOOR;
        let paced = last + self.pace(cost);
        // When enough of the window's writes will have left it for one more picture.
        let mut left = self.in_window;
        let mut freed = at;
        for &(t, n) in &self.writes {
            if left + cost <= self.limit() {
                break;
            }
            left -= n;
            freed = t + WINDOW;
        }
        if left + cost > self.limit() {
            // Larger than a whole window: only the floor lets it through.
            freed = floor;
        }
        freed.max(paced).min(floor).max(at)
    }

    /// The box a picture may fill inside `area` (in cells) so that one a second fits the
    /// pictures' share of the rate: `area` itself when unlimited or small enough. `shape`
    /// is the size of the last picture drawn, if any: pictures keep their aspect, so the
    /// box follows it rather than the pane's, and no affordable cell is left unused.
    pub fn fit(&self, area: Size, shape: Option<Size>) -> Size {
        let cells = |s: Size| f64::from(s.width) * f64::from(s.height);
        if self.unlimited() || cells(area) == 0.0 {
            return area;
        }
        let most = self.rate as f64 * PICTURE_SHARE * FLOOR.as_secs_f64() / self.cell_bytes;
        if cells(area) <= most {
            return area;
        }
        let shape = shape.filter(|s| cells(*s) > 0.0).unwrap_or(area);
        let scale = (most / cells(shape)).sqrt();
        let grow = |n: u16, limit: u16| ((f64::from(n) * scale).floor() as u16).clamp(1, limit);
        Size::new(
            grow(shape.width, area.width),
            grow(shape.height, area.height),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u64 = 32 * 1024;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Drives a budget the way the loop does: previews arrive every `every`, each drawn
    /// one costs `cost` bytes, text costs `text` bytes per arrival. Returns the draw times
    /// and the bytes written in every 5 s window (sampled at each arrival).
    fn simulate(every: Duration, cost: u64, text: u64, total: Duration) -> (Vec<Duration>, u64) {
        let t0 = Instant::now();
        let mut budget = PreviewBudget::new(RATE, HALFBLOCK_CELL_BYTES);
        let mut drawn = Vec::new();
        let mut worst = 0;
        let mut t = Duration::ZERO;
        while t <= total {
            let at = t0 + t;
            budget.record(at, text);
            if budget.may_show(at, Picture::Step) {
                budget.record(at, cost);
                budget.picture_drawn(at, 600, cost);
                drawn.push(t);
            }
            worst = worst.max(budget.spent(at));
            t += every;
        }
        (drawn, worst)
    }

    fn longest_gap(drawn: &[Duration]) -> Duration {
        drawn
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    }

    #[test]
    fn steady_fast_previews_stay_under_the_rate_and_refresh_every_second() {
        for every in [ms(10), ms(50), ms(200), ms(333)] {
            let (drawn, worst) = simulate(every, 24_000, 20, Duration::from_secs(30));
            assert!(
                worst <= RATE * 5,
                "every {every:?}: {worst} bytes in a window"
            );
            assert!(
                longest_gap(&drawn) <= FLOOR,
                "every {every:?}: gap {:?}",
                longest_gap(&drawn)
            );
            // Not needlessly sparse either: about the share of the rate is used.
            assert!(drawn.len() >= 30, "every {every:?}: {} drawn", drawn.len());
        }
    }

    #[test]
    fn cheap_previews_are_all_drawn() {
        let (drawn, _) = simulate(ms(200), 2_000, 100, Duration::from_secs(10));
        assert_eq!(drawn.len(), 51);
    }

    #[test]
    fn a_burst_of_text_holds_step_previews_back_until_the_floor() {
        let t0 = Instant::now();
        let mut budget = PreviewBudget::new(RATE, HALFBLOCK_CELL_BYTES);
        assert!(budget.may_show(t0, Picture::Step), "the first is free");
        budget.record(t0, 10_000);
        budget.picture_drawn(t0, 500, 10_000);
        // The user scrolls a long log: the whole window is spent at once.
        budget.record(t0 + ms(100), RATE * 5);
        assert!(!budget.may_show(t0 + ms(500), Picture::Step));
        assert!(!budget.may_show(t0 + ms(999), Picture::Step));
        assert!(budget.may_show(t0 + FLOOR, Picture::Step), "the floor");
        assert_eq!(budget.next_chance(t0 + ms(500)), t0 + FLOOR);
        // Held back by the pace alone, the wait is shorter.
        let mut paced = PreviewBudget::new(RATE, HALFBLOCK_CELL_BYTES);
        paced.record(t0, 10_000);
        paced.picture_drawn(t0, 500, 10_000);
        assert!(!paced.may_show(t0 + ms(100), Picture::Step));
        assert_eq!(paced.next_chance(t0 + ms(100)), t0 + paced.pace(10_000));
        assert!(paced.may_show(t0 + paced.pace(10_000), Picture::Step));
    }

    #[test]
    fn final_pictures_are_always_drawn() {
        let t0 = Instant::now();
        let mut budget = PreviewBudget::new(RATE, HALFBLOCK_CELL_BYTES);
        budget.record(t0, RATE * 10);
        budget.picture_drawn(t0, 1000, RATE * 10);
        assert!(!budget.may_show(t0 + ms(1), Picture::Step));
        assert!(budget.may_show(t0 + ms(1), Picture::Final));
    }

    #[test]
    fn unlimited_allows_everything_at_full_size() {
        let t0 = Instant::now();
        let mut budget = PreviewBudget::new(0, HALFBLOCK_CELL_BYTES);
        budget.record(t0, u64::from(u32::MAX));
        budget.picture_drawn(t0, 1, u64::from(u32::MAX));
        assert!(budget.may_show(t0, Picture::Step));
        assert_eq!(budget.fit(Size::new(180, 50), None), Size::new(180, 50));
    }

    #[test]
    fn the_window_forgets_after_five_seconds() {
        let t0 = Instant::now();
        let mut budget = PreviewBudget::new(RATE, HALFBLOCK_CELL_BYTES);
        budget.record(t0, 1000);
        budget.record(t0 + ms(4000), 500);
        assert_eq!(budget.spent(t0 + ms(4999)), 1500);
        assert_eq!(budget.spent(t0 + ms(5000)), 500);
        assert_eq!(budget.spent(t0 + ms(9000)), 0);
    }

    #[test]
    fn pictures_are_sized_so_that_one_a_second_fits() {
        let mut budget = PreviewBudget::new(RATE, HALFBLOCK_CELL_BYTES);
        let affordable = RATE as f64 * PICTURE_SHARE;
        let cost = |s: Size| f64::from(s.width) * f64::from(s.height) * HALFBLOCK_CELL_BYTES;
        let small = Size::new(20, 10);
        assert_eq!(budget.fit(small, None), small);
        let pane = Size::new(98, 56);
        let big = budget.fit(pane, None);
        assert!(cost(big) <= affordable, "{big:?}");
        // Roughly the pane's shape while no picture has been drawn.
        let ratio = f64::from(big.width) / f64::from(big.height);
        assert!((ratio - 98.0 / 56.0).abs() < 0.2, "{big:?}");
        // A square picture (twice as wide as tall in half blocks) took part of that box:
        // the next box has its shape, and uses the affordable cells.
        let square = budget.fit(pane, Some(Size::new(30, 15)));
        assert!(cost(square) <= affordable, "{square:?}");
        assert!(cost(square) > affordable * 0.9, "{square:?}");
        assert_eq!(square.width, square.height * 2);
        // Cheaper cells than feared: the box grows; a small wobble changes nothing.
        budget.picture_drawn(Instant::now(), 1000, 20_000);
        let grown = budget.fit(pane, None);
        assert!(grown.width > big.width, "{grown:?} vs {big:?}");
        budget.picture_drawn(Instant::now(), 1000, 21_000);
        assert_eq!(budget.fit(pane, None), grown);
        // Never larger than the pane, whatever the shape.
        let wide = budget.fit(Size::new(40, 56), Some(Size::new(200, 10)));
        assert!(wide.width <= 40, "{wide:?}");
    }
}
