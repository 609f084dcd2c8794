//! Saving outputs: safe local names from untrusted server names, streamed to a temporary
//! file in the output folder and renamed into place only when whole. Nothing is ever
//! overwritten and nothing lands outside the folder.

use crate::comfy::FileRef;
use crate::comfy::http::{ComfyClient, HttpError};
use futures_util::StreamExt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The largest single output accepted (videos can be large; memory use does not grow
/// with it, the cap only protects the disk from a runaway server).
pub const MAX_DOWNLOAD_BYTES: u64 = 16 * 1024 * 1024 * 1024;

/// Chunks (of a few KiB to 64 KiB each) that may wait for the disk.
const WRITE_QUEUE_CHUNKS: usize = 256;

/// Longest file name we create, in bytes (most file systems allow 255).
const MAX_NAME_BYTES: usize = 180;

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("download cut short: {0}")]
    Interrupted(String),
    #[error("server sent more than the {limit}-byte cap")]
    TooLarge { limit: u64 },
    #[error("server announced {expected} bytes but sent {received}")]
    Truncated { expected: u64, received: u64 },
    #[error("cannot write in {dir}: {reason}")]
    Disk { dir: PathBuf, reason: String },
}

#[derive(Debug, thiserror::Error)]
#[error("output folder {dir} cannot be used: {reason}")]
pub struct OutputDirError {
    pub dir: PathBuf,
    pub reason: String,
}

/// Creates the output folder if needed and proves it is writable, before anything is
/// submitted: a run should not end with nowhere to put its images. Returns the folder
/// when it was created here (so that it can be removed again if nothing lands in it).
pub fn prepare_dir(dir: &Path) -> Result<Option<PathBuf>, OutputDirError> {
    let fail = |reason: String| OutputDirError {
        dir: dir.to_owned(),
        reason,
    };
    let created = match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => None,
        Ok(_) => return Err(fail("it is not a directory".into())),
        Err(_) => {
            std::fs::create_dir_all(dir).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotADirectory => {
                    fail("a part of the path is not a directory".into())
                }
                _ => fail(e.to_string()),
            })?;
            Some(dir.to_owned())
        }
    };
    tempfile::Builder::new()
        .prefix(".comfy-tui-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| fail(e.to_string()))?;
    Ok(created)
}

/// Partial files being written now. The process may leave through `exit` (a signal, a
/// second Ctrl-C) while a download task still holds one, and `exit` runs no destructors,
/// so the way out removes whatever is listed here.
static PARTIAL_FILES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn partial_files() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PARTIAL_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes every partial file still being written. Called on every way out.
pub fn remove_partial_files() {
    for path in partial_files().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

/// A temporary `.part` file in the output folder, listed in [`PARTIAL_FILES`] while it
/// lives. Dropping it removes the file; [`Partial::persist`] renames it into place.
struct Partial {
    path: Option<tempfile::TempPath>,
}

impl Partial {
    fn create(dir: &Path) -> std::io::Result<(std::fs::File, Self)> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(".comfy-tui-").suffix(".part");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Created like any other new file (0666 less the umask, which open(2)
            // applies), not private: the mode is kept when the file is renamed into place.
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temp = builder.tempfile_in(dir)?;
        let (file, path) = temp.into_parts();
        partial_files().push(path.to_path_buf());
        Ok((file, Self { path: Some(path) }))
    }

    fn persist(mut self, dir: &Path, name: &str) -> Result<PathBuf, SaveError> {
        let path = self.path.take().expect("a live partial file has a path");
        let listed = path.to_path_buf();
        let result = persist(path, dir, name);
        partial_files().retain(|p| *p != listed);
        result
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let listed = path.to_path_buf();
            drop(path);
            partial_files().retain(|p| *p != listed);
        }
    }
}

const RESERVED: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// One path component made safe: no separators, no `..`, no controls, no reserved
/// device names, bounded length. Never empty.
pub fn safe_component(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    // Leading dots would make `..` or hidden files; trailing dots and spaces vanish on
    // Windows and could alias another name.
    let trimmed = out
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    out = trimmed.to_owned();
    if out.is_empty() {
        out = "output".to_owned();
    }
    let stem = out
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if RESERVED.contains(&stem.as_str()) {
        out.insert(0, '_');
    }
    truncate_keeping_extension(&out, MAX_NAME_BYTES)
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, Some(ext)),
        _ => (name, None),
    };
    let room = max - ext.map_or(0, |e| e.len() + 1);
    let mut cut = room.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    match ext {
        Some(ext) => format!("{}.{ext}", &stem[..cut]),
        None => stem[..cut].to_owned(),
    }
}

/// The local file name for a server file: the server's subfolder folded into the name
/// (`sub_dir_name.png`), every part made safe. The result is a single component.
pub fn local_name(file: &FileRef) -> String {
    let mut parts: Vec<String> = file
        .subfolder
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .map(safe_component)
        .collect();
    // Only the base name counts, as on the server (`/view` drops directory parts).
    let base = file.filename.rsplit(['/', '\\']).next().unwrap_or_default();
    parts.push(safe_component(base));
    safe_component(&parts.join("_"))
}

/// A name of the user's pattern made safe as one file name (no separators, no `..`).
pub fn safe_name(name: &str) -> String {
    safe_component(&name.replace(['/', '\\'], "_"))
}

