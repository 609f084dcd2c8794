//! The error panel: a node's exception with its scrollable traceback, a rejected prompt
//! with its node errors, or why the run was lost.

use super::scroll::View;
use super::{format, theme};
use crate::app::App;
use crate::job::Outcome;
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// Whether there is something for this panel.
pub fn has_error(app: &App) -> bool {
    app.job().error.is_some()
        || app.focused().rejection.is_some()
        || (app.focused().fatal.is_some()
            && matches!(app.job().outcome(), Some(Outcome::Lost | Outcome::Timeout)))
}

/// The panel's heading and body lines (the body scrolls).
fn content(app: &App) -> (String, Vec<Line<'static>>) {
    let mut lines = Vec::new();
    if let Some(error) = &app.job().error {
        let node = error
            .node_id
            .as_ref()
            .and_then(|id| app.job().node(id))
            .map(|n| format!("{} (node {})", sanitize(n.name()), sanitize(n.id.as_str())))
            .or_else(|| {
                error
                    .node_id
                    .as_ref()
                    .map(|id| format!("node {}", sanitize(id.as_str())))
            });
        if let Some(node) = node {
            let same = error
                .node_id
                .as_ref()
                .and_then(|id| app.job().node(id))
                .is_some_and(|n| n.name() == error.node_type);
            let class = if error.node_type.is_empty() || same {
                String::new()
            } else {
                format!(" · {}", sanitize(&error.node_type))
            };
            lines.push(Line::from(vec![
                Span::styled(node, theme::title()),
                Span::styled(class, theme::dim()),
            ]));
        }
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}: ", sanitize(&error.exception_type)),
                theme::error_title(),
            ),
            Span::raw(sanitize(&error.message).into_owned()),
        ]));
        if !error.traceback.is_empty() {
            lines.push(Line::raw(""));
            lines.push(Line::styled("Traceback", theme::dim()));
            for frame in &error.traceback {
                for line in frame.trim_end_matches('\n').split('\n').map(sanitize) {
                    lines.push(Line::styled(line.into_owned(), theme::dim()));
                }
            }
        }
        return (" Execution error ".into(), lines);
    }
    if let Some(rejection) = &app.focused().rejection {
        lines.push(Line::styled(
            sanitize(&rejection.to_string()).into_owned(),
            theme::error_title(),
        ));
        for node_error in &rejection.node_errors {
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!(
                    "node {} · {}",
                    sanitize(node_error.node_id.as_str()),
                    sanitize(&node_error.class_type)
                ),
                theme::title(),
            ));
            for item in &node_error.errors {
                let input = item
                    .input_name
                    .as_deref()
                    .map(|i| format!("{}: ", sanitize(i)))
                    .unwrap_or_default();
                let details = if item.details.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", sanitize(&item.details))
                };
                lines.push(Line::raw(format!(
                    "  {input}{}{details}",
                    sanitize(&item.message)
                )));
            }
        }
        return (" Prompt rejected ".into(), lines);
    }
    if let Some(fatal) = &app.focused().fatal {
        lines.push(Line::styled(sanitize(fatal).into_owned(), theme::error()));
    }
    (" Run lost ".into(), lines)
}

/// The panel's view in `area`: the user's scroll over the wrapped lines, clamped.
pub fn view(app: &App, area: Rect) -> View {
    let inner = Block::bordered().inner(area);
    let total = wrapped(content(app).1, inner.width).len();
    let visible = usize::from(inner.height);
    View {
        area,
        first: app.ui.error.offset.min(total.saturating_sub(visible)),
        visible,
        total,
    }
}

/// Wraps the content to `width` so that scrolling counts screen rows.
fn wrapped(lines: Vec<Line<'static>>, width: u16) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for line in lines {
        let style = line.spans.first().map_or(Style::default(), |s| s.style);
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        if line.spans.len() > 1 && text.chars().count() <= usize::from(width) {
            out.push(line);
            continue;
        }
        // Continuation rows keep the line's indent and two more: a traceback stays legible.
        let indent = (text.len() - text.trim_start().len()).min(usize::from(width) / 3);
        let body_width = usize::from(width).saturating_sub(indent + 2).max(8);
        for (i, piece) in format::wrap(text.trim_start(), body_width)
            .into_iter()
            .enumerate()
        {
            let pad = if i == 0 { indent } else { indent + 2 };
            out.push(Line::styled(format!("{:pad$}{piece}", ""), style));
        }
    }
    out
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let (heading, lines) = content(app);
    let block = Block::bordered()
        .border_style(theme::error())
        .title(Span::styled(heading, theme::error_title()));
    let inner = block.inner(area);
    let lines = wrapped(lines, inner.width);
    let View {
        first,
        visible,
        total,
        ..
    } = view(app, area);
    let paragraph = Paragraph::new(lines);
    let mut block = block;
    if total > visible {
        block = block.title_bottom(
            Line::styled(
                format!(
                    " {}-{} of {} · ↑↓ scroll ",
                    first + 1,
                    (first + visible).min(total),
                    total
                ),
                theme::dim(),
            )
            .right_aligned(),
        );
    }
    frame.render_widget(
        paragraph
            .block(block)
            .scroll((first.min(usize::from(u16::MAX)) as u16, 0)),
        area,
    );
}
