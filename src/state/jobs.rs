//! The job store: one record per prompt this machine submitted, newest last, in
//! `jobs.jsonl` (one JSON object a line).
//!
//! Writers take the lock file, read the store, change their record, keep the newest
//! [`CAPACITY`], and replace the file atomically (temp file + rename). The store is
//! small and written twice per run, so a whole rewrite costs a millisecond or two, and it
//! keeps every reader lock-free (a rename is atomic) and the size bounded without a
//! separate compaction step. A line that does not parse (a hand edit, a full disk in an
//! older version) is skipped, never fatal.

use super::{StateError, file};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How many records the store keeps; older ones go first.
pub const CAPACITY: usize = 1000;

/// The status of a record whose run has not ended yet (or whose end was not recorded).
pub const SUBMITTED: &str = "submitted";

/// One prompt we submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub prompt_id: String,
    /// The server URL, without credentials.
    pub server: String,
    /// The socket's client id: the server sends the prompt's events only to it.
    pub client_id: String,
    /// Where the workflow came from (a path, `-`, `@NAME`).
    pub workflow: String,
    /// When the server took the prompt, RFC 3339 UTC.
    pub submitted: String,
    /// [`SUBMITTED`] until the run ends, then the run's status (`success`, `error`,
    /// `interrupted`, `rejected`, `lost`, `timeout`, `incomplete`, `detached`).
    pub status: String,
    /// The process exit code, once the run ended.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Outputs saved.
    #[serde(default)]
    pub outputs: usize,
    /// When the run ended (for us), RFC 3339 UTC.
    #[serde(default)]
    pub ended: Option<String>,
}

impl JobRecord {
    /// Our run is over, but the prompt may go on (`detached`) or may not have ended.
    pub fn may_be_running(&self) -> bool {
        matches!(self.status.as_str(), SUBMITTED | "detached")
    }
}

#[derive(Debug, Clone)]
pub struct JobStore {
    path: PathBuf,
}

impl JobStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds the record, or replaces the one with the same prompt and server (keeping
    /// its place, and its submission time when the new one lacks it).
    pub fn record(&self, record: &JobRecord) -> Result<(), StateError> {
        file::with_lock(&self.path, || {
            let mut records = parse(&file::read(&self.path)?);
            upsert(&mut records, record.clone());
            let excess = records.len().saturating_sub(CAPACITY);
            records.drain(..excess);
            file::write_atomic(&self.path, &encode(&records, &self.path)?)
        })
    }

    /// Every record, newest first. A store that does not exist yet is empty.
    pub fn list(&self) -> Result<Vec<JobRecord>, StateError> {
        let mut records = parse(&file::read(&self.path)?);
        records.reverse();
        Ok(records)
    }
}

fn upsert(records: &mut Vec<JobRecord>, mut record: JobRecord) {
    match records
        .iter_mut()
        .find(|r| r.prompt_id == record.prompt_id && r.server == record.server)
    {
        // A late "submitted" never undoes the end already recorded.
        Some(existing) if record.status == SUBMITTED && existing.status != SUBMITTED => {}
        Some(existing) => {
            if record.submitted.is_empty() {
                record.submitted = std::mem::take(&mut existing.submitted);
            }
            *existing = record;
        }
        None => records.push(record),
    }
}

/// The records in file order; lines that are not records are skipped.
fn parse(bytes: &[u8]) -> Vec<JobRecord> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .filter_map(|line| match serde_json::from_slice::<JobRecord>(line) {
            Ok(record) => Some(record),
            Err(e) => {
                tracing::warn!("job store: skipped a line that is not a record: {e}");
                None
            }
        })
        .collect()
}

