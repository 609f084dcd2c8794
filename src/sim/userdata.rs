//! The user directory's `/userdata` routes, as ComfyUI serves them: a listing (`dir`,
//! `recurse`, `full_info`, `split`) and single files (`/userdata/{file}`, `/` as `%2F`),
//! seeded with the saved workflows shipped in `assets/sim/userdata/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::files::normalize;
use super::http::json_response;
use super::state::Core;

/// Saved workflows every instance starts with: the demo graph in API format (in a
/// subfolder), the txt2img example, and the editor's default graph in UI format.
const SHIPPED: &[(&str, &str)] = &[
    (
        "workflows/examples/demo.json",
        include_str!("../../assets/sim/userdata/workflows/examples/demo.json"),
    ),
    (
        "workflows/txt2img.json",
        include_str!("../../assets/sim/userdata/workflows/txt2img.json"),
    ),
    (
        "workflows/templates/default.json",
        include_str!("../../assets/sim/userdata/workflows/templates/default.json"),
    ),
];

/// Writes the shipped files into a fresh user directory.
pub fn seed(user: &Path) -> std::io::Result<()> {
    for (path, text) in SHIPPED {
        let target = user.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, text)?;
    }
    Ok(())
}

/// A path under the user directory, `None` when it would leave it (ComfyUI: 403).
fn user_path(user: &Path, relative: &str) -> Option<PathBuf> {
    normalize(Path::new(relative)).map(|rel| user.join(rel))
}

/// ComfyUI reads its boolean query flags as `value.lower() == "true"`.
fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    query
        .get(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `GET /userdata?dir=…`: 400 without `dir`, 403 outside the user directory, 404 for a
/// missing folder; paths are relative to `dir` and `/`-separated.
pub async fn list(
    State(core): State<Arc<Core>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let dir = query.get("dir").map(String::as_str).unwrap_or_default();
    if dir.is_empty() {
        return (StatusCode::BAD_REQUEST, "Directory not provided").into_response();
    }
    let Some(root) = user_path(&core.dirs.user, dir) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    if !root.is_dir() {
        return (StatusCode::NOT_FOUND, "Directory not found").into_response();
    }
    let mut found = Vec::new();
    walk(&root, flag(&query, "recurse"), &mut found);
    found.sort();
    let relative = |path: &Path| {
        path.strip_prefix(&root)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    };
    let entries: Vec<Value> = found
        .iter()
        .map(|path| {
            let parts = relative(path);
            let joined = parts.join("/");
            if flag(&query, "full_info") {
                let meta = std::fs::metadata(path).ok();
                let seconds = |time: Option<std::time::SystemTime>| {
                    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map_or(0.0, |d| d.as_secs_f64())
                };
                json!({
                    "path": joined,
                    "size": meta.as_ref().map_or(0, std::fs::Metadata::len),
                    "modified": seconds(meta.as_ref().and_then(|m| m.modified().ok())),
                    "created": seconds(meta.as_ref().and_then(|m| m.created().ok())),
                })
            } else if flag(&query, "split") {
                let mut split = vec![Value::from(joined)];
                split.extend(parts.into_iter().map(Value::from));
                Value::Array(split)
            } else {
                Value::from(joined)
            }
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(entries))
}

fn walk(dir: &Path, recurse: bool, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() && recurse => walk(&path, recurse, found),
            Ok(t) if t.is_file() => found.push(path),
            _ => {}
        }
    }
}

/// `GET /userdata/{file}`: the file's bytes; 403 outside the user directory, 404 when
/// there is no such file.
pub async fn file(State(core): State<Arc<Core>>, UrlPath(file): UrlPath<String>) -> Response {
    let Some(path) = user_path(&core.dirs.user, &file) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    match std::fs::read(&path) {
        Ok(bytes) if path.is_file() => {
            let kind = if file.ends_with(".json") {
                "application/json"
            } else {
                "application/octet-stream"
            };
            ([(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
