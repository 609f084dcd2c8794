//! The bottom line: key hints from the keymap table, and a word on what is going on.

use super::theme;
use crate::app::keymap::{Action, KEYMAP};
use crate::app::{App, Connection};
use crate::job::Phase;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Whether a key does anything in the current state (a finished run cannot be cancelled).
fn applies(action: Action, app: &App) -> bool {
    match action {
        Action::Cancel => !app.job().is_finished() && !app.focused().user_cancelled(),
        // Worth saying only once the user has scrolled away.
        Action::Follow => !app.ui.nodes.follow || (app.ui.show_log && !app.ui.log.follow),
        _ => true,
    }
}

/// The hints, as spans, from the table's `in_footer` entries.
pub fn hints(app: &App) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for binding in KEYMAP
        .iter()
        .filter(|b| b.in_footer && applies(b.action, app))
    {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(binding.label, theme::key()));
        spans.push(Span::styled(format!(" {}", binding.hint), theme::dim()));
    }
    spans
}

fn status(app: &App) -> Option<Span<'static>> {
    if app.quitting() && !app.is_settled() {
        return Some(Span::styled(
            "finishing, then quitting (q: now)",
            theme::warning(),
        ));
    }
    if app.focused().user_cancelled() && !app.job().is_finished() {
        return Some(Span::styled("cancelling…", theme::warning()));
    }
    if app.job().is_finished() && !app.is_settled() {
        return Some(Span::styled("saving outputs…", theme::dim()));
    }
    if app.job().is_finished() {
        return Some(Span::styled("run ended", theme::dim()));
    }
    if let Connection::Reconnecting { attempt } = app.server().connection {
        return Some(Span::styled(
            format!("reconnecting #{attempt}"),
            theme::error(),
        ));
    }
    if app.job().phase == Phase::Running && app.ui.hide_preview {
        return Some(Span::styled("preview hidden", theme::dim()));
    }
    None
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let status = status(app);
    let status_width = status.as_ref().map_or(0, |s| s.width() as u16 + 1);
    let [left, right] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(status_width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(hints(app))), left);
    if let Some(status) = status {
        frame.render_widget(Paragraph::new(status).alignment(Alignment::Right), right);
    }
}
