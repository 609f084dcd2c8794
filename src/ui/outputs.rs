//! The files of the run: saved ones with their size and path, failed ones with the reason,
//! and those the server announced that are not saved yet (with bytes and rate while they
//! are being written).

use super::{format, theme};
use crate::app::{App, Transfer};
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// Rows the panel shows at most before it says how many more there are.
const MAX_ROWS: usize = 4;

/// Files announced by the server that are neither saved nor failed yet.
fn pending(app: &App) -> impl Iterator<Item = &crate::comfy::FileRef> {
    app.job().files().map(|(_, f)| f).filter(|f| {
        !app.focused().saves.saved.iter().any(|s| s.file == **f)
            && !app.focused().saves.failed.iter().any(|(g, _)| g == *f)
    })
}

fn row_count(app: &App) -> usize {
    app.focused().saves.saved.len() + app.focused().saves.failed.len() + pending(app).count()
}

/// The panel's height (border included); 0 while there is nothing to show.
pub fn wanted_height(app: &App) -> u16 {
    let rows = row_count(app);
    // "No files" says something only about a run that succeeded.
    if rows == 0 && app.job().outcome() != Some(crate::job::Outcome::Success) {
        return 0;
    }
    (rows.clamp(1, MAX_ROWS) + 2) as u16
}

/// `12.0 MiB of 48.0 MiB (25%) · 6.1 MiB/s`: how far a file being saved is.
pub fn progress(transfer: &Transfer) -> String {
    let mut text = format::bytes(transfer.bytes);
    if let Some(total) = transfer.total.filter(|&t| t > 0) {
        let percent = (transfer.bytes.min(total) * 100) / total;
        text.push_str(&format!(" of {} ({percent}%)", format::bytes(total)));
    }
    if let Some(rate) = transfer.rate() {
        text.push_str(&format!(" · {}/s", format::bytes(rate as u64)));
    }
    text
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let total: u64 = app.focused().saves.saved.iter().map(|s| s.bytes).sum();
    let mut title = vec![Span::styled(" Outputs ", theme::title())];
    if !app.focused().saves.saved.is_empty() {
        title.push(Span::styled(
            format!(
                "{} saved, {} ",
                app.focused().saves.saved.len(),
                format::bytes(total)
            ),
            theme::dim(),
        ));
    }
    if !app.focused().saves.failed.is_empty() {
        title.push(Span::styled(
            format!("{} failed ", app.focused().saves.failed.len()),
            theme::error(),
        ));
    }
    let block = Block::bordered()
        .border_style(theme::border())
        .title(Line::from(title));
    let inner = block.inner(area);
    let room = usize::from(inner.height);

    let mut lines: Vec<Line<'_>> = Vec::new();
    for (file, reason) in &app.focused().saves.failed {
        lines.push(Line::from(vec![
            Span::styled("✗ ", theme::error()),
            Span::raw(sanitize(&file.filename).into_owned()),
            Span::styled(format!("  {}", sanitize(reason)), theme::error()),
        ]));
    }
    for saved in app.focused().saves.saved.iter().rev() {
        lines.push(Line::from(vec![
            Span::styled("✓ ", theme::good()),
            Span::raw(format!("{:>9}  ", format::bytes(saved.bytes))),
            Span::raw(sanitize(&saved.path.to_string_lossy()).into_owned()),
        ]));
    }
    let waiting_word = if app.focused().spec.download {
        "saving…"
    } else {
        "on the server"
    };
    for file in pending(app) {
        let state = match app
            .focused()
            .saves
            .transfers
            .iter()
            .find(|t| t.file == *file)
        {
            Some(transfer) => progress(transfer),
            None => waiting_word.to_owned(),
        };
        lines.push(Line::from(vec![
            Span::styled("· ", theme::dim()),
            Span::raw(sanitize(&file.filename).into_owned()),
            Span::styled(format!("  {state}"), theme::dim()),
        ]));
    }
    if lines.is_empty() {
        lines.push(Line::styled("no files", theme::dim()));
    }
    if lines.len() > room && room > 0 {
        let more = lines.len() - (room - 1);
        lines.truncate(room - 1);
        lines.push(Line::styled(format!("… and {more} more"), theme::dim()));
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
