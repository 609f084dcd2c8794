//! Before anything is sent: the target server's `/object_info`, fetched at most once per
//! run; a graph in the editor's format converted against it; the prompt checked against
//! it. A server that cannot be asked is reported here, diagnosed, within the connect
//! timeout, so that a run never waits twice for the same silent server.

use crate::comfy::http::{ComfyClient, HttpError};
use crate::comfy::{ServerUrl, diagnose};
use crate::convert::{self, ConvertOptions, DynamicPick};
use crate::source::Loaded;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Why the catalogue could not be had.
#[derive(Debug)]
pub enum CatalogError {
    /// No answer, or not the server we think: the run cannot go on (exit 4).
    Unreachable(String),
    /// The server answered, but not with a usable catalogue (an old or odd server): a
    /// check can be skipped, a conversion cannot.
    Unusable(String),
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(reason) | Self::Unusable(reason) => f.write_str(reason),
        }
    }
}

/// How long a live server may take to build a large `/object_info` (thousands of custom
/// node classes take seconds on a real ComfyUI) once it has shown it is alive.
const SLOW_CATALOG: Duration = Duration::from_secs(60);

/// `GET /object_info`, bounded by `within`, with what is wrong said plainly on failure.
/// A server that is merely slow to build its catalogue is told from a silent one by a
/// cheap route: only a silent one is unreachable.
pub async fn fetch_catalog(
    client: &ComfyClient,
    server: &ServerUrl,
    within: Duration,
) -> Result<Value, CatalogError> {
    let diagnosis = (within / 5).min(Duration::from_secs(2));
    let fetch = client.object_info(None);
    tokio::pin!(fetch);
    let answer = match tokio::time::timeout(within.saturating_sub(diagnosis), &mut fetch).await {
        Ok(answer) => answer,
        Err(_) => {
            let alive = matches!(
                tokio::time::timeout(diagnosis, client.queue_remaining()).await,
                Ok(Ok(_))
            );
            if !alive {
                return Err(CatalogError::Unreachable(format!(
                    "{} did not answer within {} s (--connect-timeout waits longer)",
                    server.as_str(),
                    within.as_secs_f64()
                )));
            }
            match tokio::time::timeout(SLOW_CATALOG, &mut fetch).await {
                Ok(answer) => answer,
                Err(_) => {
                    return Err(CatalogError::Unusable(format!(
                        "the server's /object_info took longer than {} s",
                        (within + SLOW_CATALOG).as_secs()
                    )));
                }
            }
        }
    };
    match answer {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) => Err(CatalogError::Unusable(
            "the server's /object_info is not a JSON object".into(),
        )),
        Err(HttpError::Status { status, .. }) if status != 404 => Err(CatalogError::Unusable(
            format!("the server's /object_info answered HTTP {status}"),
        )),
        Err(error) => Err(CatalogError::Unreachable(
            diagnose::explain(client, server, &error.to_string(), diagnosis).await,
        )),
    }
}

/// The catalogue a command works against: a saved `/object_info` answer when one is
/// given, else the server's, fetched as [`fetch_catalog`] does. The error carries the exit
/// code: 2 for local input, 4 for a server that cannot give one.
pub async fn catalog_for(
    object_info: Option<&Path>,
    server: &str,
    headers: &[String],
) -> Result<Value, (String, i32)> {
    if let Some(path) = object_info {
        return read_json(path, "--object-info").map_err(|e| (e, crate::exit::USAGE));
    }
    let (server, headers) =
        crate::launch::connection_for(server, headers).map_err(|e| (e.0, crate::exit::USAGE))?;
    let client = ComfyClient::new(server.clone(), headers)
        .map_err(|e| (e.to_string(), crate::exit::USAGE))?;
    fetch_catalog(&client, &server, crate::runtime::CONNECT_WITHIN)
        .await
        .map_err(|e| (e.to_string(), crate::exit::UNREACHABLE))
}

/// Reads a JSON file (or stdin for `-`), accepting ComfyUI's `NaN`/`Infinity` tokens.
pub fn read_json(path: &Path, what: &str) -> Result<Value, String> {
    use std::io::Read;
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read {what} from stdin: {e}"))?;
        text
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?
    };
    crate::comfy::lenient::from_str(&text)
        .map_err(|e| format!("{what} {} is not valid JSON: {e}", path.display()))
}

/// What converting a UI graph gave, beside the prompt.
#[derive(Debug, Default)]
pub struct Conversion {
    pub picks: Vec<DynamicPick>,
    pub warnings: Vec<String>,
}

/// Converts `loaded` in place when it is the editor's format: its value becomes the API
/// prompt, and the graph is kept as `ui_workflow` so that the server's PNGs carry it, as
/// the web UI's do. `seed` makes the dynamic-prompt picks repeatable.
pub fn convert_loaded(
    loaded: &mut Loaded,
    catalog: &Value,
    seed: Option<u64>,
) -> Result<Conversion, String> {
    if !convert::is_ui_format(&loaded.value) {
        return Ok(Conversion::default());
    }
    let converted = convert::convert(&loaded.value, catalog, &ConvertOptions::local_now(seed))
        .map_err(|e| format!("workflow {}: {e}", loaded.origin))?;
    let graph = std::mem::replace(&mut loaded.value, Value::Object(converted.prompt));
    loaded.ui_workflow.get_or_insert(graph);
    Ok(Conversion {
        picks: converted.picks,
        warnings: converted.warnings,
    })
}
