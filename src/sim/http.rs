//! The HTTP side: routes (also under `/api`), request capture and the HTTP faults.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Map, Number, Value, json};

use super::catalog;
use super::observe::Free;
use super::state::{CapturedRequest, Core, QueueItem};
use super::validate::{self, error_body};
use super::{upload, userdata, view, ws};

/// ComfyUI's default `--max-upload-size` (100 MiB) caps every request body.
pub const MAX_BODY: usize = 100 * 1024 * 1024;

pub fn router(core: Arc<Core>) -> Router {
    let routes = Router::new()
        .route("/ws", get(ws::upgrade))
        .route("/prompt", get(get_prompt).post(post_prompt))
        .route("/queue", get(get_queue).post(post_queue))
        .route("/interrupt", post(post_interrupt))
        .route("/history", get(get_history).post(post_history))
        .route("/history/{id}", get(get_history_id))
        .route("/view", get(view::view))
        .route("/upload/image", post(upload::upload_image))
        .route("/upload/mask", post(upload::upload_mask))
        .route("/system_stats", get(system_stats))
        .route(
            "/features",
            get(|| async { json_ok(ws::server_features()) }),
        )
        .route("/object_info", get(object_info))
        .route("/object_info/{class}", get(object_info_class))
        .route(
            "/models",
            get(|| async { json_ok(json!(catalog::MODEL_FOLDERS)) }),
        )
        .route("/models/{folder}", get(models_folder))
        .route(
            "/embeddings",
            get(|| async { json_ok(json!(catalog::FAKE_EMBEDDINGS)) }),
        )
        .route("/free", post(post_free))
        .route("/userdata", get(userdata::list))
        .route("/userdata/{file}", get(userdata::file));
    Router::new()
        .merge(routes.clone())
        .nest("/api", routes)
        // The frontend-internal routes have no `/api` alias.
        .route("/internal/logs", get(get_logs))
        .route("/internal/logs/raw", get(get_logs_raw))
        .route("/internal/logs/subscribe", patch(patch_logs_subscribe))
        .layer(middleware::from_fn_with_state(core.clone(), faults_layer))
        .layer(middleware::from_fn(origin_layer))
        .layer(middleware::from_fn_with_state(core.clone(), capture_layer))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(core)
}

/// A JSON answer with aiohttp's content type.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn json_ok(body: Value) -> Response {
    json_response(StatusCode::OK, &body)
}

/// Record every request (before any fault holds it back) so tests can assert on it.
async fn capture_layer(State(core): State<Arc<Core>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large").into_response();
    };
    core.capture(CapturedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        body: serde_json::from_slice(&bytes).ok(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    });
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// ComfyUI's origin check: on a loopback `Host`, a request whose `Origin` names another
/// host (and port, when both carry one) is refused with 403.
async fn origin_layer(req: Request, next: Next) -> Response {
    if refused_origin(req.headers()) {
        return StatusCode::FORBIDDEN.into_response();
    }
    next.run(req).await
}

fn refused_origin(headers: &axum::http::HeaderMap) -> bool {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    match (get(header::HOST), get(header::ORIGIN)) {
        (Some(host), Some(origin)) => origin_mismatch(&host, &origin),
        _ => false,
    }
}

/// Split `host[:port]` (IPv6 in brackets) into host name and port.
fn host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        let (h, tail) = rest.split_once(']').unwrap_or((rest, ""));
        return (h, tail.strip_prefix(':'));
    }
    match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    }
}

fn origin_mismatch(host: &str, origin: &str) -> bool {
    let netloc = origin.split_once("://").map_or(origin, |(_, r)| r);
    let netloc = netloc.split('/').next().unwrap_or("");
    let (h_name, h_port) = host_port(host);
    let (o_name, o_port) = host_port(netloc);
    let loopback = h_name == "localhost" || h_name.starts_with("127.") || h_name == "::1";
    // Like ComfyUI, ports only count when both sides carry one.
    let (h, o) = if h_port.is_some() && o_port.is_some() {
        (host, netloc)
    } else {
        (h_name, o_name)
    };
    loopback && !h.is_empty() && !o.is_empty() && h != o
}

