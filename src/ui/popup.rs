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

/// The open popup's title, text and answers (the help popup has its own layout).
fn question_for(app: &App) -> Option<(&'static str, String, &'static [AnswerBinding])> {
    match app.ui.popup? {
        Popup::Help | Popup::ServerLog => None,
        Popup::ConfirmCancel => {
            let what = if matches!(app.job().phase, Phase::Submitting | Phase::Queued) {
                "Remove prompt {id} from the server's queue?"
            } else {
                "Stop prompt {id} on the server?"
            };
            let text = what.replace("{id}", &sanitize(app.job().prompt_id.short()));
            Some((" Cancel the run? ", text, CONFIRM_CANCEL))
        }
        Popup::ConfirmCancelBatch => {
            let left = app
                .session
                .jobs
                .iter()
                .filter(|t| !t.job.is_finished())
                .count();
            Some((
                " Cancel the batch? ",
                format!(
                    "Cancel the {left} jobs not finished? Pending ones are removed first, then the running one stops."
                ),
                CONFIRM_CANCEL,
            ))
        }
        Popup::ConfirmQuit => Some((
            " Quit? ",
            "The run is still going on the server.".to_owned(),
            CONFIRM_QUIT,
        )),
    }
}

/// Where the open popup goes on a screen of `area`, if one is open.
pub fn area(area: Rect, app: &App) -> Option<Rect> {
    match app.ui.popup? {
        Popup::Help => Some(help::area(area, app.is_batch())),
        Popup::ServerLog => Some(super::server_log::area(area)),
        _ => {
            let (_, text, table) = question_for(app)?;
            Some(question_rect(area, &question_lines(&text, table)))
        }
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    match app.ui.popup {
        None => {}
        Some(Popup::Help) => help::render(frame, area, app.is_batch()),
        Some(Popup::ServerLog) => super::server_log::render(frame, area, app),
        Some(_) => {
            if let Some((title, text, table)) = question_for(app) {
                question(frame, area, title, &text, table);
            }
        }
    }
}

fn question_lines(text: &str, table: &[AnswerBinding]) -> Vec<Line<'static>> {
    let mut lines = vec![Line::raw(text.to_owned()), Line::raw("")];
    for answer in table {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<3}", answer.label), theme::key()),
            Span::raw(answer.text),
        ]));
    }
    lines
}

fn question_rect(area: Rect, lines: &[Line<'_>]) -> Rect {
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16;
    centered(area, widest + 4, lines.len() as u16 + 2)
}

fn question(frame: &mut Frame<'_>, area: Rect, title: &str, text: &str, table: &[AnswerBinding]) {
    let lines = question_lines(text, table);
    let rect = question_rect(area, &lines);
    let block = Block::bordered()
        .border_style(theme::popup_border())
        .title(Span::styled(title.to_owned(), theme::title()))
        .padding(Padding::horizontal(1));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
