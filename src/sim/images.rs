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
/// (0..1), and noise that fades as `phase` nears 1. `step` reseeds the noise, as each of a
/// real sampler's steps does: a latent preview changes over the whole picture every step,
/// which is what makes previews the heaviest thing a view draws.
fn pattern(w: u32, h: u32, seed: u64, phase: f64, step: u64) -> RgbImage {
    let s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let base = [(s >> 8) as u8, (s >> 24) as u8, (s >> 40) as u8];
    let phase = phase.clamp(0.0, 1.0);
    // Never quite zero before the end: the last steps of a real sampler still move
    // every pixel a little.
    let noise = if phase >= 1.0 {
        0.0
    } else {
        0.2 + 0.6 * (1.0 - phase)
    };
    let field = NoiseField::new(w, h, s ^ step.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    RgbImage::from_fn(w, h, |x, y| {
        let fx = f64::from(x) / f64::from(w.max(1));
        let fy = f64::from(y) / f64::from(h.max(1));
        let wave = ((fx + fy) * 6.0 + phase * 3.0).sin() * 0.5 + 0.5;
        let mix = |c: u8, k: f64, channel: u64| {
            let grain = field.at(x, y, channel) - 0.5;
            let v = f64::from(c) * (0.4 + 0.6 * wave) * k + grain * 255.0 * noise;
            v.clamp(0.0, 255.0) as u8
        };
        image::Rgb([
            mix(base[0], fx + 0.3, 0),
            mix(base[1], fy + 0.3, 1),
            mix(base[2], 1.0, 2),
        ])
    })
}

/// Smooth value noise (random values on a coarse grid, interpolated), so that a picture
/// scaled down to terminal cells still changes in every cell, as a latent preview does.
struct NoiseField {
    seed: u64,
    cell: f64,
}

impl NoiseField {
    fn new(w: u32, h: u32, seed: u64) -> Self {
        // About 16 grid cells across the larger side.
        let cell = (f64::from(w.max(h)) / 16.0).max(1.0);
        Self { seed, cell }
    }

    fn lattice(&self, gx: u64, gy: u64, channel: u64) -> f64 {
        let mut z = self.seed
            ^ gx.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ gy.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ channel.wrapping_mul(0x1656_67B1_9E37_79F9);
        // splitmix64's finaliser: neighbouring lattice points get unrelated values.
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The noise at pixel (`x`, `y`) of one colour channel, in 0..1.
    fn at(&self, x: u32, y: u32, channel: u64) -> f64 {
        let (px, py) = (f64::from(x) / self.cell, f64::from(y) / self.cell);
        let (gx, gy) = (px.floor(), py.floor());
        let (tx, ty) = (px - gx, py - gy);
        let (gx, gy) = (gx as u64, gy as u64);
        let top = lerp(
            self.lattice(gx, gy, channel),
            self.lattice(gx + 1, gy, channel),
            tx,
        );
        let bottom = lerp(
            self.lattice(gx, gy + 1, channel),
            self.lattice(gx + 1, gy + 1, channel),
            tx,
        );
        lerp(top, bottom, ty)
    }
}

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
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
        None => pattern(w, h, seed, 1.0, 0),
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
    jpeg(&pattern(w, h, seed, phase, step), 80)
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

    /// The share of pixels whose colour moved by more than a JPEG's own wobble.
    fn changed_share(a: &[u8], b: &[u8]) -> f64 {
        let a = image::load_from_memory(a).unwrap().to_rgb8();
        let b = image::load_from_memory(b).unwrap().to_rgb8();
        assert_eq!(a.dimensions(), b.dimensions());
        let changed = a
            .pixels()
            .zip(b.pixels())
            .filter(|(p, q)| p.0.iter().zip(q.0).any(|(x, y)| x.abs_diff(y) > 8))
            .count();
        changed as f64 / f64::from(a.width() * a.height())
    }

    #[test]
    fn consecutive_previews_differ_over_most_of_the_picture() {
        let total = 20;
        for step in [1, 10, 18] {
            let a = preview_jpeg(512, 512, 42, step, total);
            let b = preview_jpeg(512, 512, 42, step + 1, total);
            let share = changed_share(&a, &b);
            assert!(share > 0.6, "steps {step} and {}: {share:.2}", step + 1);
        }
    }

    #[test]
    fn previews_still_differ_once_scaled_down_to_cells() {
        // A terminal shows a preview at a few dozen cells across: the change must survive.
        let small = |step| {
            let j = preview_jpeg(512, 512, 3, step, 20);
            let img = image::load_from_memory(&j).unwrap();
            let mut out = Vec::new();
            img.resize_exact(32, 32, image::imageops::FilterType::Triangle)
                .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
                .unwrap();
            out
        };
        let share = changed_share(&small(12), &small(13));
        assert!(share > 0.6, "{share:.2}");
    }
}