/// "Stop answering" holds requests until switched off; "slow responses" delays them.
async fn faults_layer(State(core): State<Arc<Core>>, req: Request, next: Next) -> Response {
    let stopped = core.faults.get().stop_answering;
    if stopped {
        tokio::select! {
            _ = core.faults.wait_answering() => {}
            _ = core.shutting_down() => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
    if let Some(limit) = core.faults.get().max_body_bytes {
        let size = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if size > limit {
            // aiohttp's answer to a body over `client_max_size`.
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Maximum request body size {limit} exceeded, actual body size {size}"),
            )
                .into_response();
        }
    }
    let is_ws = req.uri().path().ends_with("/ws");
    if let Some(delay) = core.faults.get().http_delay.filter(|_| !is_ws) {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = core.shutting_down() => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
    next.run(req).await
}

/// A body that is not JSON makes ComfyUI's handler raise: 500 with a plain-text body.
fn parse_json(body: &Bytes) -> Result<Value, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("500 Internal Server Error\n\nServer got itself in trouble: {e}"),
            )
                .into_response(),
        )
    })
}

/// Python truthiness of a JSON value (ComfyUI tests `if json_data['front']:`).
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `true` for a canonical lowercase hyphenated UUID.
fn is_canonical_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

async fn get_prompt(State(core): State<Arc<Core>>) -> Response {
    json_ok(json!({"exec_info": {"queue_remaining": core.queue_remaining()}}))
}

async fn post_prompt(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    // ComfyUI logs this first, before it even reads the body.
    core.log("got prompt\n").await;
    let body = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let empty = Map::new();
    let obj = body.as_object().unwrap_or(&empty);
    // Like ComfyUI, the number is taken (and the counter advanced) before validation.
    let number: Number = match obj.get("number") {
        Some(n) => Number::from_f64(n.as_f64().unwrap_or(0.0)).unwrap_or_else(|| Number::from(0)),
        None => {
            let mut q = core.queue();
            let n = q.counter;
            q.counter += 1;
            let front = obj.get("front").is_some_and(truthy);
            Number::from(if front { -n } else { n })
        }
    };
    let Some(prompt) = obj.get("prompt") else {
        let e = error_body(
            "no_prompt",
            "No prompt provided",
            "No prompt provided",
            Map::new(),
        );
        return json_response(StatusCode::BAD_REQUEST, &e);
    };
    let prompt_id = match obj.get("prompt_id") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(s)) if is_canonical_uuid(s) => s.clone(),
        Some(other) => {
            let shown = other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_owned);
            let e = error_body(
                "invalid_prompt_id",
                "Invalid prompt_id",
                &format!("prompt_id must be a canonical lowercase UUID string, got {shown:?}"),
                Map::new(),
            );
            return json_response(StatusCode::BAD_REQUEST, &e);
        }
    };
    let Some(mut prompt) = prompt.as_object().cloned() else {
        let e = error_body(
            "invalid_prompt",
            "Cannot execute because a node is missing the class_type property.",
            "The prompt must be an object of nodes",
            Map::new(),
        );
        return json_response(StatusCode::BAD_REQUEST, &e);
    };
    let targets: Option<Vec<String>> = obj
        .get("partial_execution_targets")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        });
    let dirs = core.dirs.clone();
    let exists = move |name: &str| dirs.annotated_input(name).is_some();
    let validated = match validate::validate_prompt(&mut prompt, targets.as_deref(), &exists) {
        Ok(v) => v,
        Err(e) => return json_response(StatusCode::BAD_REQUEST, &e),
    };
    let mut extra_data = obj
        .get("extra_data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(cid) = obj.get("client_id") {
        extra_data.insert("client_id".to_owned(), cid.clone());
    }
    core.enqueue(QueueItem {
        number: number.clone(),
        prompt_id: prompt_id.clone(),
        prompt,
        extra_data,
        outputs: validated.good_outputs,
    })
    .await;
    json_ok(json!({"prompt_id": prompt_id, "number": number, "node_errors": validated.node_errors}))
}

async fn get_queue(State(core): State<Arc<Core>>) -> Response {
    let q = core.queue();
    let running: Vec<Value> = q.running.iter().map(QueueItem::to_json).collect();
    // The heap array as it stands, like ComfyUI: the next to run is first, the rest are
    // not in run order (clients sort by `(number, prompt_id)`).
    let pending: Vec<Value> = q.pending().iter().map(QueueItem::to_json).collect();
    drop(q);
    json_ok(json!({"queue_running": running, "queue_pending": pending}))
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn post_queue(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let body = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if body.get("clear").and_then(Value::as_bool) == Some(true) {
        core.clear_pending().await;
    }
    let delete = string_list(body.get("delete"));
    if !delete.is_empty() {
        core.delete_pending(&delete).await;
    }
    StatusCode::OK.into_response()
}

async fn post_interrupt(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    // An empty or non-JSON body counts as `{}`: a global interrupt.
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    core.interrupt(body.get("prompt_id").and_then(Value::as_str));
    StatusCode::OK.into_response()
}

async fn get_history(
    State(core): State<Arc<Core>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let parse = |k: &str| q.get(k).map(|v| v.parse::<i64>());
    let (max_items, offset) = match (parse("max_items"), parse("offset")) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error",
            )
                .into_response();
        }
        (m, o) => (m.and_then(Result::ok), o.and_then(Result::ok)),
    };
    let max_items = max_items.map(|m| m.max(0) as usize);
    json_ok(Value::Object(core.history(max_items, offset)))
}

