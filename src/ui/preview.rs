//! The preview pane: the latest preview of our prompt while it runs, the final output image
//! once it ends. Decoding and resizing happen off the event loop ([`DecodeJob::run`] in a
//! blocking task); the pane only draws what [`PreviewState`] already holds.

use super::theme;
use crate::app::App;
use crate::job::{Outcome, Phase};
use crate::text::sanitize;
use bytes::Bytes;
use image::{DynamicImage, ImageReader, Limits};
use ratatui::Frame;
use ratatui::layout::{Alignment, Margin, Rect, Size};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui_image::Image;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;
use std::io::Cursor;
use std::path::PathBuf;

/// Images larger than this are refused rather than decoded (a hostile or broken server).
const MAX_DIMENSION: u32 = 16_384;
/// The largest saved output read back to be shown (outputs can be videos of gigabytes).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// Which picture the pane should show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The n-th preview of our prompt (`job.previews`).
    Preview(u64),
    /// A saved output file.
    Output(PathBuf),
    /// An output read from the server (the cockpit's detail pane), by its name there.
    Remote(crate::comfy::FileRef),
    /// A saved output as a small picture in a batch's contact strip.
    Thumb(PathBuf),
}

/// What the pane wants: a picture at a size in cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub source: Source,
    pub size: Size,
}

/// The TUI's decoded picture and what is being decoded.
pub struct PreviewState {
    picker: Picker,
    /// Under a byte budget: draw previews in half blocks where the terminal's own protocol
    /// is kitty or sixel (see [`PreviewState::budgeted`]).
    budgeted: bool,
    shown: Option<(Target, Protocol)>,
    failed: Option<(Target, String)>,
    in_flight: Option<Target>,
    /// A batch's contact strip: each saved output's small picture (or why there is none),
    /// and the one being decoded (one at a time: they are many and small).
    thumbs: std::collections::HashMap<PathBuf, Result<Protocol, String>>,
    thumb_in_flight: Option<PathBuf>,
}

/// The work to do off the loop.
pub struct DecodeJob {
    pub target: Target,
    input: Input,
    picker: Picker,
}

enum Input {
    Bytes(Bytes),
    File(PathBuf),
}

/// The result of a [`DecodeJob`], handed back to [`PreviewState::finish`].
pub struct Decoded {
    pub target: Target,
    result: Result<Protocol, String>,
}

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoded")
            .field("target", &self.target)
            .field("ok", &self.result.is_ok())
            .finish()
    }
}

impl PreviewState {
    pub fn new(picker: Picker) -> Self {
        Self {
            picker,
            budgeted: false,
            shown: None,
            failed: None,
            in_flight: None,
            thumbs: std::collections::HashMap::new(),
            thumb_in_flight: None,
        }
    }

    /// Whether the view works under a byte budget. Then previews on a kitty or sixel
    /// terminal are drawn in half blocks: measured on a noisy preview, a kitty cell costs
    /// about 1 KB (0.8 KB deflated) and a sixel cell about 300 B, against about 35 B for a
    /// half-block cell, so the budget would leave them a postage stamp. iTerm2 pictures
    /// (JPEG, about 30 B a cell) and outputs keep the terminal's own protocol.
    pub fn budgeted(mut self, on: bool) -> Self {
        self.budgeted = on;
        self
    }

    /// The picker for `source`.
    fn picker_for(&self, source: &Source) -> Picker {
        use ratatui_image::picker::ProtocolType;
        let costly = matches!(
            self.picker.protocol_type(),
            ProtocolType::Kitty | ProtocolType::Sixel
        );
        if matches!(source, Source::Thumb(_))
            || self.budgeted && costly && matches!(source, Source::Preview(_))
        {
            // Contact-strip pictures are many and small: half blocks, a few bytes a cell.
            Picker::halfblocks()
        } else {
            self.picker.clone()
        }
    }

    /// Half-block pictures, which work on every terminal with colours.
    pub fn halfblocks() -> Self {
        Self::new(Picker::halfblocks())
    }

    /// The picture the pane should show now, if any.
    pub fn wanted(app: &App) -> Option<Source> {
        if app.job().outcome() == Some(Outcome::Success) {
            // The newest saved picture, preferring real outputs over preview temp files.
            let pictures = || {
                app.focused()
                    .saves
                    .saved
                    .iter()
                    .rev()
                    .filter(|s| is_decodable(&s.path))
            };
            let best = pictures()
                .find(|s| s.file.folder_type == "output")
                .or_else(|| pictures().next());
            if let Some(saved) = best {
                return Some(Source::Output(saved.path.clone()));
            }
        }
        app.job()
            .latest_preview
            .as_ref()
            .map(|_| Source::Preview(app.job().previews))
    }

