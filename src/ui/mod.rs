//! The view: pure functions from `&App` (plus the decoded preview the TUI owns) to a frame.
//! One file per panel; [`theme`] holds every colour. Nothing here does I/O or reads a clock.

pub mod cockpit;
pub mod error;
pub mod footer;
pub mod format;
pub mod gauges;
pub mod header;
pub mod help;
pub mod jobs;
pub mod log;
pub mod nodes;
pub mod outputs;
pub mod picture;
pub mod popup;
pub mod preview;
pub mod scroll;
pub mod server_log;
pub mod summary;
pub mod theme;
pub mod title;

pub use preview::PreviewState;

use crate::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

/// The smallest terminal the full view fits in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 20;
/// Below this the preview pane gives its room back to the node list.
const PREVIEW_MIN_BODY_WIDTH: u16 = 72;
/// The node list keeps at least this many rows (border included).
const BODY_MIN_HEIGHT: u16 = 6;

/// Where each panel goes for a given terminal size and app state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    /// A batch's jobs and its contact strip.
    pub jobs: Option<Rect>,
    pub graph: Rect,
    pub node: Rect,
    pub nodes: Rect,
    pub preview: Option<Rect>,
    pub error: Option<Rect>,
    pub outputs: Option<Rect>,
    pub log: Option<Rect>,
    pub footer: Rect,
}

impl Areas {
    /// The cells an image may use inside the preview pane (its border removed).
    pub fn preview_image(&self) -> Option<Rect> {
        self.preview.map(preview::image_area)
    }
}

pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// Splits the screen; `None` when it is too small for the view.
pub fn layout(area: Rect, app: &App) -> Option<Areas> {
    if too_small(area) {
        return None;
    }
    let [header, graph, node, middle, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);

    let jobs_height = jobs::height(
        app,
        (middle.height / 2)
            .max(4)
            .min(middle.height.saturating_sub(BODY_MIN_HEIGHT)),
    );
    let [jobs_area, middle] =
        Layout::vertical([Constraint::Length(jobs_height), Constraint::Min(0)]).areas(middle);
    let mut spare = middle.height.saturating_sub(BODY_MIN_HEIGHT);
    let outputs_height = outputs::wanted_height(app).min(spare);
    spare -= outputs_height;
    let log_height = if app.ui.show_log {
        (middle.height / 3).clamp(4, 10).min(spare)
    } else {
        0
    };
    let [body, outputs_area, log_area] = Layout::vertical([
        Constraint::Min(BODY_MIN_HEIGHT),
        Constraint::Length(outputs_height),
        Constraint::Length(log_height),
    ])
    .areas(middle);

    let shows_error = error::has_error(app);
    let wide = body.width >= PREVIEW_MIN_BODY_WIDTH;
    let (nodes_area, side) = if shows_error && !wide {
        // Narrow: the error goes under a short node list; it matters more.
        let list = (app.job().nodes.len() as u16 + 2).clamp(3, body.height / 3);
        let [top, bottom] =
            Layout::vertical([Constraint::Length(list), Constraint::Min(0)]).areas(body);
        (top, Some(bottom))
    } else if shows_error || (wide && !app.ui.hide_preview) {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        (left, Some(right))
    } else {
        (body, None)
    };
    let (preview_area, error_area) = if shows_error {
        (None, side)
    } else {
        (side, None)
    };
    Some(Areas {
        header,
        jobs: (jobs_height > 0).then_some(jobs_area),
        graph,
        node,
        nodes: nodes_area,
        preview: preview_area,
        error: error_area,
        outputs: (outputs_height > 0).then_some(outputs_area),
        log: (log_height > 0).then_some(log_area),
        footer,
    })
}

/// Draws the whole view.
pub fn render(frame: &mut Frame<'_>, app: &App, preview: &PreviewState) {
    let area = frame.area();
    let Some(areas) = layout(area, app) else {
        render_too_small(frame, area);
        // A question asked while the window is small must still be seen.
        popup::render(frame, area, app);
        return;
    };
    header::render(frame, areas.header, app);
    if let Some(rect) = areas.jobs {
        jobs::render(frame, rect, app, preview);
    }
    gauges::render_graph(frame, areas.graph, app);
    gauges::render_node(frame, areas.node, app);
    nodes::render(frame, areas.nodes, app);
    if let Some(rect) = areas.preview {
        preview::render(frame, rect, app, preview);
    }
    if let Some(rect) = areas.error {
        error::render(frame, rect, app);
    }
    if let Some(rect) = areas.outputs {
        outputs::render(frame, rect, app);
    }
    if let Some(rect) = areas.log {
        log::render(frame, rect, app);
    }
    footer::render(frame, areas.footer, app);
    popup::render(frame, area, app);
}

pub(crate) fn render_too_small(frame: &mut Frame<'_>, area: Rect) {
    let lines = vec![
        Line::styled("Terminal too small", theme::warning()),
        Line::from(format!(
            "{}×{}, needs {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
    ];
    let height = (lines.len() as u16).min(area.height);
    let y = area.y + area.height.saturating_sub(height) / 2;
    let rect = Rect::new(area.x, y, area.width, height);
    frame.render_widget(
        Paragraph::new(lines).alignment(ratatui::layout::Alignment::Center),
        rect,
    );
}
