//! The text a picture carries: PNG text chunks (tEXt, zTXt, iTXt) as ComfyUI's
//! SaveImage writes them, and the EXIF entries of its animated WebP (`key:{json}`).

use std::io::{BufRead, Seek};

use super::limit::JSON_LIMIT;

/// A picture format, told by its first bytes (never by the file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Png,
    Webp,
    /// Formats ComfyUI's stock nodes save without a workflow.
    Other(&'static str),
}

/// How many leading bytes [`sniff`] needs.
pub const SNIFF_LEN: usize = 12;

pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(Kind::Webp)
    } else if head.starts_with(b"\xff\xd8\xff") {
        Some(Kind::Other("JPEG"))
    } else if head.starts_with(b"GIF8") {
        Some(Kind::Other("GIF"))
    } else {
        None
    }
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Png => "PNG",
            Kind::Webp => "WebP",
            Kind::Other(name) => name,
        }
    }
}

/// The picture could not be read as what its first bytes say it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// Every text entry of a picture as `(keyword, text)`, in file order.
pub type Entries = Vec<(String, String)>;

/// Reads the text chunks of a PNG. Chunks before the image data are read first; the
/// rest of the file is only scanned when those hold neither `prompt` nor `workflow`
/// (PIL, and so ComfyUI, writes them before the image data).
pub fn png_entries(reader: impl BufRead + Seek) -> Result<Entries, Unreadable> {
    // Text chunks count against this; twice the JSON limit leaves room for `prompt`
    // and `workflow` together, and stops a decompression bomb well before memory does.
    let limits = png::Limits {
        bytes: usize::try_from(JSON_LIMIT * 2).unwrap_or(usize::MAX),
    };
    let decoder = png::Decoder::new_with_limits(reader, limits);
    let mut reader = decoder
        .read_info()
        .map_err(|e| Unreadable(format!("not a readable PNG: {e}")))?;
    let mut entries = png_text(reader.info())?;
    if !entries.iter().any(|(k, _)| is_workflow_key(k)) {
        // Trailing chunks; a truncated or damaged image body does not hide what was read.
        if reader.finish().is_ok() {
            entries = png_text(reader.info())?;
        }
    }
    Ok(entries)
}

fn is_workflow_key(key: &str) -> bool {
    key == "prompt" || key == "workflow"
}

fn png_text(info: &png::Info<'_>) -> Result<Entries, Unreadable> {
    let limit = usize::try_from(JSON_LIMIT).unwrap_or(usize::MAX);
    let too_large = |key: &str, e: png::DecodingError| {
        Unreadable(format!(
            "its `{key}` text chunk cannot be read (over {} uncompressed?): {e}",
            crate::ui::format::bytes(JSON_LIMIT)
        ))
    };
    let mut entries: Entries = info
        .uncompressed_latin1_text
        .iter()
        .map(|chunk| (chunk.keyword.clone(), chunk.text.clone()))
        .collect();
    for chunk in &info.compressed_latin1_text {
        let mut chunk = chunk.clone();
        chunk
            .decompress_text_with_limit(limit)
            .and_then(|()| chunk.get_text())
            .map(|text| entries.push((chunk.keyword.clone(), text)))
            .map_err(|e| too_large(&chunk.keyword, e))?;
    }
    for chunk in &info.utf8_text {
        let mut chunk = chunk.clone();
        chunk
            .decompress_text_with_limit(limit)
            .and_then(|()| chunk.get_text())
            .map(|text| entries.push((chunk.keyword.clone(), text)))
            .map_err(|e| too_large(&chunk.keyword, e))?;
    }
    Ok(entries)
}

/// Reads the EXIF entries ComfyUI's SaveAnimatedWEBP writes: tag 0x0110 (Model) holds
/// `prompt:{json}`, 0x010F (Make) the first `extra_pnginfo` key (`workflow:{json}`),
/// and each further key the tag below. Any ASCII entry shaped `key:{json}` counts.
pub fn webp_entries(reader: impl BufRead + Seek) -> Result<Entries, Unreadable> {
    let mut decoder = image_webp::WebPDecoder::new(reader)
        .map_err(|e| Unreadable(format!("not a readable WebP: {e}")))?;
    let exif = decoder
        .exif_metadata()
        .map_err(|e| Unreadable(format!("its EXIF chunk cannot be read: {e}")))?;
    let Some(mut exif) = exif else {
        return Ok(Vec::new());
    };
    // Older Pillow versions keep the JPEG-style `Exif\0\0` header in the chunk.
    if exif.starts_with(b"Exif\0\0") {
        exif.drain(..6);
    }
    let exif = exif::Reader::new()
        .read_raw(exif)
        .map_err(|e| Unreadable(format!("its EXIF data cannot be read: {e}")))?;
    let mut tagged: Vec<(u16, String, String)> = exif
        .fields()
        .filter_map(|field| {
            let bytes: Vec<u8> = match &field.value {
                exif::Value::Ascii(parts) => parts.concat(),
                exif::Value::Undefined(bytes, _) => bytes.clone(),
                _ => return None,
            };
            let text = String::from_utf8(bytes).ok()?;
            let (key, json) = split_entry(&text)?;
            Some((field.tag.number(), key.to_owned(), json.to_owned()))
        })
        .collect();
    // Highest tag first: the order ComfyUI wrote them in (prompt, then extra keys).
    tagged.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    Ok(tagged.into_iter().map(|(_, k, v)| (k, v)).collect())
}