    /// A decode to start for the pane at `area` (its image cells), when what is shown or
    /// being decoded is not what is wanted. Only one runs at a time: a fast preview stream
    /// is coalesced to the newest picture, never queued.
    pub fn next_job(&mut self, app: &App, area: Option<Rect>) -> Option<DecodeJob> {
        let target = self.pending(app, area)?;
        let input = match &target.source {
            Source::Preview(_) => Input::Bytes(app.job().latest_preview.as_ref()?.image.clone()),
            Source::Output(path) => Input::File(path.clone()),
            // The run view never wants these here: pictures from the server come with
            // their bytes (`job_for_bytes`), thumbnails through `thumb_job`.
            Source::Remote(_) | Source::Thumb(_) => return None,
        };
        self.in_flight = Some(target.clone());
        Some(DecodeJob {
            picker: self.picker_for(&target.source),
            target,
            input,
        })
    }

    /// The picture that is wanted in `area` and neither shown, failed nor being decoded:
    /// what [`next_job`](Self::next_job) would start.
    pub fn pending(&self, app: &App, area: Option<Rect>) -> Option<Target> {
        if self.in_flight.is_some() {
            return None;
        }
        let area = area.filter(|a| a.width > 0 && a.height > 0)?;
        let target = Target {
            source: Self::wanted(app)?,
            size: area.as_size(),
        };
        if self.shown.as_ref().is_some_and(|(t, _)| *t == target)
            || self.failed.as_ref().is_some_and(|(t, _)| *t == target)
        {
            return None;
        }
        Some(target)
    }

    /// What the picture on screen is, if one is.
    pub fn shown_target(&self) -> Option<&Target> {
        self.shown.as_ref().map(|(t, _)| t)
    }

    /// The cells the picture on screen takes, if one is.
    pub fn shown_size(&self) -> Option<Size> {
        self.shown.as_ref().map(|(_, p)| p.size())
    }

    /// What a preview cell is first assumed to cost under the protocol previews use.
    pub fn cell_bytes_guess(&self) -> f64 {
        super::picture::cell_bytes_guess(&self.picker_for(&Source::Preview(0)))
    }

    /// Takes a finished decode. A failure keeps the previous picture on screen.
    pub fn finish(&mut self, decoded: Decoded) {
        if let Source::Thumb(path) = &decoded.target.source {
            if self.thumb_in_flight.as_ref() == Some(path) {
                self.thumb_in_flight = None;
            }
            self.thumbs.insert(path.clone(), decoded.result);
            return;
        }
        if self.in_flight.as_ref() == Some(&decoded.target) {
            self.in_flight = None;
        }
        match decoded.result {
            Ok(protocol) => {
                self.failed = None;
                self.shown = Some((decoded.target, protocol));
            }
            Err(reason) => self.failed = Some((decoded.target, reason)),
        }
    }

    /// A decode of `bytes` (a picture read from the server) for `target`, unless that
    /// target is shown, failed or being decoded already.
    pub fn job_for_bytes(&mut self, target: Target, bytes: Bytes) -> Option<DecodeJob> {
        let known = |t: Option<&Target>| t == Some(&target);
        if self.in_flight.is_some()
            || known(self.shown.as_ref().map(|(t, _)| t))
            || known(self.failed.as_ref().map(|(t, _)| t))
        {
            return None;
        }
        self.in_flight = Some(target.clone());
        Some(DecodeJob {
            picker: self.picker_for(&target.source),
            target,
            input: Input::Bytes(bytes),
        })
    }

    /// Draws the picture on screen centred in `area` when it is `source`'s, or says why
    /// there is none (the cockpit's preview pane).
    pub fn render_source(&self, frame: &mut Frame<'_>, area: Rect, source: &Source) {
        if let Some((target, protocol)) = &self.shown
            && target.source == *source
        {
            let size = protocol.size();
            if size.width <= area.width && size.height <= area.height {
                let x = area.x + (area.width - size.width) / 2;
                let y = area.y + (area.height - size.height) / 2;
                frame.render_widget(
                    Image::new(protocol),
                    Rect::new(x, y, size.width, size.height),
                );
                return;
            }
        }
        let message = match &self.failed {
            Some((target, reason)) if target.source == *source => Line::styled(
                format!("cannot show it: {}", sanitize(reason)),
                theme::dim(),
            ),
            _ => Line::styled("loading…", theme::dim()),
        };
        let y = area.y + area.height / 2;
        frame.render_widget(
            Paragraph::new(message).alignment(Alignment::Center),
            Rect::new(area.x, y, area.width, 1.min(area.height)),
        );
    }

    /// The next contact-strip picture to decode among `wanted` (saved files, each to fit
    /// `size`), one at a time.
    pub fn thumb_job(&mut self, wanted: &[PathBuf], size: Size) -> Option<DecodeJob> {
        if self.thumb_in_flight.is_some() {
            return None;
        }
        let path = wanted
            .iter()
            .find(|p| !self.thumbs.contains_key(*p) && is_decodable(p))?;
        self.thumb_in_flight = Some(path.clone());
        let source = Source::Thumb(path.clone());
        Some(DecodeJob {
            picker: self.picker_for(&source),
            target: Target { source, size },
            input: Input::File(path.clone()),
        })
    }

    /// A contact-strip picture, once decoded.
    pub fn thumb(&self, path: &std::path::Path) -> Option<&Protocol> {
        self.thumbs.get(path).and_then(|r| r.as_ref().ok())
    }

