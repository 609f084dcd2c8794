//! Where the server lives: every HTTP route and the WebSocket URL derive from the one
//! `--server` URL here, including https/wss and a path prefix such as `https://host/comfy/`.

use super::ids::ClientId;
use reqwest::Url;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ServerUrlError {
    #[error("server URL `{url}` is not a valid URL: {reason}")]
    Invalid { url: String, reason: String },
    #[error("server URL `{0}` must start with http:// or https://")]
    Scheme(String),
    #[error("server URL `{0}` must not carry a query or fragment")]
    QueryOrFragment(String),
}

/// The base URL of a ComfyUI server, normalised to end with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    base: Url,
}

impl ServerUrl {
    pub fn parse(text: &str) -> Result<Self, ServerUrlError> {
        let trimmed = text.trim();
        let mut base = Url::parse(trimmed).map_err(|e| ServerUrlError::Invalid {
            url: trimmed.to_owned(),
            reason: e.to_string(),
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(ServerUrlError::Scheme(trimmed.to_owned()));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(ServerUrlError::QueryOrFragment(trimmed.to_owned()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Self { base })
    }

    /// Removes `user:password@` from the URL and returns them as a Basic `Authorization`
    /// value, so that they go on every request and the WebSocket upgrade alike, and the
    /// URL that is shown or logged carries no secret.
    pub fn take_credentials(&mut self) -> Option<reqwest::header::HeaderValue> {
        use base64::Engine;
        if self.base.username().is_empty() && self.base.password().is_none() {
            return None;
        }
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = decode(self.base.username());
        let password = decode(self.base.password().unwrap_or_default());
        let _ = self.base.set_username("");
        let _ = self.base.set_password(None);
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Basic {token}")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// The URL as given, normalised (for display).
    pub fn as_str(&self) -> &str {
        self.base.as_str()
    }

    /// An HTTP route such as `prompt` or `history/ID`, under the server's `/api/` alias
    /// (every route exists there since 2024-06; the protocol reference recommends it).
    pub fn route(&self, route: &str) -> Url {
        let mut url = self.base.clone();
        let path = format!("{}api/{}", self.base.path(), route.trim_start_matches('/'));
        url.set_path(&path);
        url
    }

    /// A route with no `/api/` alias, such as `internal/logs/raw` (the frontend-internal
    /// routes exist only at the root, under the server's path prefix).
    pub fn root_route(&self, route: &str) -> Url {
        let mut url = self.base.clone();
        let path = format!("{}{}", self.base.path(), route.trim_start_matches('/'));
        url.set_path(&path);
        url
    }

    /// `ws://…/api/ws?clientId=…` (or `wss://` for an https server).
    pub fn websocket(&self, client_id: &ClientId) -> Url {
        let mut url = self.route("ws");
        let scheme = if self.base.scheme() == "https" {
            "wss"
        } else {
            "ws"
        };
        // Switching between these special schemes is always accepted by `url`.
        let _ = url.set_scheme(scheme);
        url.query_pairs_mut()
            .append_pair("clientId", client_id.as_str());
        url
    }
}

/// Percent-encodes `text` as one path segment: everything but unreserved characters,
/// `/` included, as the `/userdata/{file}` route needs (`workflows%2Fa.json`).
pub fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_websocket_follow_scheme_and_prefix() {
        let cases = [
            (
                "http://127.0.0.1:8188",
                "http://127.0.0.1:8188/api/prompt",
                "ws://127.0.0.1:8188/api/ws?clientId=abc",
            ),
            (
                "https://host/comfy/",
                "https://host/comfy/api/prompt",
                "wss://host/comfy/api/ws?clientId=abc",
            ),
            (
                "https://host:9000/a/b",
                "https://host:9000/a/b/api/prompt",
                "wss://host:9000/a/b/api/ws?clientId=abc",
            ),
        ];
        for (base, prompt, ws) in cases {
            let url = ServerUrl::parse(base).expect(base);
            assert_eq!(url.route("prompt").as_str(), prompt);
            assert_eq!(url.websocket(&ClientId::from("abc")).as_str(), ws);
        }
    }

    #[test]
    fn credentials_leave_the_url_as_basic_auth() {
        let mut server = ServerUrl::parse("http://al%40x:p%3Aw@127.0.0.1:8188/").expect("url");
        let header = server.take_credentials().expect("credentials");
        assert_eq!(server.as_str(), "http://127.0.0.1:8188/");
        assert!(
            !server
                .websocket(&ClientId::from("c"))
                .as_str()
                .contains('@')
        );
        // base64("al@x:p:w")
        assert_eq!(header.to_str().expect("ascii"), "Basic YWxAeDpwOnc=");
        assert!(header.is_sensitive());
        assert!(server.take_credentials().is_none());
    }

    #[test]
    fn history_route_keeps_the_id() {
        let url = ServerUrl::parse("http://h:1/x").expect("valid");
        assert_eq!(
            url.route("history/p-1").as_str(),
            "http://h:1/x/api/history/p-1"
        );
    }

    #[test]
    fn a_path_segment_keeps_its_slashes_encoded() {
        let url = ServerUrl::parse("http://h:1/").expect("valid");
        let route = format!("userdata/{}", path_segment("workflows/my portraits/ü.json"));
        assert_eq!(
            url.route(&route).as_str(),
            "http://h:1/api/userdata/workflows%2Fmy%20portraits%2F%C3%BC.json"
        );
    }

    #[test]
    fn bad_urls_are_rejected_with_the_reason() {
        assert!(matches!(
            ServerUrl::parse("ftp://host"),
            Err(ServerUrlError::Scheme(_))
        ));
        assert!(matches!(
            ServerUrl::parse("not a url"),
            Err(ServerUrlError::Invalid { .. })
        ));
        assert!(matches!(
            ServerUrl::parse("http://h/?a=1"),
            Err(ServerUrlError::QueryOrFragment(_))
        ));
    }
}
