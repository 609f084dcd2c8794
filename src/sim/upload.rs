//! `POST /upload/image`: a small multipart reader and ComfyUI's storing rules.

use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::files::{normalize, store_upload};
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
                for param in v.split(';').skip(1) {
                    if let Some((pk, pv)) = param.trim().split_once('=') {
                        let pv = pv.trim().trim_matches('"').to_owned();
                        match pk.trim() {
                            "name" => name = Some(pv),
                            "filename" => filename = Some(pv),
                            _ => {}
                        }
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

pub async fn upload_image(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = boundary(ct)
        .map(|b| parse_multipart(&body, &b))
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
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error",
        )
            .into_response();
    };
    let Some(sub) = normalize(Path::new(&subfolder)) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let raw = image.filename.clone().unwrap_or_default();
    let name = raw.rsplit(['/', '\\']).next().unwrap_or("").to_owned();
    if name.is_empty() || name == ".." {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let dir = base.join(sub);
    let data = image.data.clone();
    let stored =
        tokio::task::spawn_blocking(move || store_upload(&dir, &name, &data, overwrite)).await;
    match stored {
        Ok(Ok(name)) => json_response(
            StatusCode::OK,
            &json!({"name": name, "subfolder": subfolder, "type": kind}),
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error",
        )
            .into_response(),
    }
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
}
