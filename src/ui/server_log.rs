//! The server's own log (ComfyUI's console, as its `logs` messages carry it) in a popup:
//! the newest lines that fit, every line sanitised.

use super::{popup, theme};
use crate::app::App;
use crate::ring::Ring;
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// Most of the screen: log lines are long.
pub fn area(area: Rect) -> Rect {
    let width = area.width.saturating_sub(4).max(20).min(area.width);
    let height = area.height.saturating_sub(4).max(6).min(area.height);
    popup::centered(area, width, height)
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    render_log(frame, area, &app.server().log);
}

/// The popup over `area` for a server's log (the run view's and the cockpit's).
pub fn render_log(frame: &mut Frame<'_>, area: Rect, log: &Ring<String>) {
    let rect = self::area(area);
    let room = usize::from(rect.height.saturating_sub(2));
    let lines: Vec<Line<'_>> = if log.is_empty() {
        vec![Line::styled(
            "waiting for the server's log…",
            theme::label(),
        )]
    } else {
        let skip = log.len().saturating_sub(room);
        log.iter()
            .skip(skip)
            .map(|line| Line::raw(sanitize(line).into_owned()))
            .collect()
    };
    let block = Block::bordered()
        .border_style(theme::popup_border())
        .title(Span::styled(" Server log ", theme::title()))
        .title_bottom(Span::styled(" L/Esc close ", theme::label()))
        .padding(ratatui::widgets::Padding::horizontal(1));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
