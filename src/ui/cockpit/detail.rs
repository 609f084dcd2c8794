//! The selected job: its state and owner, its error, its outputs and its nodes, and room
//! for a preview the caller draws.

use super::CockpitView;
use crate::cockpit::{JobRow, Owner, RowState};
use crate::comfy::listing::{Finished, HistoryItem, PromptRecord};
use crate::text::{sanitize, sanitize_with};
use crate::ui::format::{truncate, wrap};
use crate::ui::theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// A preview beside the text needs this width, one below it this height.
const PREVIEW_BESIDE_WIDTH: u16 = 72;
const PREVIEW_BELOW_HEIGHT: u16 = 16;

/// The text pane and, with room, the preview pane (border included). The preview goes
/// along the pane's longer side, counting a cell as twice as tall as wide.
pub fn split(area: Rect) -> (Rect, Option<Rect>) {
    if area.width >= area.height.saturating_mul(2) {
        if area.width < PREVIEW_BESIDE_WIDTH {
            return (area, None);
        }
        let [text, preview] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                .areas(area);
        (text, Some(preview))
    } else {
        if area.height < PREVIEW_BELOW_HEIGHT {
            return (area, None);
        }
        let [text, preview] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
        (text, Some(preview))
    }
}

/// The cells inside a preview pane's border.
pub fn preview_inner(pane: Rect) -> Rect {
    pane.inner(Margin::new(1, 1))
}

/// Draws the detail pane into `area` and returns the cells left for a preview (inside its
/// border), if there is room for one.
pub fn render(frame: &mut Frame<'_>, area: Rect, view: &CockpitView<'_>) -> Option<Rect> {
    let (text_area, preview) = split(area);
    let row = view.selected_row();
    let title = row.map_or_else(
        || " Job ".to_owned(),
        |row| format!(" {} ", sanitize(row.prompt_id.as_str())),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border())
        .title(Span::styled(title, theme::title()));
    let inner = block.inner(text_area);
    frame.render_widget(block, text_area);
    let lines = match row {
        Some(row) => lines(row, view, usize::from(inner.width)),
        None => vec![Line::styled("no job selected", theme::dim())],
    };
    frame.render_widget(Paragraph::new(fit(lines, usize::from(inner.height))), inner);
    preview.map(|pane| {
        frame.render_widget(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme::border())
                .title(Span::styled(" Preview ", theme::title())),
            pane,
        );
        preview_inner(pane)
    })
}

/// Cuts `lines` to `height`, saying how many were left out.
fn fit(mut lines: Vec<Line<'static>>, height: usize) -> Vec<Line<'static>> {
    if lines.len() > height && height > 0 {
        let hidden = lines.len() - (height - 1);
        lines.truncate(height - 1);
        lines.push(Line::styled(format!("… {hidden} more"), theme::dim()));
    }
    lines
}

fn section(title: &str) -> Line<'static> {
    Line::styled(title.to_owned(), theme::title())
}

/// What the pane says of `row`, most wanted first, since a small pane cuts the end: the
/// state, the error (it is why one looks), whose it is, the outputs, then the nodes, which
/// may be many.
fn lines(row: &JobRow, view: &CockpitView<'_>, width: usize) -> Vec<Line<'static>> {
    let record = view
        .record
        .or_else(|| view.history.and_then(|h| h.record.as_ref()));
    let mut out = vec![state_line(row)];
    if let Some(history) = view.history {
        error_lines(&mut out, row, history, width);
    }
    out.push(owner_line(row, record, width));
    if let Some(history) = view.history {
        output_lines(&mut out, history, width);
    }
    let error_node = view
        .history
        .and_then(|h| h.entry.error.as_ref()?.node_id.clone());
    if let Some(record) = record {
        let nodes: Vec<_> = record.nodes().collect();
        out.push(section(&format!("Nodes {}", nodes.len())));
        let id_width = nodes
            .iter()
            .map(|n| n.id.chars().count())
            .max()
            .unwrap_or(0);
        let class_width = nodes
            .iter()
            .map(|n| n.class_type.chars().count())
            .max()
            .unwrap_or(0)
            .min(24);
        for node in nodes {
            let failed = error_node.as_ref().is_some_and(|id| id.as_str() == node.id);
            let style = if failed {
                theme::error()
            } else {
                theme::base()
            };
            let id = sanitize(node.id);
            let class = truncate(&sanitize(node.class_type), class_width);
            let mut text = format!("  {id:>id_width$} {class:<class_width$}");
            let title = node
                .title
                .map(|t| sanitize(t).into_owned())
                .filter(|t| t != node.class_type);
            let mut spans = Vec::new();
            if let Some(title) = title {
                text.push(' ');
                let room = width.saturating_sub(text.chars().count());
                spans.push(Span::styled(truncate(&text, width), style));
                spans.push(Span::styled(truncate(&title, room), theme::dim()));
            } else {
                spans.push(Span::styled(truncate(text.trim_end(), width), style));
            }
            out.push(Line::from(spans));
        }
    }
    out
}

fn state_line(row: &JobRow) -> Line<'static> {
    let style = theme::job_state(row.state);
    let mut spans = vec![Span::styled(
        format!("{} {}", theme::job_mark(row.state), row.state.word()),
        style,
    )];
    let extra = match (row.state, row.progress) {
        (RowState::Running, Some(p)) if p.is_finite() => {
            format!(" · {:.0}%", p.clamp(0.0, 1.0) * 100.0)
        }
        (RowState::Pending { position: 1 }, _) => " · next in the queue".into(),
        (RowState::Pending { position }, _) => format!(" · #{position} in the queue"),
        _ => String::new(),
    };
    spans.push(Span::styled(extra, theme::dim()));
    let nodes = match row.nodes {
        1 => " · 1 node".to_owned(),
        n => format!(" · {n} nodes"),
    };
    spans.push(Span::styled(nodes, theme::dim()));
    Line::from(spans)
}

