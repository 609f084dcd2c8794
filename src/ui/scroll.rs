//! Which rows each scrolling pane shows: the one place the view and the scroll keys agree
//! on, so that a key always moves what is on screen and every row can be reached.

use super::{error, layout, log, nodes};
use crate::app::{App, Pane};
use ratatui::layout::{Position, Rect};

/// Rows the mouse wheel moves per notch.
pub const WHEEL_ROWS: usize = 3;

/// A pane as it shows: its rectangle (border included), its first visible row, how many
/// rows fit and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub area: Rect,
    pub first: usize,
    pub visible: usize,
    pub total: usize,
}

impl View {
    /// The last first row that still fills the pane.
    pub fn max_first(&self) -> usize {
        self.total.saturating_sub(self.visible)
    }

    /// The one-based range shown and the total, as the panes' bottom titles print it.
    pub fn position(&self) -> (usize, usize, usize) {
        let last = (self.first + self.visible).min(self.total);
        (self.first + 1, last, self.total)
    }
}

/// How a key or the wheel moves a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    Up(usize),
    Down(usize),
    PageUp,
    PageDown,
    Top,
    Bottom,
}

/// The first row after `motion`, always within the content. A page keeps one row of the
/// previous page in view, so that reading across pages loses no line.
pub fn moved(view: &View, motion: Motion) -> usize {
    let page = view.visible.saturating_sub(1).max(1);
    let first = view.first.min(view.max_first());
    let wanted = match motion {
        Motion::Up(n) => first.saturating_sub(n),
        Motion::Down(n) => first.saturating_add(n),
        Motion::PageUp => first.saturating_sub(page),
        Motion::PageDown => first.saturating_add(page),
        Motion::Top => 0,
        Motion::Bottom => usize::MAX,
    };
    wanted.min(view.max_first())
}

/// The whole screen, as the latest resize event gave it.
pub fn screen(app: &App) -> Rect {
    let (width, height) = app.ui.screen;
    Rect::new(0, 0, width, height)
}

/// Where one pane shows now, if it does.
pub fn view(app: &App, pane: Pane) -> Option<View> {
    let areas = layout(screen(app), app)?;
    match pane {
        Pane::Nodes => Some(nodes::view(app, areas.nodes)),
        Pane::Error => areas.error.map(|area| error::view(app, area)),
        Pane::Log => areas.log.map(|area| log::view(app, area)),
    }
}

/// The panes on screen, in the order Tab visits them.
fn shown(app: &App) -> Vec<Pane> {
    let Some(areas) = layout(screen(app), app) else {
        return Vec::new();
    };
    let mut panes = vec![Pane::Nodes];
    if areas.error.is_some() {
        panes.push(Pane::Error);
    }
    if areas.log.is_some() {
        panes.push(Pane::Log);
    }
    panes
}

/// The pane the scroll keys move: the chosen one while it shows, else the error when one
/// shows (it matters most), else the node list.
pub fn focused(app: &App) -> Pane {
    let panes = shown(app);
    match app.ui.focus {
        Some(pane) if panes.contains(&pane) => pane,
        _ if panes.contains(&Pane::Error) => Pane::Error,
        _ => Pane::Nodes,
    }
}

/// Whether the pane's border marks it as the one the keys move: only when the keys have
/// a choice.
pub fn marked(app: &App, pane: Pane) -> bool {
    shown(app).len() > 1 && focused(app) == pane
}

/// The pane after the focused one, round the panes on screen.
pub fn next_focus(app: &App) -> Pane {
    let panes = shown(app);
    let current = focused(app);
    let at = panes.iter().position(|p| *p == current).unwrap_or(0);
    panes
        .get((at + 1) % panes.len().max(1))
        .copied()
        .unwrap_or(Pane::Nodes)
}

/// The scrolling pane under a cell, if any.
pub fn pane_at(app: &App, column: u16, row: u16) -> Option<Pane> {
    let areas = layout(screen(app), app)?;
    let at = Position::new(column, row);
    [
        (Pane::Nodes, Some(areas.nodes)),
        (Pane::Error, areas.error),
        (Pane::Log, areas.log),
    ]
    .into_iter()
    .find_map(|(pane, area)| area.filter(|a| a.contains(at)).map(|_| pane))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(first: usize, visible: usize, total: usize) -> View {
        View {
            area: Rect::default(),
            first,
            visible,
            total,
        }
    }

    #[test]
    fn motions_stay_within_the_content() {
        let v = view(0, 20, 307);
        assert_eq!(moved(&v, Motion::Bottom), 287);
        assert_eq!(moved(&v, Motion::Up(1)), 0);
        assert_eq!(moved(&v, Motion::PageDown), 19);
        let end = view(287, 20, 307);
        assert_eq!(moved(&end, Motion::Up(1)), 286);
        assert_eq!(moved(&end, Motion::PageUp), 268);
        assert_eq!(moved(&end, Motion::Down(1)), 287);
        assert_eq!(moved(&end, Motion::Top), 0);
        // A first row beyond the end (the pane grew) counts from where the view shows.
        assert_eq!(moved(&view(400, 20, 307), Motion::Up(1)), 286);
        // Content that fits never moves.
        assert_eq!(moved(&view(0, 20, 7), Motion::Bottom), 0);
        assert_eq!(moved(&view(0, 1, 5), Motion::PageDown), 1);
    }
}