/// `name (n).ext` for the n-th alternative when `name.ext` exists.
fn numbered(name: &str, n: u32) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// Streams one output to `dir`, never buffering it whole. Returns the final path and
/// its size. On any failure the temporary file is removed. `progress` hears the bytes
/// received so far and the size the server announced, after every chunk.
pub async fn download(
    client: &ComfyClient,
    file: &FileRef,
    dir: &Path,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<(PathBuf, u64), SaveError> {
    download_as(client, file, dir, &local_name(file), progress).await
}

/// [`download`] under a name of the caller's (already safe: see [`safe_name`]).
pub async fn download_as(
    client: &ComfyClient,
    file: &FileRef,
    dir: &Path,
    name: &str,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<(PathBuf, u64), SaveError> {
    let response = client.view(file).await?;
    let expected = response.content_length();
    if expected.is_some_and(|n| n > MAX_DOWNLOAD_BYTES) {
        return Err(SaveError::TooLarge {
            limit: MAX_DOWNLOAD_BYTES,
        });
    }
    let disk = |e: std::io::Error| SaveError::Disk {
        dir: dir.to_owned(),
        reason: e.to_string(),
    };
    let (std_file, partial) = Partial::create(dir).map_err(disk)?;
    // Disk writes run on a blocking thread fed chunk by chunk, so reading the network
    // and writing the file overlap; the channel bounds what waits in memory.
    let (chunks, mut pending) = tokio::sync::mpsc::channel::<bytes::Bytes>(WRITE_QUEUE_CHUNKS);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1024 * 1024, std_file);
        while let Some(chunk) = pending.blocking_recv() {
            out.write_all(&chunk)?;
        }
        out.flush()
    });
    let mut received: u64 = 0;
    let mut body = response.bytes_stream();
    let streamed = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| SaveError::Interrupted(e.to_string()))?;
            received += chunk.len() as u64;
            if received > MAX_DOWNLOAD_BYTES {
                return Err(SaveError::TooLarge {
                    limit: MAX_DOWNLOAD_BYTES,
                });
            }
            if chunks.send(chunk).await.is_err() {
                // The writer stopped: its error is reported below.
                break;
            }
            progress(received, expected);
        }
        Ok(())
    }
    .await;
    drop(chunks);
    let written = writer
        .await
        .map_err(|e| disk(std::io::Error::other(e.to_string())))?;
    streamed?;
    written.map_err(disk)?;
    if let Some(expected) = expected.filter(|&n| n != received) {
        return Err(SaveError::Truncated { expected, received });
    }
    partial.persist(dir, name).map(|path| (path, received))
}

/// Writes bytes already in memory (an image that came over the socket) the same way:
/// temp file, then a name that takes nothing from anyone.
pub fn save_bytes(bytes: &[u8], dir: &Path, name: &str) -> Result<(PathBuf, u64), SaveError> {
    let disk = |e: std::io::Error| SaveError::Disk {
        dir: dir.to_owned(),
        reason: e.to_string(),
    };
    let (mut file, partial) = Partial::create(dir).map_err(disk)?;
    file.write_all(bytes).map_err(disk)?;
    file.flush().map_err(disk)?;
    drop(file);
    let path = partial.persist(dir, name)?;
    Ok((path, bytes.len() as u64))
}

/// Renames a whole temporary file to `name`, or `name (n)` when taken; never overwrites.
fn persist(
    mut temp_path: tempfile::TempPath,
    dir: &Path,
    name: &str,
) -> Result<PathBuf, SaveError> {
    let disk = |e: std::io::Error| SaveError::Disk {
        dir: dir.to_owned(),
        reason: e.to_string(),
    };
    for n in 0..10_000u32 {
        let candidate = dir.join(if n == 0 {
            name.to_owned()
        } else {
            numbered(name, n)
        });
        match temp_path.persist_noclobber(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                temp_path = e.path;
            }
            Err(e) => return Err(disk(e.error)),
        }
    }
    Err(SaveError::Disk {
        dir: dir.to_owned(),
        reason: format!("no free name for {name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, sub: &str) -> FileRef {
        FileRef {
            media: "images".into(),
            filename: name.into(),
            subfolder: sub.into(),
            folder_type: "output".into(),
        }
    }

    #[test]
    fn hostile_names_stay_one_safe_component() {
        let long = "a".repeat(300) + ".png";
        for name in [
            "../../x",
            "/etc/x",
            "a/b",
            "C:\\x",
            "x\u{0}y",
            "con",
            "CON.png",
            "..",
            ".",
            "",
            " .. ",
            long.as_str(),
            "x\u{1b}]0;t\u{7}.png",
        ] {
            let local = local_name(&file(name, ""));
            assert!(!local.is_empty(), "{name:?}");
            assert!(!local.contains(['/', '\\', '\0']), "{name:?} -> {local:?}");
            assert!(!local.starts_with('.'), "{name:?} -> {local:?}");
            assert!(local.len() <= MAX_NAME_BYTES, "{name:?}");
            assert!(
                !local.chars().any(char::is_control),
                "{name:?} -> {local:?}"
            );
            let stem = local
                .split('.')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            assert!(!RESERVED.contains(&stem.as_str()), "{name:?} -> {local:?}");
            let joined = Path::new("/out").join(&local);
            assert_eq!(joined.parent(), Some(Path::new("/out")), "{name:?}");
        }
        assert!(local_name(&file(&long, "")).ends_with(".png"));
    }

    #[test]
    fn subfolders_fold_into_the_name() {
        assert_eq!(local_name(&file("a.png", "anim/run1")), "anim_run1_a.png");
        assert_eq!(local_name(&file("a.png", "../..")), "a.png");
        assert_eq!(local_name(&file("a.png", "x\\y")), "x_y_a.png");
    }

    #[test]
    fn numbered_names_keep_the_extension() {
        assert_eq!(numbered("a.png", 2), "a (2).png");
        assert_eq!(numbered("noext", 1), "noext (1)");
    }
}