/// The whole client id: the table has room only for its start.
fn owner_line(row: &JobRow, record: Option<&PromptRecord>, width: usize) -> Line<'static> {
    let client = record
        .and_then(PromptRecord::client_id)
        .or(match &row.owner {
            Owner::Client(id) => Some(id.clone()),
            Owner::Mine | Owner::Unknown => None,
        });
    let mut spans = vec![Span::styled("client ", theme::label())];
    let mine = row.owner == Owner::Mine;
    let room = width.saturating_sub(7 + if mine { 7 } else { 0 });
    match client {
        Some(id) => spans.push(Span::raw(truncate(&sanitize(id.as_str()), room))),
        None => spans.push(Span::styled("none given", theme::dim())),
    }
    if mine {
        spans.push(Span::styled(" (mine)", theme::mine()));
    }
    Line::from(spans)
}

fn error_lines(out: &mut Vec<Line<'static>>, row: &JobRow, history: &HistoryItem, width: usize) {
    if row.state != RowState::Finished(Finished::Error) {
        return;
    }
    // The state line above already says "failed": the error needs no heading of its own.
    let Some(error) = &history.entry.error else {
        out.push(Line::styled(
            "the server recorded no error message".to_owned(),
            theme::dim(),
        ));
        return;
    };
    let node = match (&error.node_type, &error.node_id) {
        (Some(class), Some(id)) => format!("{} (node {})", sanitize(class), sanitize(id.as_str())),
        (Some(class), None) => sanitize(class).into_owned(),
        (None, Some(id)) => format!("node {}", sanitize(id.as_str())),
        (None, None) => String::new(),
    };
    let kind = sanitize(&error.exception_type).into_owned();
    let head = match (node.is_empty(), kind.is_empty()) {
        (false, false) => format!("{node}: {kind}"),
        (false, true) => node,
        (true, _) => kind,
    };
    if !head.is_empty() {
        out.push(Line::styled(truncate(&head, width), theme::error_title()));
    }
    let message = sanitize_with(&error.exception_message, true);
    for line in message.lines().filter(|l| !l.trim().is_empty()) {
        for part in wrap(line.trim_end(), width.saturating_sub(2)) {
            out.push(Line::styled(format!("  {part}"), theme::error()));
        }
    }
}

fn output_lines(out: &mut Vec<Line<'static>>, history: &HistoryItem, width: usize) {
    let count = history.output_count();
    if count == 0 {
        return;
    }
    out.push(section(&format!("Outputs {count}")));
    for (_, output) in &history.entry.outputs {
        for file in &output.files {
            let name = if file.subfolder.is_empty() {
                sanitize(&file.filename).into_owned()
            } else {
                format!("{}/{}", sanitize(&file.subfolder), sanitize(&file.filename))
            };
            out.push(Line::raw(truncate(&format!("  {name}"), width)));
        }
        for text in &output.texts {
            let first = sanitize_with(text, true);
            let first = first.lines().next().unwrap_or_default();
            out.push(Line::styled(
                truncate(&format!("  “{first}”"), width),
                theme::dim(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preview_goes_along_the_longer_side_or_not_at_all() {
        let (text, preview) = split(Rect::new(0, 0, 80, 9));
        assert_eq!(preview.map(|p| p.width), Some(32));
        assert_eq!(text.width, 48);
        let (_, preview) = split(Rect::new(0, 0, 54, 37));
        assert_eq!(preview.map(|p| (p.y, p.height)), Some((19, 18)));
        assert_eq!(split(Rect::new(0, 0, 60, 7)).1, None);
        assert_eq!(split(Rect::new(0, 0, 30, 12)).1, None);
    }

    #[test]
    fn long_text_is_cut_with_a_count() {
        let lines: Vec<Line<'static>> = (0..10).map(|i| Line::raw(i.to_string())).collect();
        let cut = fit(lines.clone(), 4);
        assert_eq!(cut.len(), 4);
        assert_eq!(cut[3].spans[0].content, "… 7 more");
        assert_eq!(fit(lines, 10).len(), 10);
    }
}
