//! The help popup and the README key table, both generated from the keymap table.

use super::{format, popup, theme};
use crate::app::Key;
use crate::app::keymap::KEYMAP;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// Widest popup, in columns.
const MAX_WIDTH: u16 = 76;

/// How a key is written in the docs.
pub fn key_name(key: Key) -> String {
    match key {
        Key::Char(' ') => "Space".into(),
        Key::Char(c) => c.to_string(),
        Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
        Key::Up => "↑".into(),
        Key::Down => "↓".into(),
        Key::PageUp => "PgUp".into(),
        Key::PageDown => "PgDn".into(),
        Key::Home => "Home".into(),
        Key::End => "End".into(),
        Key::Esc => "Esc".into(),
        Key::Enter => "Enter".into(),
        Key::Tab => "Tab".into(),
        Key::Backspace => "Backspace".into(),
    }
}

/// The keys as a Markdown table, for the README (a test keeps the two in step).
pub fn markdown_key_table() -> String {
    let mut out = String::from("| Key | Action |\n|-----|--------|\n");
    for binding in KEYMAP {
        let keys: Vec<String> = binding
            .keys
            .iter()
            .map(|k| format!("`{}`", key_name(*k)))
            .collect();
        out.push_str(&format!("| {} | {} |\n", keys.join(", "), binding.help));
    }
    out
}

/// The popup's lines at a given inner width; when they would be more than `height`, one
/// line a key, cut short, so that every key and the way out still show.
pub fn fitted_lines(width: u16, height: u16, batch: bool) -> Vec<Line<'static>> {
    let lines = lines(width, batch);
    if lines.len() <= usize::from(height) {
        return lines;
    }
    let label_width = label_width();
    let text_width = usize::from(width).saturating_sub(label_width).max(10);
    let mut short: Vec<Line<'static>> = shown(batch)
        .map(|binding| {
            Line::from(vec![
                Span::styled(format!("{:<label_width$}", binding.label), theme::key()),
                Span::raw(format::truncate(binding.help, text_width)),
            ])
        })
        .collect();
    short.push(Line::styled("Esc, ? or q closes this help.", theme::dim()));
    short
}

fn label_width() -> usize {
    KEYMAP
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(1)
        + 2
}

/// The bindings the help shows: the batch keys only in a batch.
fn shown(batch: bool) -> impl Iterator<Item = &'static crate::app::keymap::Binding> {
    KEYMAP
        .iter()
        .filter(move |b| batch || !crate::app::keymap::batch_only(b.action))
}

/// The popup's lines at a given inner width.
pub fn lines(width: u16, batch: bool) -> Vec<Line<'static>> {
    let label_width = label_width();
    let text_width = usize::from(width).saturating_sub(label_width).max(10);
    let mut lines = Vec::new();
    for binding in shown(batch) {
        for (i, piece) in format::wrap(binding.help, text_width)
            .into_iter()
            .enumerate()
        {
            let label = if i == 0 { binding.label } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("{label:<label_width$}"), theme::key()),
                Span::raw(piece),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Esc, ? or q closes this help.", theme::dim()));
    lines
}

/// Where the popup goes on a screen of `area`.
pub fn area(area: Rect, batch: bool) -> Rect {
    let width = area.width.saturating_sub(4).min(MAX_WIDTH);
    let body = fitted_lines(
        width.saturating_sub(4),
        area.height.saturating_sub(2),
        batch,
    );
    let height = (body.len() as u16 + 2).min(area.height);
    popup::centered(area, width, height)
}

pub fn render(frame: &mut Frame<'_>, area: Rect, batch: bool) {
    let rect = self::area(area, batch);
    let body = fitted_lines(
        rect.width.saturating_sub(4),
        area.height.saturating_sub(2),
        batch,
    );
    let block = Block::bordered()
        .border_style(theme::popup_border())
        .title(Span::styled(" Keys ", theme::title()))
        .padding(ratatui::widgets::Padding::horizontal(1));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(body).block(block), rect);
}