fn encode(records: &[JobRecord], path: &Path) -> Result<Vec<u8>, StateError> {
    let mut out = Vec::new();
    for record in records {
        serde_json::to_writer(&mut out, record).map_err(|e| StateError::Encode {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: &str) -> JobRecord {
        JobRecord {
            prompt_id: id.into(),
            server: "http://127.0.0.1:8188/".into(),
            client_id: "c".into(),
            workflow: "w.json".into(),
            submitted: "2026-01-02T03:04:05Z".into(),
            status: status.into(),
            exit_code: None,
            outputs: 0,
            ended: None,
        }
    }

    fn store() -> (tempfile::TempDir, JobStore) {
        let dir = tempfile::tempdir().expect("dir");
        let store = JobStore::new(dir.path().join("state/jobs.jsonl"));
        (dir, store)
    }

    #[test]
    fn a_record_is_replaced_by_its_end_and_listed_newest_first() {
        let (_dir, store) = store();
        assert!(store.list().expect("empty").is_empty());
        store.record(&record("a", SUBMITTED)).expect("a");
        store.record(&record("b", SUBMITTED)).expect("b");
        let mut end = record("a", "success");
        end.submitted = String::new();
        end.exit_code = Some(0);
        end.outputs = 2;
        store.record(&end).expect("a ends");
        store.record(&record("a", SUBMITTED)).expect("late start");
        let list = store.list().expect("list");
        let ids: Vec<&str> = list.iter().map(|r| r.prompt_id.as_str()).collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(list[1].status, "success");
        assert_eq!(list[1].outputs, 2);
        // The end kept the time of the submission.
        assert_eq!(list[1].submitted, "2026-01-02T03:04:05Z");
        assert!(list[0].may_be_running() && !list[1].may_be_running());
    }

    #[test]
    fn the_store_keeps_only_the_newest_records() {
        let (_dir, store) = store();
        let many: Vec<JobRecord> = (0..CAPACITY + 5)
            .map(|i| record(&format!("p{i}"), "success"))
            .collect();
        file::write_atomic(store.path(), &encode(&many, store.path()).expect("encode"))
            .expect("seed");
        store.record(&record("last", SUBMITTED)).expect("one more");
        let list = store.list().expect("list");
        assert_eq!(list.len(), CAPACITY);
        assert_eq!(list[0].prompt_id, "last");
        assert_eq!(list[CAPACITY - 1].prompt_id, "p6");
    }

    #[test]
    fn a_corrupt_store_loses_only_its_bad_lines() {
        let (_dir, store) = store();
        store.record(&record("a", "success")).expect("a");
        let mut bytes = std::fs::read(store.path()).expect("read");
        bytes.extend_from_slice(b"{\"prompt_id\": \"cut off\n\xff\xfe not json\n\n[1,2]\n");
        std::fs::write(store.path(), &bytes).expect("corrupt");
        let list = store.list().expect("still readable");
        assert_eq!(list.len(), 1);
        store
            .record(&record("b", SUBMITTED))
            .expect("still writable");
        let ids: Vec<String> = store
            .list()
            .expect("list")
            .into_iter()
            .map(|r| r.prompt_id)
            .collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn writes_are_whole_files_renamed_into_place() {
        let (_dir, store) = store();
        store.record(&record("a", SUBMITTED)).expect("a");
        let before = std::fs::metadata(store.path()).expect("meta");
        store.record(&record("b", SUBMITTED)).expect("b");
        let after = std::fs::metadata(store.path()).expect("meta");
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // A new file each time (rename), not the old one written in place.
            assert_ne!(before.ino(), after.ino());
            assert_eq!(after.mode() & 0o777, 0o600);
        }
        let _ = (before, after);
        let dir = store.path().parent().expect("dir");
        let temps = std::fs::read_dir(dir)
            .expect("list")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            })
            .count();
        assert_eq!(temps, 0);
    }

    #[test]
    fn writers_in_parallel_lose_no_record() {
        let (_dir, store) = store();
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        store
                            .record(&record(&format!("w{w}-{i}"), SUBMITTED))
                            .expect("write");
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("join");
        }
        let list = store.list().expect("list");
        assert_eq!(list.len(), 80);
        let mut ids: Vec<String> = list.into_iter().map(|r| r.prompt_id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 80);
    }
}
