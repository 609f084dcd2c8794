//! The `/ws` connection: connect with our client id, negotiate preview metadata with the
//! first frame, and turn frames into typed items. A bad frame is an item, not the end.

use super::endpoints::ServerUrl;
use super::frame_guard::{Guarded, MAX_TEXT_BYTES};
use super::ids::ClientId;
use super::messages::ServerMessage;
use super::preview::BinaryFrame;
use futures_util::{SinkExt, StreamExt};
use reqwest::header::HeaderMap;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Largest WebSocket message accepted. `SaveImageWebsocket` sends full-size PNGs (tens of
/// MiB); tungstenite's 16 MiB frame default would cut those connections. Text messages
/// have a far lower cap of their own ([`MAX_TEXT_BYTES`], see `frame_guard`).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// The first frame we send: ask for type-4 previews that say which prompt they belong to.
pub const FEATURE_FLAGS: &str =
    r#"{"type":"feature_flags","data":{"supports_preview_metadata":true}}"#;

#[derive(Debug, thiserror::Error)]
pub enum WsError {
    #[error("cannot open the WebSocket at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("WebSocket failed: {0}")]
    Stream(String),
}

/// One thing the socket delivered.
#[derive(Debug, Clone, PartialEq)]
pub enum WsItem {
    Message(ServerMessage),
    Binary(BinaryFrame),
    /// A frame that could not be read; the stream goes on.
    Malformed(String),
}

type Stream = WebSocketStream<MaybeTlsStream<Guarded<TcpStream>>>;

pub struct WsConnection {
    stream: Stream,
    /// When anything last arrived, pongs included: the sign that the peer is there.
    last_seen: std::time::Instant,
    /// Items read while waiting for the server's greeting, handed out first.
    early: std::collections::VecDeque<WsItem>,
}

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// Opens the TCP connection (and TLS for `wss://`) and makes the upgrade, with the frame
/// guard reading the plain WebSocket bytes where it can see them (`ws://`).
async fn open(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<Stream, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::error::UrlError;
    let uri = request.uri();
    let tls = uri.scheme_str() == Some("wss");
    let host = uri
        .host()
        .ok_or(tokio_tungstenite::tungstenite::Error::Url(
            UrlError::NoHostName,
        ))?;
    // `[::1]` in a URL is `::1` to the resolver.
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_owned();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    let guarded = Guarded::new(tcp, MAX_TEXT_BYTES, !tls);
    let (stream, _) =
        tokio_tungstenite::client_async_tls_with_config(request, guarded, Some(config()), None)
            .await?;
    Ok(stream)
}

impl WsConnection {
    /// Connects, sends the feature flags, and returns the open socket.
    pub async fn connect(
        server: &ServerUrl,
        client_id: &ClientId,
        headers: &HeaderMap,
    ) -> Result<Self, WsError> {
        let url = server.websocket(client_id);
        let connect_error = |reason: String| WsError::Connect {
            url: url.to_string(),
            reason,
        };
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| connect_error(e.to_string()))?;
        for (name, value) in headers {
            request.headers_mut().append(name, value.clone());
        }
        let mut stream = open(request)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        stream
            .send(Message::text(FEATURE_FLAGS))
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        let mut connection = Self {
            stream,
            last_seen: std::time::Instant::now(),
            early: Default::default(),
        };
        connection
            .await_greeting()
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        Ok(connection)
    }

    /// Waits for the server's first `status` (the one with `sid`). The server registers
    /// the socket under our id only around then: a prompt submitted earlier could run
    /// (a fully cached one finishes at once) with its messages sent to nobody.
    async fn await_greeting(&mut self) -> Result<(), WsError> {
        loop {
            match self.read().await {
                None => {
                    return Err(WsError::Stream(
                        "closed before the server's greeting".into(),
                    ));
                }
                Some(Err(e)) => return Err(e),
                Some(Ok(item)) => {
                    let greeted = matches!(item, WsItem::Message(ServerMessage::Status(_)));
                    self.early.push_back(item);
                    if greeted {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// The next item; `None` once the server closed the socket.
    pub async fn next(&mut self) -> Option<Result<WsItem, WsError>> {
        if let Some(item) = self.early.pop_front() {
            return Some(Ok(item));
        }
        self.read().await
    }

    async fn read(&mut self) -> Option<Result<WsItem, WsError>> {
        loop {
            let message = match self.stream.next().await? {
                Ok(message) => message,
                Err(error) => return Some(Err(WsError::Stream(error.to_string()))),
            };
            self.last_seen = std::time::Instant::now();
            return Some(Ok(match message {
                // Under `wss://` the frame guard cannot see the frames: the same cap,
                // checked once the message is in.
                Message::Text(text) if text.len() as u64 > MAX_TEXT_BYTES => {
                    return Some(Err(WsError::Stream(
                        super::frame_guard::TextTooLarge {
                            size: text.len() as u64,
                            limit: MAX_TEXT_BYTES,
                        }
                        .to_string(),
                    )));
                }
                Message::Text(text) => match ServerMessage::parse(text.as_str()) {
                    Ok(message) => WsItem::Message(message),
                    Err(error) => WsItem::Malformed(error.to_string()),
                },
                Message::Binary(bytes) => match BinaryFrame::parse(bytes) {
                    Ok(frame) => WsItem::Binary(frame),
                    Err(error) => WsItem::Malformed(error.to_string()),
                },
                Message::Close(_) => return None,
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }));
        }
    }

    pub fn last_seen(&self) -> std::time::Instant {
        self.last_seen
    }

    /// Sends a ping: ComfyUI never pings, so only we can keep a NAT path alive.
    pub async fn ping(&mut self) -> Result<(), WsError> {
        self.stream
            .send(Message::Ping(Default::default()))
            .await
            .map_err(|e| WsError::Stream(e.to_string()))
    }

    /// Closes and waits for the close to finish: a stale socket torn down after a new one
    /// registered under the same id would deregister the new one on the server.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        while let Some(Ok(_)) = self.stream.next().await {}
    }
}
