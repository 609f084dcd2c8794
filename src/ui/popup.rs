//! Popups drawn over the view: help, confirm-cancel and quit, each from its key table.

use super::{help, theme};
use crate::app::keymap::{AnswerBinding, CONFIRM_CANCEL, CONFIRM_QUIT};
use crate::app::{App, Popup};
use crate::job::Phase;
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph};

/// A rectangle of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    match app.ui.popup {
        None => {}
        Some(Popup::Help) => help::render(frame, area),
        Some(Popup::ConfirmCancel) => {
            let what = if matches!(app.job.phase, Phase::Submitting | Phase::Queued) {
                "Remove prompt {id} from the server's queue?"
            } else {
                "Stop prompt {id} on the server?"
            };
            let text = what.replace("{id}", &sanitize(app.job.prompt_id.short()));
            question(frame, area, " Cancel the run? ", &text, CONFIRM_CANCEL);
        }
        Some(Popup::ConfirmQuit) => question(
            frame,
            area,
            " Quit? ",
            "The run is still going on the server.",
            CONFIRM_QUIT,
        ),
    }
}

fn question(frame: &mut Frame<'_>, area: Rect, title: &str, text: &str, table: &[AnswerBinding]) {
    let mut lines = vec![Line::raw(text.to_owned()), Line::raw("")];
    for answer in table {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<3}", answer.label), theme::key()),
            Span::raw(answer.text),
        ]));
    }
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16;
    let rect = centered(area, widest + 4, lines.len() as u16 + 2);
    let block = Block::bordered()
        .border_style(theme::popup_border())
        .title(Span::styled(title.to_owned(), theme::title()))
        .padding(Padding::horizontal(1));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
