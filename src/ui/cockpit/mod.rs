//! The cockpit's screen (`comfy-tui watch`): the server strip on top, the jobs table, the
//! selected job's detail (right of the table when wide, below it otherwise) and the key
//! hints. Pure: everything it shows comes in a [`CockpitView`].

pub mod detail;
pub mod strip;
pub mod table;

use crate::cockpit::JobRow;
use crate::comfy::listing::{HistoryItem, PromptRecord};
use crate::comfy::system::SystemStats;
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;

/// At this width the detail pane goes beside the table instead of under it.
pub const SIDE_BY_SIDE_WIDTH: u16 = 120;
/// The table's border, header and two rows: the least worth drawing.
const TABLE_MIN_HEIGHT: u16 = 5;

/// Everything the cockpit shows, borrowed from whoever holds it.
#[derive(Debug, Clone, Copy)]
pub struct CockpitView<'a> {
    /// Shown as given (sanitised): the caller leaves credentials out.
    pub server: &'a str,
    /// A word or two: `connected`, `connecting`, `reconnecting (attempt 2)`.
    pub connection: &'a str,
    /// `None` until `/system_stats` has answered.
    pub stats: Option<&'a SystemStats>,
    /// The rows shown, already filtered (`cockpit::filter::apply`).
    pub rows: &'a [JobRow],
    /// Index into `rows`.
    pub selected: Option<usize>,
    /// The first row shown (`Selection::offset`); corrected here if the size changed since.
    pub offset: usize,
    /// The selected prompt's record, from the queue or its history entry.
    pub record: Option<&'a PromptRecord>,
    /// The selected prompt's history entry, once it has finished.
    pub history: Option<&'a HistoryItem>,
    /// The `/` query, being typed or applied.
    pub filter: Option<&'a str>,
    pub now_ms: u64,
    /// Footer hints, `(key, what it does)`, most important first.
    pub hints: &'a [(&'a str, &'a str)],
}

impl CockpitView<'_> {
    pub fn selected_row(&self) -> Option<&JobRow> {
        self.rows.get(self.selected?)
    }
}

/// Where each part of the cockpit goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub strip: Rect,
    /// The jobs table, border included.
    pub table: Rect,
    /// The selected job's pane: its text and, with room, the preview pane.
    pub detail: Rect,
    /// The cells inside the preview pane's border, left for the caller to draw a picture
    /// into; `None` when the screen has no room for one.
    pub preview: Option<Rect>,
    pub footer: Rect,
}

impl Areas {
    /// How many job rows the table shows: the `height` the selection moves by.
    pub fn table_rows(&self) -> usize {
        usize::from(table::body(self.table).height)
    }

    /// The table body line under a screen cell (0 = the first row shown), for a click.
    pub fn table_line(&self, x: u16, y: u16) -> Option<usize> {
        let body = table::body(self.table);
        body.contains(Position::new(x, y))
            .then(|| usize::from(y - body.y))
    }
}

/// Splits the screen for `rows` job rows; `None` when it is too small for the cockpit.
pub fn layout(area: Rect, rows: usize) -> Option<Areas> {
    if super::too_small(area) {
        return None;
    }
    let [strip, body, footer] = Layout::vertical([
        Constraint::Length(strip::HEIGHT),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let side_by_side = area.width >= SIDE_BY_SIDE_WIDTH;
    let (table, detail) = if side_by_side {
        let [table, detail] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        (table, detail)
    } else {
        // The table takes what its rows need (border and header besides), up to three
        // fifths; the detail the rest.
        let wanted = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(3);
        let most = (body.height * 3 / 5).max(TABLE_MIN_HEIGHT);
        let height = wanted.clamp(TABLE_MIN_HEIGHT, most);
        let [table, detail] =
            Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(body);
        (table, detail)
    };
    Some(Areas {
        strip,
        table,
        detail,
        preview: detail::split(detail).1.map(detail::preview_inner),
        footer,
    })
}

/// Draws the cockpit. The preview pane is drawn empty; the caller fills
/// [`Areas::preview`] (from [`layout`] with the same size and rows) afterwards.
pub fn render(frame: &mut Frame<'_>, view: &CockpitView<'_>) {
    let area = frame.area();
    let Some(areas) = layout(area, view.rows.len()) else {
        super::render_too_small(frame, area);
        return;
    };
    strip::render(frame, areas.strip, view);
    table::render(frame, areas.table, view);
    detail::render(frame, areas.detail, view);
    render_footer(frame, areas.footer, view);
}

/// The filter being typed (as `/query`, where the user types it), then as many whole key
/// hints as fit.
fn render_footer(frame: &mut Frame<'_>, area: Rect, view: &CockpitView<'_>) {
    let width = usize::from(area.width);
    let mut spans: Vec<Span<'_>> = Vec::new();
    let mut used = 0;
    if let Some(query) = view.filter {
        let query = super::format::truncate(&sanitize(query), width.saturating_sub(1));
        spans.push(Span::styled("/", theme::key()));
        spans.push(Span::raw(query));
        used = spans.iter().map(Span::width).sum();
    }
    for (key, what) in view.hints {
        let key = Span::styled(*key, theme::key());
        let what = Span::styled(format!(" {what}"), theme::dim());
        let gap = if used == 0 { 0 } else { 2 };
        let needed = gap + key.width() + what.width();
        if used + needed > width {
            break;
        }
        if gap > 0 {
            spans.push(Span::raw("  "));
        }
        spans.extend([key, what]);
        used += needed;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
