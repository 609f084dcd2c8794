//! The cockpit drawn from its state: the screen of `ui::cockpit`, the last answer in the
//! footer, and the open popup (a question, the help, the server log). Pure.

use super::keymap;
use super::state::{Cockpit, Filter, Popup};
use crate::app::Connection;
use crate::text::sanitize;
use crate::ui::cockpit::{CockpitView, layout};
use crate::ui::preview::{PreviewState, Source};
use crate::ui::{popup, theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph, Wrap};

pub fn render(frame: &mut Frame<'_>, cockpit: &Cockpit, preview: &PreviewState) {
    let server = cockpit.server();
    let connection = match server.connection {
        Connection::Connecting => "connecting".to_owned(),
        Connection::Connected => "connected".to_owned(),
        Connection::Reconnecting { attempt } => format!("reconnecting (attempt {attempt})"),
    };
    let selected = cockpit.selected_row();
    let record = selected.and_then(|row| {
        cockpit.queued_record(&row.prompt_id).or_else(|| {
            cockpit
                .history_item(&row.prompt_id)
                .and_then(|h| h.record.as_ref())
        })
    });
    let history = selected.and_then(|row| cockpit.history_item(&row.prompt_id));
    let hints = keymap::hints();
    let typed;
    let filter = match &cockpit.filter {
        Filter::Off => None,
        Filter::On(query) => Some(query.as_str()),
        Filter::Typing(query) => {
            typed = format!("{query}▏");
            Some(typed.as_str())
        }
    };
    let view = CockpitView {
        server: &server.label,
        connection: &connection,
        stats: server.stats.as_ref(),
        rows: &cockpit.rows,
        selected: cockpit.selection.selected(),
        offset: cockpit.selection.offset(),
        record,
        history,
        filter,
        now_ms: cockpit.now_ms(),
        hints: &hints,
    };
    crate::ui::cockpit::render(frame, &view);
    let area = frame.area();
    if let Some(areas) = layout(area, cockpit.rows.len()) {
        if let (Some(rect), Some(file)) = (areas.preview, cockpit.picture.file())
            && cockpit.popup.is_none()
        {
            preview.render_source(frame, rect, &Source::Remote(file.clone()));
        }
        if let Some(notice) = &cockpit.notice {
            render_notice(frame, areas.footer, &notice.text, notice.failed);
        }
    }
    match &cockpit.popup {
        None => {}
        Some(Popup::Confirm { question, .. }) => render_question(frame, area, question),
        Some(Popup::Help) => render_help(frame, area),
        Some(Popup::ServerLog) => crate::ui::server_log::render_log(frame, area, &server.log),
    }
}

/// The last answer, on the right of the footer line (over the hints that do not fit).
fn render_notice(frame: &mut Frame<'_>, footer: Rect, text: &str, failed: bool) {
    let text = sanitize(text);
    let width = u16::try_from(text.chars().count() + 2)
        .unwrap_or(u16::MAX)
        .min(footer.width);
    let rect = Rect::new(footer.right() - width, footer.y, width, 1);
    let style = if failed {
        theme::error()
    } else {
        theme::label()
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(format!(" {text} "), style))),
        rect,
    );
}

fn render_question(frame: &mut Frame<'_>, area: Rect, question: &str) {
    let width = 56.min(area.width);
    let inner = usize::from(width.saturating_sub(4)).max(1);
    let rows = u16::try_from(question.chars().count().div_ceil(inner)).unwrap_or(1);
    let rect = popup::centered(area, width, rows + 4);
    let block = Block::bordered()
        .border_style(theme::popup_border())
        .title(Span::styled(" Sure? ", theme::title()))
        .padding(Padding::horizontal(1));
    let lines = vec![
        Line::raw(sanitize(question).into_owned()),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme::key()),
            Span::raw(" yes   "),
            Span::styled("n", theme::key()),
            Span::raw(" no"),
        ]),
    ];
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        rect,
    );
}

fn render_help(frame: &mut Frame<'_>, area: Rect) {
    let lines: Vec<Line<'_>> = keymap::KEYMAP
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>5}  ", b.label), theme::key()),
                Span::raw(b.help),
            ])
        })
        .collect();
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let rect = popup::centered(area, area.width.saturating_sub(4).min(100), height);
    let block = Block::bordered()
        .border_style(theme::popup_border())
        .title(Span::styled(" Keys ", theme::title()))
        .title_bottom(Span::styled(" ?/Esc close ", theme::label()))
        .padding(Padding::horizontal(1));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
