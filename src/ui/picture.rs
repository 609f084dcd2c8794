//! Pictures encoded for the terminal's picture protocol, as few bytes as the protocol
//! allows: iTerm2 gets a JPEG (ratatui-image would send a PNG, several times larger for a
//! photo-like preview); kitty gets a deflated transmission when the terminal said it can
//! inflate one (asked for in `terminal::picker`); sixel and half blocks as ratatui-image
//! makes them. Every protocol is also held to the byte budget by the size of its box.

use image::DynamicImage;
use image::imageops::FilterType;
use ratatui::layout::Size;
use ratatui_image::picker::cap_parser::Parser;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::Protocol;
use ratatui_image::protocol::iterm2::Iterm2;
use ratatui_image::{FontSize, Resize};
use std::fmt::Write;

/// JPEG quality of iTerm2 pictures: a preview is seen for a fraction of a second.
pub const ITERM2_JPEG_QUALITY: u8 = 70;

/// `image` scaled to fit `size` cells and encoded for `picker`'s protocol.
pub fn encode(picker: &Picker, image: DynamicImage, size: Size) -> Result<Protocol, String> {
    match picker.protocol_type() {
        ProtocolType::Iterm2 => {
            iterm2_jpeg(&image, picker.font_size(), size, picker.tmux_detected())
        }
        _ => picker
            .new_protocol(image, size, Resize::Scale(Some(FilterType::Triangle)))
            .map_err(|e| e.to_string()),
    }
}

/// An iTerm2 inline image carrying a JPEG, scaled to fit `size` cells of `font` pixels.
pub fn iterm2_jpeg(
    image: &DynamicImage,
    font: FontSize,
    size: Size,
    is_tmux: bool,
) -> Result<Protocol, String> {
    let (fw, fh) = (u32::from(font.width.max(1)), u32::from(font.height.max(1)));
    let (box_w, box_h) = (u32::from(size.width) * fw, u32::from(size.height) * fh);
    if box_w == 0 || box_h == 0 || image.width() == 0 || image.height() == 0 {
        return Err("no room for the picture".to_owned());
    }
    let scale = (f64::from(box_w) / f64::from(image.width()))
        .min(f64::from(box_h) / f64::from(image.height()));
    let w = ((f64::from(image.width()) * scale).floor() as u32).clamp(1, box_w);
    let h = ((f64::from(image.height()) * scale).floor() as u32).clamp(1, box_h);
    let scaled = image.resize_exact(w, h, FilterType::Triangle).to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, ITERM2_JPEG_QUALITY)
        .encode_image(&scaled)
        .map_err(|e| e.to_string())?;
    let cells = Size::new(w.div_ceil(fw) as u16, h.div_ceil(fh) as u16);

    let (start, escape, end) = Parser::tmux_start_escape_end(is_tmux);
    let mut data = String::from(start);
    // Blank the cells first, as ratatui-image does: a smaller picture than the last
    // would leave the old one's edges showing.
    if cells.height == 1 {
        let _ = write!(data, "{escape}[{}X", cells.width);
    } else {
        for _ in 0..cells.height {
            let _ = write!(data, "{escape}[{}X{escape}[1B", cells.width);
        }
        let _ = write!(data, "{escape}[{}A", cells.height);
    }
    let _ = write!(
        data,
        "{escape}]1337;File=inline=1;size={};width={w}px;height={h}px;doNotMoveCursor=1:",
        jpeg.len()
    );
    data.push_str(&base64(&jpeg));
    let _ = write!(data, "\x07{end}");
    Ok(Protocol::ITerm2(Iterm2 {
        data,
        size: cells,
        is_tmux,
    }))
}

