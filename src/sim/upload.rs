//! `POST /upload/image` and `/upload/mask`: a small multipart reader and ComfyUI's
//! storing rules (renamed on a collision, the alpha put onto the original for a mask).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::files::{Dirs, normalize, split_annotation, upload_name};
use super::http::json_response;
use super::state::Core;

/// One multipart field.
#[derive(Debug, PartialEq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_owned())
    })
}

/// The parameters of a `Content-Disposition` value (`form-data; name="a"; filename="b"`),
/// quoted strings unescaped (`\"` is a quote), as aiohttp reads them.
fn disposition_params(value: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut chars = value.chars().peekable();
    // Skip the disposition type.
    for c in chars.by_ref() {
        if c == ';' {
            break;
        }
    }
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ';') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                val.push(escaped);
                            }
                        }
                        '"' => break,
                        c => val.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ';' {
                        break;
                    }
                    val.push(c);
                    chars.next();
                }
                val = val.trim().to_owned();
            }
        }
        params.push((key.trim().to_ascii_lowercase(), val));
    }
    params
}

/// Split a multipart body into its fields (enough for well-formed client uploads).
pub fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let Some(mut pos) = find(body, &delim, 0) else {
        return parts;
    };
    loop {
        let start = pos + delim.len();
        if body[start..].starts_with(b"--") {
            break;
        }
        let Some(next) = find(body, &delim, start) else {
            break;
        };
        let mut seg = &body[start..next];
        seg = seg.strip_prefix(b"\r\n").unwrap_or(seg);
        seg = seg.strip_suffix(b"\r\n").unwrap_or(seg);
        if let Some(split) = find(seg, b"\r\n\r\n", 0) {
            let head = String::from_utf8_lossy(&seg[..split]);
            let data = seg[split + 4..].to_vec();
            let mut name = None;
            let mut filename = None;
            for line in head.lines() {
                let Some((k, v)) = line.split_once(':') else {
                    continue;
                };
                if !k.trim().eq_ignore_ascii_case("content-disposition") {
                    continue;
                }
                for (pk, pv) in disposition_params(v) {
                    match pk.as_str() {
                        "name" => name = Some(pv),
                        "filename" => filename = Some(pv),
                        _ => {}
                    }
                }
            }
            if let Some(name) = name {
                parts.push(Part {
                    name,
                    filename,
                    data,
                });
            }
        }
        pos = next;
    }
    parts
}

/// Which route an upload came to.
#[derive(Clone, Copy, PartialEq)]
enum Route {
    Image,
    Mask,
}

fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "500 Internal Server Error",
    )
        .into_response()
}

pub async fn upload_image(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(&core, &headers, &body, Route::Image).await
}

/// `/upload/mask`: like `/upload/image`, but what is stored is the picture
/// `original_ref` names with the upload's alpha channel (ComfyUI §4.8).
pub async fn upload_mask(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(&core, &headers, &body, Route::Mask).await
}

