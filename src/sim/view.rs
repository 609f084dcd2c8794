//! `GET /view`: files streamed from disk with ComfyUI's checks, plus the slow, truncated
//! and hostile-name faults.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::io::AsyncReadExt;

use super::files::{ViewError, resolve_view};
use super::images;
use super::state::{Core, lock};

/// Read size for plain downloads.
const CHUNK: usize = 64 * 1024;

pub async fn view(
    State(core): State<Arc<Core>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(filename) = q.get("filename") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let faults = core.faults.get();
    if faults.hostile_filenames.iter().any(|n| n == filename) {
        let mut bytes = lock(&core.hostile_bytes).clone();
        if bytes.is_empty() {
            bytes = images::png(64, 64, 1);
        }
        return file_response(filename, "image/png", bytes.len() as u64, Body::from(bytes));
    }
    let path = match resolve_view(
        &core.dirs,
        filename,
        q.get("type").map(String::as_str),
        q.get("subfolder").map(String::as_str),
    ) {
        Ok(p) => p,
        Err(ViewError::BadRequest) => return StatusCode::BAD_REQUEST.into_response(),
        Err(ViewError::Forbidden) => return StatusCode::FORBIDDEN.into_response(),
        Err(ViewError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    if let Some(preview) = q.get("preview") {
        // `preview=<format>;<quality>`: re-encoded (always as JPEG here; no WebP encoder).
        let quality = preview
            .split_once(';')
            .and_then(|(_, q)| q.parse().ok())
            .unwrap_or(90);
        let Ok(bytes) = tokio::fs::read(&path).await else {
            return StatusCode::NOT_FOUND.into_response();
        };
        return match images::to_jpeg(&bytes, quality) {
            Some(jpeg) => file_response(&name, "image/jpeg", jpeg.len() as u64, Body::from(jpeg)),
            None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
    }

    let Ok(file) = tokio::fs::File::open(&path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let size = match file.metadata().await {
        Ok(m) => m.len(),
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    };
    let body = stream_file(
        core.clone(),
        file,
        faults.view_bytes_per_sec,
        faults.view_truncate_at,
    );
    file_response(&name, content_type(&name), size, body)
}

fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        _ => "application/octet-stream",
    }
}

/// A file answer; `len` is announced as `Content-Length` even if the body sends less.
fn file_response(name: &str, mime: &'static str, len: u64, body: Body) -> Response {
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    // Header values cannot carry control characters; hostile names are shown tamed.
    let safe: String = name
        .chars()
        .map(|c| if c.is_control() || c == '"' { '_' } else { c })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

struct Streamer {
    core: Arc<Core>,
    file: tokio::fs::File,
    sent: u64,
    bytes_per_sec: Option<u64>,
    truncate_at: Option<u64>,
}

/// Stream a file in chunks, throttled to about `bytes_per_sec` (10 chunks a second), and
/// failing after `truncate_at` bytes so the connection closes short of its length.
fn stream_file(
    core: Arc<Core>,
    file: tokio::fs::File,
    bytes_per_sec: Option<u64>,
    truncate_at: Option<u64>,
) -> Body {
    let st = Streamer {
        core,
        file,
        sent: 0,
        bytes_per_sec,
        truncate_at,
    };
    Body::from_stream(stream::unfold(Some(st), |st| async move {
        let mut st = st?;
        if st.truncate_at.is_some_and(|t| st.sent >= t) {
            // Let the connection flush what was sent (headers included) before failing;
            // hyper drops unflushed output when a body errors.
            tokio::time::sleep(Duration::from_millis(30)).await;
            let err =
                std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "truncated by fault");
            return Some((Err(err), None));
        }
        let mut want = CHUNK as u64;
        if let Some(bps) = st.bytes_per_sec {
            want = want.min((bps / 10).max(1));
        }
        if let Some(t) = st.truncate_at {
            want = want.min(t - st.sent);
        }
        let mut buf = vec![0u8; want as usize];
        let n = match st.file.read(&mut buf).await {
            Ok(0) => return None,
            Ok(n) => n,
            Err(e) => return Some((Err(e), None)),
        };
        buf.truncate(n);
        if st.bytes_per_sec.is_some() {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = st.core.shutting_down() => {
                    let err = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "shutting down");
                    return Some((Err(err), None));
                }
            }
        }
        st.sent += n as u64;
        Some((Ok(Bytes::from(buf)), Some(st)))
    }))
}