    /// Decodes on the calling thread (tests, and inside the blocking task).
    pub fn decode_now(&mut self, app: &App, area: Rect) {
        if let Some(job) = self.next_job(app, Some(area)) {
            self.finish(job.run());
        }
    }

    fn shown(&self) -> Option<&(Target, Protocol)> {
        self.shown.as_ref()
    }
}

impl DecodeJob {
    /// Reads, decodes, resizes and encodes: slow, so call it from `spawn_blocking`.
    pub fn run(self) -> Decoded {
        // Image bytes come from the server: a decoder that panics on them must still
        // report back, or the pane would wait for this job forever.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.decode()
                .and_then(|image| super::picture::encode(&self.picker, image, self.target.size))
        }))
        .unwrap_or_else(|_| Err("the image decoder failed".to_owned()));
        Decoded {
            target: self.target,
            result,
        }
    }

    fn decode(&self) -> Result<DynamicImage, String> {
        let bytes = match &self.input {
            Input::Bytes(bytes) => bytes.clone(),
            Input::File(path) => {
                let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
                if size > MAX_FILE_BYTES {
                    return Err(format!("{size} bytes is too large to show"));
                }
                Bytes::from(std::fs::read(path).map_err(|e| e.to_string())?)
            }
        };
        let mut reader = ImageReader::new(Cursor::new(&bytes[..]))
            .with_guessed_format()
            .map_err(|e| e.to_string())?;
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_DIMENSION);
        limits.max_image_height = Some(MAX_DIMENSION);
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        reader.limits(limits);
        reader.decode().map_err(|e| e.to_string())
    }
}

fn is_decodable(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

/// The cells an image may use inside the pane at `area`.
pub fn image_area(area: Rect) -> Rect {
    area.inner(Margin::new(1, 1))
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, state: &PreviewState) {
    let wanted = PreviewState::wanted(app);
    let caption = match (&wanted, app.job().phase) {
        (Some(Source::Output(path)), _) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            format!(" Output {} ", sanitize(&name))
        }
        (_, Phase::Finished(_)) => " Last preview ".to_owned(),
        _ => " Preview ".to_owned(),
    };
    let block = Block::bordered()
        .border_style(theme::border())
        .title(Span::styled(caption, theme::title()));
    let inner = image_area(area);
    frame.render_widget(block, area);

    // Half blocks are cells: a popup drawn later covers them like any text. Graphics
    // protocols draw over everything, so such a picture is left out only where a popup
    // would overlap it.
    let popup = super::popup::area(frame.area(), app);
    let mut popup_hides = false;
    if let Some((_, protocol)) = state.shown() {
        let size = protocol.size();
        if size.width <= inner.width && size.height <= inner.height {
            let x = inner.x + (inner.width - size.width) / 2;
            let y = inner.y + (inner.height - size.height) / 2;
            let rect = Rect::new(x, y, size.width, size.height);
            popup_hides = !matches!(protocol, Protocol::Halfblocks(_))
                && popup.is_some_and(|p| p.intersects(rect));
            if !popup_hides {
                frame.render_widget(Image::new(protocol), rect);
                return;
            }
        }
    }
    let popup_open = popup_hides;
    let message = match (&wanted, &state.failed) {
        (_, Some((_, reason))) => Line::styled(
            format!("cannot show it: {}", sanitize(reason)),
            theme::dim(),
        ),
        (Some(_), None) if popup_open => Line::raw(""),
        (Some(_), None) => Line::styled("decoding…", theme::dim()),
        (None, None) => Line::styled("no preview yet", theme::dim()),
    };
    let y = inner.y + inner.height / 2;
    frame.render_widget(
        Paragraph::new(message).alignment(Alignment::Center),
        Rect::new(inner.x, y, inner.width, 1.min(inner.height)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui_image::FontSize;
    use ratatui_image::picker::ProtocolType;

    #[allow(deprecated)] // `from_fontsize`: the only way to pick a protocol without a terminal.
    fn state(protocol: ProtocolType, budgeted: bool) -> PreviewState {
        let mut picker = Picker::from_fontsize(FontSize::new(10, 20));
        picker.set_protocol_type(protocol);
        PreviewState::new(picker).budgeted(budgeted)
    }

    #[test]
    fn under_a_budget_costly_protocols_draw_previews_in_half_blocks() {
        let preview = Source::Preview(3);
        let output = Source::Output(PathBuf::from("out.png"));
        for protocol in [ProtocolType::Kitty, ProtocolType::Sixel] {
            let s = state(protocol, true);
            assert_eq!(
                s.picker_for(&preview).protocol_type(),
                ProtocolType::Halfblocks
            );
            assert_eq!(s.picker_for(&output).protocol_type(), protocol);
            assert_eq!(s.cell_bytes_guess(), crate::budget::HALFBLOCK_CELL_BYTES);
            let unlimited = state(protocol, false);
            assert_eq!(unlimited.picker_for(&preview).protocol_type(), protocol);
        }
        // iTerm2 pictures are JPEG: as cheap a cell as half blocks, at full resolution.
        let s = state(ProtocolType::Iterm2, true);
        assert_eq!(s.picker_for(&preview).protocol_type(), ProtocolType::Iterm2);
    }
}