/// `workflow:{"nodes": …}` → (`workflow`, `{"nodes": …}`).
fn split_entry(text: &str) -> Option<(&str, &str)> {
    let (key, json) = text.split_once(':')?;
    let json = json.trim_end_matches('\0');
    let plausible_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let starts_json = json.trim_start().starts_with(['{', '[']);
    (plausible_key && starts_json).then_some((key, json))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Cursor;

    /// A 2×1 PNG with the given chunks: `("t", k, v)` tEXt, `("z", …)` zTXt, `("i", …)` iTXt.
    pub(crate) fn png_with(chunks: &[(&str, &str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, 2, 1);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            for (kind, key, text) in chunks {
                let (key, text) = ((*key).to_owned(), (*text).to_owned());
                match *kind {
                    "z" => encoder.add_ztxt_chunk(key, text),
                    "i" => encoder.add_itxt_chunk(key, text),
                    _ => encoder.add_text_chunk(key, text),
                }
                .expect("chunk");
            }
            let mut writer = encoder.write_header().expect("header");
            writer.write_image_data(&[0; 6]).expect("data");
        }
        out
    }

    #[test]
    fn sniffing_uses_the_first_bytes() {
        assert_eq!(sniff(&png_with(&[])), Some(Kind::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8L"), Some(Kind::Webp));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0"), Some(Kind::Other("JPEG")));
        assert_eq!(sniff(b"{\"1\": {}}"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn png_text_zip_and_international_chunks_are_read() {
        let bytes = png_with(&[
            ("t", "prompt", r#"{"1": {"class_type": "A", "inputs": {}}}"#),
            ("z", "workflow", r#"{"nodes": [], "links": []}"#),
            ("i", "note", "ünïcode"),
        ]);
        let entries = png_entries(Cursor::new(bytes)).expect("readable");
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("prompt"),
            Some(r#"{"1": {"class_type": "A", "inputs": {}}}"#)
        );
        assert_eq!(get("workflow"), Some(r#"{"nodes": [], "links": []}"#));
        assert_eq!(get("note"), Some("ünïcode"));
    }

    #[test]
    fn text_after_the_image_data_is_found() {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, 1, 1);
            encoder.set_color(png::ColorType::Grayscale);
            let mut writer = encoder.write_header().expect("header");
            writer.write_image_data(&[0]).expect("data");
            writer
                .write_text_chunk(&png::text_metadata::TEXtChunk::new("prompt", "{}"))
                .expect("late chunk");
        }
        let entries = png_entries(Cursor::new(out)).expect("readable");
        assert_eq!(entries, vec![("prompt".to_owned(), "{}".to_owned())]);
    }

    #[test]
    fn a_broken_png_is_unreadable_not_a_panic() {
        let mut bytes = png_with(&[("t", "prompt", "{}")]);
        bytes.truncate(20);
        assert!(png_entries(Cursor::new(bytes)).is_err());
    }

    /// A 1×1 lossless WebP whose EXIF holds these ASCII entries.
    pub(crate) fn webp_with(fields: &[(u16, &str)], exif_prefix: bool) -> Vec<u8> {
        let fields: Vec<exif::Field> = fields
            .iter()
            .map(|(tag, text)| exif::Field {
                tag: exif::Tag(exif::Context::Tiff, *tag),
                ifd_num: exif::In::PRIMARY,
                value: exif::Value::Ascii(vec![text.as_bytes().to_vec()]),
            })
            .collect();
        let mut writer = exif::experimental::Writer::new();
        for field in &fields {
            writer.push_field(field);
        }
        let mut tiff = Cursor::new(Vec::new());
        writer.write(&mut tiff, true).expect("exif");
        let mut exif_bytes = if exif_prefix {
            b"Exif\0\0".to_vec()
        } else {
            Vec::new()
        };
        exif_bytes.extend(tiff.into_inner());
        let mut out = Vec::new();
        let mut encoder = image_webp::WebPEncoder::new(&mut out);
        encoder.set_exif_metadata(exif_bytes);
        encoder
            .encode(&[10, 20, 30], 1, 1, image_webp::ColorType::Rgb8)
            .expect("webp");
        out
    }

    #[test]
    fn webp_exif_entries_are_read_in_comfyui_order() {
        for prefix in [false, true] {
            let bytes = webp_with(
                &[
                    (0x010F, r#"workflow:{"nodes": [], "links": []}"#),
                    (0x0110, r#"prompt:{"1": {"class_type": "A"}}"#),
                    (0x010E, "just a description"),
                ],
                prefix,
            );
            assert_eq!(sniff(&bytes), Some(Kind::Webp));
            let entries = webp_entries(Cursor::new(bytes)).expect("readable");
            assert_eq!(
                entries,
                vec![
                    (
                        "prompt".to_owned(),
                        r#"{"1": {"class_type": "A"}}"#.to_owned()
                    ),
                    (
                        "workflow".to_owned(),
                        r#"{"nodes": [], "links": []}"#.to_owned()
                    ),
                ],
                "prefix {prefix}"
            );
        }
    }

    #[test]
    fn a_webp_without_exif_has_no_entries() {
        let mut out = Vec::new();
        image_webp::WebPEncoder::new(&mut out)
            .encode(&[1, 2, 3], 1, 1, image_webp::ColorType::Rgb8)
            .expect("webp");
        assert_eq!(webp_entries(Cursor::new(out)).expect("readable"), vec![]);
    }
}
