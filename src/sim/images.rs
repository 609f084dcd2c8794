//! Generated pictures: PNG outputs and JPEG step previews, deterministic per seed.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ImageEncoder, RgbImage};

/// Largest side of a saved image: requests beyond it are scaled down so a prompt asking
/// for 16384² cannot stall the simulator.
pub const MAX_SIDE: u32 = 2048;
/// Previews fit in this box, small enough to send every step.
pub const PREVIEW_BOX: u32 = 128;

/// Fit `w`×`h` into a `limit` box, keeping the aspect ratio, at least 1×1.
pub fn fit(w: u32, h: u32, limit: u32) -> (u32, u32) {
    let (w, h) = (w.max(1), h.max(1));
    if w <= limit && h <= limit {
        return (w, h);
    }
    let scale = f64::from(limit) / f64::from(w.max(h));
    (
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    )
}

/// A smooth pattern: colours from the seed, a diagonal wave whose phase follows `phase`
/// (0..1), so consecutive previews visibly "converge".
fn pattern(w: u32, h: u32, seed: u64, phase: f64) -> RgbImage {
    let s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let base = [(s >> 8) as u8, (s >> 24) as u8, (s >> 40) as u8];
    let noise = 1.0 - phase.clamp(0.0, 1.0);
    RgbImage::from_fn(w, h, |x, y| {
        let fx = f64::from(x) / f64::from(w.max(1));
        let fy = f64::from(y) / f64::from(h.max(1));
        let wave = ((fx + fy) * 6.0 + phase * 3.0).sin() * 0.5 + 0.5;
        let grain = (((x.wrapping_mul(73) ^ y.wrapping_mul(151)) as u64 ^ s) % 97) as f64 / 97.0;
        let mix = |c: u8, k: f64| {
            let v = f64::from(c) * (0.4 + 0.6 * wave) * k + grain * 255.0 * noise * 0.5;
            v.clamp(0.0, 255.0) as u8
        };
        image::Rgb([
            mix(base[0], fx + 0.3),
            mix(base[1], fy + 0.3),
            mix(base[2], 1.0),
        ])
    })
}

/// A PNG of (about) the requested size, distinct per `seed`.
pub fn png(width: u32, height: u32, seed: u64) -> Vec<u8> {
    saved_png(width, height, seed, None, &[])
}

/// A flat PNG of one colour (`EmptyImage`'s `color` is 0xRRGGBB).
pub fn solid_png(width: u32, height: u32, color: u32) -> Vec<u8> {
    saved_png(width, height, 0, Some(color), &[])
}

/// A PNG as SaveImage writes it: the pattern for `seed` (or one `color`), with `text`
/// as tEXt chunks before the image data (`prompt`, then each `extra_pnginfo` key).
pub fn saved_png(
    width: u32,
    height: u32,
    seed: u64,
    color: Option<u32>,
    text: &[(String, String)],
) -> Vec<u8> {
    let (w, h) = fit(width, height, MAX_SIDE);
    let img = match color {
        Some(color) => {
            let [_, r, g, b] = color.to_be_bytes();
            RgbImage::from_pixel(w, h, image::Rgb([r, g, b]))
        }
        None => pattern(w, h, seed, 1.0),
    };
    if text.is_empty() {
        encode_png(&img)
    } else {
        encode_png_with_text(&img, text)
    }
}

/// PIL writes each text chunk as tEXt when it is Latin-1, else as iTXt.
fn encode_png_with_text(img: &RgbImage, text: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    let written = (|| -> Result<(), png::EncodingError> {
        let mut encoder = png::Encoder::new(&mut out, img.width(), img.height());
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        for (key, value) in text {
            if value.chars().all(|c| u32::from(c) < 256) {
                encoder.add_text_chunk(key.clone(), value.clone())?;
            } else {
                encoder.add_itxt_chunk(key.clone(), value.clone())?;
            }
        }
        let mut writer = encoder.write_header()?;
        writer.write_image_data(img.as_raw())
    })();
    if written.is_err() {
        // Only a bad keyword (empty or over 79 bytes) gets here; ComfyUI would raise
        // too, but a picture without metadata keeps the simulator's run going.
        return encode_png(img);
    }
    out
}

fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub);
    // Encoding into a Vec cannot fail for a well-formed RGB buffer; an empty result
    // would only make /view serve an empty file.
    let _ = enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    );
    out
}

/// A JPEG preview for step `step` of `total`, fitted into [`PREVIEW_BOX`].
pub fn preview_jpeg(width: u32, height: u32, seed: u64, step: u64, total: u64) -> Vec<u8> {
    let (w, h) = fit(width, height, PREVIEW_BOX);
    let phase = step as f64 / total.max(1) as f64;
    jpeg(&pattern(w, h, seed, phase), 80)
}

/// Re-encode any image as JPEG (for `/view?preview=jpeg;Q`); `None` if it is no image.
pub fn to_jpeg(bytes: &[u8], quality: u8) -> Option<Vec<u8>> {
    let img = image::load_from_memory(bytes).ok()?.to_rgb8();
    Some(jpeg(&img, quality))
}

fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let enc = JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100));
    let _ = enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    );
    out.into_inner()
}

/// Width and height of an image file's bytes, if they are an image.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    reader.into_dimensions().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_images_decode() {
        let p = png(64, 48, 7);
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(dimensions(&p), Some((64, 48)));
        assert_ne!(png(64, 48, 8), p);
        let j = preview_jpeg(512, 256, 1, 3, 10);
        assert_eq!(&j[..2], b"\xff\xd8");
        assert_eq!(dimensions(&j), Some((128, 64)));
        assert_eq!(dimensions(&solid_png(3, 2, 0xff0000)), Some((3, 2)));
        assert_eq!(fit(10000, 100, MAX_SIDE), (2048, 20));
    }

    #[test]
    fn saved_pngs_carry_their_text_chunks() {
        let text = vec![
            ("prompt".to_owned(), r#"{"1": {}}"#.to_owned()),
            ("workflow".to_owned(), "ünïcode ✓".to_owned()),
        ];
        let bytes = saved_png(8, 4, 3, None, &text);
        assert_eq!(dimensions(&bytes), Some((8, 4)));
        let reader = png::Decoder::new(Cursor::new(&bytes))
            .read_info()
            .expect("png");
        let info = reader.info();
        assert_eq!(info.uncompressed_latin1_text[0].keyword, "prompt");
        assert_eq!(info.uncompressed_latin1_text[0].text, r#"{"1": {}}"#);
        assert_eq!(info.utf8_text[0].keyword, "workflow");
        assert_eq!(info.utf8_text[0].get_text().expect("text"), "ünïcode ✓");
    }
}