async fn get_history_id(State(core): State<Arc<Core>>, Path(id): Path<String>) -> Response {
    match core.history_entry(&id) {
        Some(entry) => json_ok(Value::Object(Map::from_iter([(id, entry)]))),
        None => json_ok(json!({})),
    }
}

async fn post_history(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let body = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let clear = body.get("clear").and_then(Value::as_bool) == Some(true);
    core.edit_history(clear, &string_list(body.get("delete")));
    StatusCode::OK.into_response()
}

async fn post_free(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let body = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let flag = |key: &str| body.get(key).and_then(Value::as_bool) == Some(true);
    core.request_free(Free {
        unload_models: flag("unload_models"),
        free_memory: flag("free_memory"),
    });
    StatusCode::OK.into_response()
}

async fn system_stats(State(core): State<Arc<Core>>) -> Response {
    json_ok(core.system_stats())
}

async fn get_logs(State(core): State<Arc<Core>>) -> Response {
    json_ok(Value::String(super::state::lock(&core.logs).joined()))
}

async fn get_logs_raw(State(core): State<Arc<Core>>) -> Response {
    let raw = super::state::lock(&core.logs).raw();
    json_ok(raw)
}

/// `{"clientId", "enabled"}`; like ComfyUI, a missing key makes the handler raise (500).
async fn patch_logs_subscribe(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let body = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let (Some(client_id), Some(enabled)) = (body.get("clientId"), body.get("enabled")) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error\n\nServer got itself in trouble",
        )
            .into_response();
    };
    let client_id = client_id
        .as_str()
        .map_or_else(|| client_id.to_string(), str::to_owned);
    super::state::lock(&core.logs).set_subscribed(&client_id, truthy(enabled));
    StatusCode::OK.into_response()
}

async fn object_info(State(core): State<Arc<Core>>) -> Response {
    if let Some(delay) = core.faults.get().object_info_delay {
        // A real server with thousands of custom node classes takes seconds here.
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = core.shutting_down() => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
    json_ok(Value::Object(catalog::object_info_with_inputs(
        &core.dirs.input_files(),
    )))
}

async fn object_info_class(State(core): State<Arc<Core>>, Path(class): Path<String>) -> Response {
    let info = match catalog::class(&class) {
        Some(_) if catalog::INPUT_FILE_CLASSES.contains(&class.as_str()) => {
            catalog::object_info_with_inputs(&core.dirs.input_files()).remove(&class)
        }
        other => other.cloned(),
    };
    match info {
        Some(info) => json_ok(Value::Object(Map::from_iter([(class, info)]))),
        None => json_ok(json!({})),
    }
}

async fn models_folder(Path(folder): Path<String>) -> Response {
    match folder.as_str() {
        "checkpoints" => json_ok(json!(catalog::FAKE_CHECKPOINTS)),
        "loras" => json_ok(json!(catalog::FAKE_LORAS)),
        f if catalog::MODEL_FOLDERS.contains(&f) => json_ok(json!([])),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rule() {
        assert!(!origin_mismatch("127.0.0.1:8188", "http://127.0.0.1:8188"));
        assert!(origin_mismatch("127.0.0.1:8188", "http://evil.example"));
        assert!(origin_mismatch("localhost:8188", "http://localhost:3000"));
        assert!(!origin_mismatch("localhost:8188", "http://localhost"));
        assert!(
            !origin_mismatch("myhost:8188", "http://other:1"),
            "only loopback hosts are checked"
        );
    }

    #[test]
    fn uuid_check() {
        assert!(is_canonical_uuid("bfa60484-749a-4b43-904a-7334440e529c"));
        assert!(!is_canonical_uuid("BFA60484-749A-4B43-904A-7334440E529C"));
        assert!(!is_canonical_uuid("bfa60484749a4b43904a7334440e529c"));
        assert!(!is_canonical_uuid("my-prompt"));
    }
}
