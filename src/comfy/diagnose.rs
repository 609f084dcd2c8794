//! Why a server cannot be used, in words that say what to try. A failed WebSocket
//! handshake only says what broke ("received corrupt message", "HTTP version must be 1.1");
//! one HTTP request tells a wrong scheme, a server that is not ComfyUI, and a listener
//! that never answers apart.

use super::endpoints::ServerUrl;
use super::http::{ComfyClient, HttpError};
use std::time::Duration;

/// Signs, in a TLS error, that the peer answered in plain text.
const PLAIN_TEXT_PEER: &[&str] = &[
    "InvalidContentType",
    "corrupt message",
    "wrong version number",
    "record overflow",
    "http request to an https server",
];

/// The best explanation of `error` (what the socket said) for `server`.
pub async fn explain(
    client: &ComfyClient,
    server: &ServerUrl,
    error: &str,
    within: Duration,
) -> String {
    let scheme = server.as_str().split(':').next().unwrap_or_default();
    if scheme == "https" && PLAIN_TEXT_PEER.iter().any(|s| error.contains(s)) {
        return format!(
            "this server speaks plain http, not https: use {} ({error})",
            with_scheme(server, "http")
        );
    }
    let probe = tokio::time::timeout(within, client.system_stats()).await;
    match probe {
        Ok(Ok(stats)) if stats.get("system").is_some() || stats.get("devices").is_some() => {
            format!("the server answers HTTP, but its WebSocket failed: {error}")
        }
        Ok(Ok(_)) => format!(
            "this is not a ComfyUI server: GET /system_stats answered JSON without `system` or `devices` ({error})"
        ),
        Ok(Err(HttpError::Status { status, body, .. })) => {
            if scheme == "http" && body.to_ascii_lowercase().contains("https") && status == 400 {
                return format!(
                    "this server speaks https: use {} (GET /system_stats answered HTTP 400)",
                    with_scheme(server, "https")
                );
            }
            format!(
                "this is not a ComfyUI server: GET /system_stats answered HTTP {status} ({error})"
            )
        }
        Ok(Err(HttpError::Decode { .. })) => {
            format!("this is not a ComfyUI server: GET /system_stats did not answer JSON ({error})")
        }
        Ok(Err(HttpError::Unreachable { reason, .. })) => {
            if reason.contains("refused") {
                format!(
                    "cannot reach {}: nothing listens there (connection refused; is ComfyUI running?)",
                    server.as_str()
                )
            } else if scheme == "https" && PLAIN_TEXT_PEER.iter().any(|s| reason.contains(s)) {
                format!(
                    "this server speaks plain http, not https: use {}",
                    with_scheme(server, "http")
                )
            } else {
                format!("cannot reach {}: {reason}", server.as_str())
            }
        }
        Ok(Err(other)) => format!("{error} ({other})"),
        Err(_) => format!(
            "{} accepted the connection but did not answer ({error})",
            server.as_str()
        ),
    }
}

/// The same server under another scheme, for a suggestion.
fn with_scheme(server: &ServerUrl, scheme: &str) -> String {
    match server.as_str().split_once("://") {
        Some((_, rest)) => format!("{scheme}://{}", rest.trim_end_matches('/')),
        None => server.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_keep_host_port_and_prefix() {
        let server = ServerUrl::parse("https://gpu:8188/comfy/").expect("url");
        assert_eq!(with_scheme(&server, "http"), "http://gpu:8188/comfy");
    }
}
