//! The discovery commands (`stats`, `queue`, `history`, `models`, `nodes`, `embeddings`,
//! `features`): one module each, every one printing a table or, with `--json`, one JSON
//! object. Exit 0, 2 for bad arguments, 4 when the server cannot be reached or answers
//! something unusable.

pub mod embeddings;
pub mod features;
pub mod history;
pub mod models;
pub mod nodes;
pub mod queue;
pub mod stats;
pub mod table;

use std::future::Future;

use serde_json::Value;

use crate::cli::ServerArgs;
use crate::comfy::http::{ComfyClient, HttpError};
use crate::text::sanitize;

/// What a command shows: the same facts for people and for scripts.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub json: Value,
    pub table: String,
}

/// Why a command could not show anything.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The arguments name something the server does not have (exit 2).
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Server(#[from] HttpError),
}

fn client(args: &ServerArgs) -> Result<ComfyClient, String> {
    let (server, headers) =
        crate::launch::connection_for(&args.server, &args.headers).map_err(|e| e.0)?;
    ComfyClient::new(server, headers).map_err(|e| e.to_string())
}

/// Builds the client, asks, prints, and gives the exit code.
pub async fn run_with<F, Fut>(args: &ServerArgs, ask: F) -> i32
where
    F: FnOnce(ComfyClient) -> Fut,
    Fut: Future<Output = Result<Shown, Failure>>,
{
    let client = match client(args) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("comfy-tui: {}", sanitize(&e));
            return crate::exit::USAGE;
        }
    };
    match ask(client).await {
        Ok(shown) => {
            if args.json {
                println!("{}", shown.json);
            } else {
                print!("{}", shown.table);
            }
            crate::exit::SUCCESS
        }
        Err(Failure::Usage(e)) => {
            eprintln!("comfy-tui: {}", sanitize(&e));
            crate::exit::USAGE
        }
        Err(Failure::Server(e)) => {
            eprintln!("comfy-tui: {}", sanitize(&e.to_string()));
            crate::exit::UNREACHABLE
        }
    }
}

/// The closest of `names` to `wanted` (for "did you mean"), when one is close enough.
pub(crate) fn closest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted = wanted.to_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .map(|name| (strsim::jaro_winkler(&wanted, &name.to_lowercase()), name))
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names_are_ranked() {
        let names = ["KSampler", "KSamplerAdvanced", "SaveImage"];
        assert_eq!(
            closest("ksampler", names.into_iter()),
            ["KSampler", "KSamplerAdvanced"]
        );
        assert!(closest("zzz", names.into_iter()).is_empty());
    }
}
