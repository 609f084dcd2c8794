//! Diagnostic logs go to a file, never to the screen (it belongs to the TUI). The file is
//! private (0600), and every line passes through [`redact`] on its way there, whichever
//! crate wrote it and at whatever level: headers, URL passwords and tokens never land on disk.

use regex::Regex;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use tracing_appender::non_blocking::WorkerGuard;

#[derive(Debug, thiserror::Error)]
#[error("cannot write the log file {path}: {reason}")]
pub struct LogFileError {
    pub path: PathBuf,
    pub reason: String,
}

/// Starts logging to `path`. Keep the guard alive until exit so buffered lines are
/// written. A file that cannot be opened is an error: asking for a log and silently
/// getting none hides the very problem the log was for.
pub fn init(path: &Path) -> Result<WorkerGuard, LogFileError> {
    let fail = |reason: String| LogFileError {
        path: path.to_owned(),
        reason,
    };
    if path.is_dir() {
        return Err(fail("it is a directory".into()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => fail("its folder does not exist".into()),
        _ => fail(e.to_string()),
    })?;
    let (writer, guard) = tracing_appender::non_blocking(Redacting(file));
    let filter = tracing_subscriber::EnvFilter::try_from_env("COMFY_TUI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second subscriber (tests calling in twice) is not an error worth failing for.
    let _ = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(guard)
}

/// A writer that redacts each buffer before it reaches the file. The formatter writes one
/// whole event per call, so a secret is never split across two writes.
struct Redacting<W>(W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Header names whose values are secrets, in any spelling of case and quoting. No word
/// boundary in front: a logged request is often Debug-escaped (`…\r\ncookie: …`).
static SECRET_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:proxy-)?authorization|cookie|x-api-key|api-key)(\\?["']?\s*[:=]\s*\\?["']?)([^"'\r\n,}\]\\]*)"#,
    )
    .expect("valid pattern")
});
/// `scheme://user:password@` in a URL.
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@"']*):[^\s/@"']*@"#).expect("valid pattern")
});
/// Query parameters that carry credentials.
static TOKEN_PARAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)([?&](?:token|access_token|api_key|apikey|key|auth|password|secret)=)[^&\s"'#]*"#,
    )
    .expect("valid pattern")
});

/// The text with every secret value replaced by `[redacted]`.
pub fn redact(text: &str) -> String {
    let text = SECRET_HEADER.replace_all(text, "$1$2[redacted]");
    let text = URL_PASSWORD.replace_all(&text, "$1:[redacted]@");
    TOKEN_PARAM
        .replace_all(&text, "${1}[redacted]")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_every_shape() {
        for (line, secret) in [
            (r#"headers: {"authorization": "Bearer abc.def"}"#, "abc.def"),
            ("Authorization: Basic dXNlcjpwdw==", "dXNlcjpwdw=="),
            ("proxy-authorization=Bearer zzz", "zzz"),
            (r#"{"cookie": "sid=s3cr3t"}"#, "s3cr3t"),
            (
                r#"Request { headers: {\"authorization\": \"Bearer q1\"} }"#,
                "q1",
            ),
            ("GET http://al:pw9@host:8188/api/ws", "pw9"),
            ("wss://host/ws?clientId=x&token=t0k3n", "t0k3n"),
            (
                r#"Request: "GET / HTTP/1.1\r\ncookie: sid=c00kie\r\nauthorization: Bearer s3\r\n""#,
                "c00kie",
            ),
            (
                r#"Request: "GET / HTTP/1.1\r\ncookie: sid=c00kie\r\nauthorization: Bearer s3\r\n""#,
                "Bearer s3",
            ),
            ("url=https://h/x?api_key=K3Y&b=1", "K3Y"),
        ] {
            let out = redact(line);
            assert!(!out.contains(secret), "{line} -> {out}");
            assert!(out.contains("[redacted]"), "{line} -> {out}");
        }
        let plain = "executing node 3 (KSampler) clientId=abc";
        assert_eq!(redact(plain), plain);
    }
}
