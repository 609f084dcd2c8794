//! The two things every state file needs: one writer at a time across processes (a
//! lock file), and a write that is all or nothing (temp file + rename), so that a reader
//! never sees half a file and never needs the lock.

use super::StateError;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a writer waits for another process to finish its write. Writes take
/// milliseconds: a lock held this long is held by a stuck process, and the record is
/// given up rather than the run held.
const LOCK_WAIT: Duration = Duration::from_secs(3);
const LOCK_POLL: Duration = Duration::from_millis(5);
/// A state file larger than this is not ours (or is broken): only this much is read.
pub const READ_CAP: u64 = 16 * 1024 * 1024;

/// Runs `write` while holding the lock file beside `path`. The kernel drops the lock
/// when its process dies, so a crash never leaves the store locked.
pub fn with_lock<T>(
    path: &Path,
    write: impl FnOnce() -> Result<T, StateError>,
) -> Result<T, StateError> {
    let dir = parent(path);
    create_dir(&dir)?;
    let lock_path = lock_path(path);
    let mut options = File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let lock = options
        .open(&lock_path)
        .map_err(|e| StateError::io(&lock_path, e))?;
    let since = Instant::now();
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if since.elapsed() < LOCK_WAIT => {
                std::thread::sleep(LOCK_POLL);
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    path: path.display().to_string(),
                    seconds: LOCK_WAIT.as_secs(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(StateError::io(&lock_path, e)),
        }
    }
    let result = write();
    // Closing the file releases the lock too; unlocking first says so plainly.
    let _ = lock.unlock();
    result
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".lock");
    path.with_file_name(name)
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The state folder is private: it names servers and workflows.
fn create_dir(dir: &Path) -> Result<(), StateError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| StateError::io(dir, e))
}

/// Replaces `path` with `bytes` in one step: a temp file in the same folder, synced,
/// then renamed over it (readers see the old file or the new one, never a mix).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = parent(path);
    create_dir(&dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".state-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| StateError::io(&dir, e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| StateError::io(temp.path(), e))?;
    temp.persist(path)
        .map_err(|e| StateError::io(path, e.error))?;
    Ok(())
}

/// The file's bytes (at most [`READ_CAP`]); nothing when it does not exist yet.
pub fn read(path: &Path) -> Result<Vec<u8>, StateError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StateError::io(path, e)),
    };
    let mut bytes = Vec::new();
    file.take(READ_CAP)
        .read_to_end(&mut bytes)
        .map_err(|e| StateError::io(path, e))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_whole_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("sub/state.json");
        write_atomic(&path, b"first, longer").expect("write");
        write_atomic(&path, b"second").expect("write");
        assert_eq!(read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        assert!(read(&dir.path().join("missing")).expect("read").is_empty());
    }

    #[test]
    fn a_held_lock_makes_the_next_writer_wait() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("s.json");
        let (tx, rx) = std::sync::mpsc::channel();
        let holder = {
            let path = path.clone();
            std::thread::spawn(move || {
                with_lock(&path, || {
                    tx.send(()).expect("send");
                    std::thread::sleep(Duration::from_millis(150));
                    write_atomic(&path, b"holder")
                })
            })
        };
        rx.recv().expect("holder has the lock");
        let waited = Instant::now();
        with_lock(&path, || write_atomic(&path, b"waiter")).expect("second write");
        assert!(
            waited.elapsed() >= Duration::from_millis(100),
            "did not wait"
        );
        holder.join().expect("join").expect("first write");
        assert_eq!(read(&path).expect("read"), b"waiter");
    }
}