/// Standard base64 with padding (the image crates have none to lend).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The initial guess of what one picture cell costs under `picker`'s protocol, before a
/// drawn picture says better: half blocks at their worst, the graphics protocols by the
/// pixels behind a cell.
pub fn cell_bytes_guess(picker: &Picker) -> f64 {
    let font = picker.font_size();
    let pixels = f64::from(font.width.max(1)) * f64::from(font.height.max(1));
    match picker.protocol_type() {
        ProtocolType::Halfblocks => crate::budget::HALFBLOCK_CELL_BYTES,
        // A JPEG preview at quality 70 in base64: measured at 0.15 bytes a pixel on a
        // noisy preview; guessed a little higher.
        ProtocolType::Iterm2 => pixels * 0.25,
        // Palette indexes, run-length coded: measured at 1.5 bytes a pixel.
        ProtocolType::Sixel => pixels * 1.5,
        // RGBA in base64, deflated or not: assume not until measured.
        ProtocolType::Kitty => pixels * 4.0 * 4.0 / 3.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::{TerminalOptions, Viewport};
    use ratatui_image::protocol::kitty::Kitty;

    /// The simulator's preview of a 512² latent, as a real server would send it.
    fn preview() -> DynamicImage {
        let jpeg = crate::sim::images::preview_jpeg(512, 512, 7, 5, 20);
        image::load_from_memory(&jpeg).unwrap()
    }

    #[allow(deprecated)] // `from_fontsize`: the only way to pick a protocol without a terminal.
    fn picker(protocol: ProtocolType) -> Picker {
        let mut picker = Picker::from_fontsize(FontSize::new(10, 20));
        picker.set_protocol_type(protocol);
        picker
    }

    /// What drawing `protocol` once writes to a terminal, escapes included.
    fn bytes_on_the_wire(protocol: &Protocol) -> usize {
        let size = protocol.size();
        let area = Rect::new(0, 0, size.width, size.height);
        let out = crate::terminal::Counting::new(std::io::sink());
        let written = out.count();
        let backend = CrosstermBackend::new(out);
        let mut terminal = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(area),
            },
        )
        .unwrap();
        terminal
            .draw(|f| f.render_widget(ratatui_image::Image::new(protocol), area))
            .unwrap();
        written.get() as usize
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn iterm2_pictures_are_jpeg_and_far_smaller_than_png() {
        let size = Size::new(40, 20);
        let ours = encode(&picker(ProtocolType::Iterm2), preview(), size).unwrap();
        let Protocol::ITerm2(ref it) = ours else {
            panic!("not iTerm2")
        };
        let payload = it.data.split_once(":").unwrap().1;
        assert!(payload.starts_with("/9j/"), "a JPEG in base64");
        assert!(ours.size().width <= 40 && ours.size().height <= 20);
        let png = picker(ProtocolType::Iterm2)
            .new_protocol(preview(), size, Resize::Scale(Some(FilterType::Triangle)))
            .unwrap();
        let (jpeg_bytes, png_bytes) = (bytes_on_the_wire(&ours), bytes_on_the_wire(&png));
        assert!(
            jpeg_bytes * 3 < png_bytes,
            "JPEG {jpeg_bytes} vs PNG {png_bytes}"
        );
    }

    #[test]
    fn bytes_per_picture_under_each_protocol() {
        // 40×20 cells of 10×20 pixels: a 400×400 picture. These are the figures the
        // budget works with; they must stay within sight of the first guesses.
        let size = Size::new(40, 20);
        let mut report = Vec::new();
        for protocol in [
            ProtocolType::Halfblocks,
            ProtocolType::Sixel,
            ProtocolType::Iterm2,
            ProtocolType::Kitty,
        ] {
            let p = picker(protocol);
            let drawn = encode(&p, preview(), size).unwrap();
            let cells = u32::from(drawn.size().width) * u32::from(drawn.size().height);
            let bytes = bytes_on_the_wire(&drawn);
            let per_cell = bytes as f64 / f64::from(cells);
            report.push(format!("{protocol:?}: {bytes} B, {per_cell:.0} B/cell"));
            assert!(
                per_cell <= cell_bytes_guess(&p) * 1.5,
                "{protocol:?}: {per_cell:.0} B/cell against a guess of {:.0}",
                cell_bytes_guess(&p)
            );
        }
        // Kitty deflated, as a terminal that answers the `o=z` probe gets it.
        let scaled = preview().resize_exact(400, 400, FilterType::Triangle);
        let raw = Kitty::new(scaled.clone(), size, 1, false, false).unwrap();
        let deflated = Kitty::new(scaled, size, 1, false, true).unwrap();
        let (raw, deflated) = (
            bytes_on_the_wire(&Protocol::Kitty(raw)),
            bytes_on_the_wire(&Protocol::Kitty(deflated)),
        );
        report.push(format!("Kitty o=z: {deflated} B (raw {raw} B)"));
        // Noisy previews deflate poorly (about a quarter off): why, under a budget,
        // previews on kitty terminals are drawn in half blocks (`PreviewState::budgeted`).
        assert!(deflated < raw, "{}", report.join("; "));
        println!("{}", report.join("\n"));
    }
}