async fn receive(core: &Core, headers: &HeaderMap, body: &[u8], route: Route) -> Response {
    if let Some(status) = core.faults.get().upload_status {
        // ComfyUI's own refusals carry no body.
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::BAD_REQUEST)
            .into_response();
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = boundary(ct)
        .map(|b| parse_multipart(body, &b))
        .unwrap_or_default();
    let field = |n: &str| {
        parts
            .iter()
            .find(|p| p.name == n)
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
    };
    let Some(image) = parts
        .iter()
        .find(|p| p.name == "image" && p.filename.as_deref().is_some_and(|f| !f.is_empty()))
    else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let kind = field("type").unwrap_or_else(|| "input".to_owned());
    let subfolder = field("subfolder").unwrap_or_default();
    let overwrite = matches!(field("overwrite").as_deref(), Some("true" | "1"));
    let Some(base) = core.dirs.for_type(&kind) else {
        // ComfyUI fails on an unknown type with an unhandled exception.
        return server_error();
    };
    let Some(sub) = normalize(Path::new(&subfolder)) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let raw = image.filename.clone().unwrap_or_default();
    let name = raw.rsplit(['/', '\\']).next().unwrap_or("").to_owned();
    if name.is_empty() || name == ".." {
        return StatusCode::BAD_REQUEST.into_response();
    }
    // ComfyUI reads the reference only to save, and fails on a missing one then; the
    // simulator asks for it always, so a client that forgets it is caught every time.
    let original = match route {
        Route::Image => None,
        Route::Mask => match field("original_ref")
            .and_then(|r| serde_json::from_str::<Value>(&r).ok())
            .filter(Value::is_object)
        {
            Some(reference) => Some(reference),
            None => return server_error(),
        },
    };
    let dir = base.join(sub);
    let data = image.data.clone();
    let original = original.map(|r| resolve_original(&core.dirs, &r));
    let stored = tokio::task::spawn_blocking(move || {
        let (name, present) = upload_name(&dir, &name, &data, overwrite)?;
        if !present {
            match original {
                None => std::fs::write(dir.join(&name), &data)?,
                // A reference that is bad or names no file: nothing is written, and
                // the answer is still 200 (ComfyUI's quirk).
                Some(None) => {}
                Some(Some(original)) => {
                    let composed = put_alpha(&original, &data)?;
                    std::fs::write(dir.join(&name), composed)?;
                }
            }
        }
        Ok::<_, std::io::Error>(name)
    })
    .await;
    match stored {
        Ok(Ok(name)) => json_response(
            StatusCode::OK,
            &json!({"name": name, "subfolder": subfolder, "type": kind}),
        ),
        _ => server_error(),
    }
}

/// The file an `original_ref` names, by ComfyUI's rules: `filename` may carry a
/// ` [type]` annotation, `type` defaults to `output`, and no part may leave its folder.
fn resolve_original(dirs: &Dirs, reference: &Value) -> Option<PathBuf> {
    let text = |key: &str| reference.get(key).and_then(Value::as_str);
    let (filename, annotated) = split_annotation(text("filename")?);
    if filename.is_empty() || filename.starts_with('/') || filename.contains("..") {
        return None;
    }
    let base = dirs.for_type(annotated.or(text("type")).unwrap_or("output"))?;
    let sub = normalize(Path::new(text("subfolder").unwrap_or("")))?;
    let path = base.join(sub).join(filename);
    path.is_file().then_some(path)
}

/// The original picture with the mask's alpha channel, as PNG. A picture that does not
/// decode, or a mask of another size, fails (PIL raises: a 500).
fn put_alpha(original: &Path, mask: &[u8]) -> std::io::Result<Vec<u8>> {
    let bad = |e: image::ImageError| std::io::Error::other(e.to_string());
    let mut picture = image::open(original).map_err(bad)?.to_rgba8();
    let mask = image::load_from_memory(mask).map_err(bad)?.to_rgba8();
    if picture.dimensions() != mask.dimensions() {
        return Err(std::io::Error::other("images do not match"));
    }
    for (pixel, alpha) in picture.pixels_mut().zip(mask.pixels()) {
        pixel.0[3] = alpha.0[3];
    }
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(picture)
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(bad)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_form() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\ninput\r\n--XyZ--\r\n";
        assert_eq!(
            boundary("multipart/form-data; boundary=XyZ").as_deref(),
            Some("XyZ")
        );
        let parts = parse_multipart(body, "XyZ");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].filename.as_deref(), Some("a.png"));
        assert_eq!(parts[0].data, b"\x89PNG");
        assert_eq!(parts[1].name, "type");
        assert_eq!(parts[1].data, b"input");
    }

    #[test]
    fn disposition_params_unescape_quoted_strings() {
        assert_eq!(
            disposition_params(r#"form-data; name="image"; filename="a \"b\"; c.png""#),
            [
                ("name".to_owned(), "image".to_owned()),
                ("filename".to_owned(), "a \"b\"; c.png".to_owned())
            ]
        );
        assert_eq!(
            disposition_params("form-data; name=type"),
            [("name".to_owned(), "type".to_owned())]
        );
    }
}
