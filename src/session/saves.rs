//! A job's outputs on their way to disk: what was asked for, what is being written (with
//! its progress), what was saved and what failed.

use crate::comfy::{FileRef, NodeId};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// An output being written, as its progress events tell.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub file: FileRef,
    pub bytes: u64,
    pub total: Option<u64>,
    /// The first progress event's time and bytes: the rate is measured from there, so
    /// that time spent waiting for a download slot does not count.
    since: (Instant, u64),
    pub at: Instant,
}

impl Transfer {
    /// Shortest span a rate is given over: a first chunk says nothing of the speed.
    const RATE_SPAN: Duration = Duration::from_millis(200);

    pub fn new(file: FileRef, bytes: u64, total: Option<u64>, at: Instant) -> Self {
        Self {
            file,
            bytes,
            total,
            since: (at, bytes),
            at,
        }
    }

    pub fn advance(&mut self, bytes: u64, total: Option<u64>, at: Instant) {
        self.bytes = self.bytes.max(bytes);
        self.total = total.or(self.total);
        self.at = self.at.max(at);
    }

    /// Bytes per second so far, by the events' clock.
    pub fn rate(&self) -> Option<f64> {
        let span = self.at.saturating_duration_since(self.since.0);
        (span >= Self::RATE_SPAN)
            .then(|| self.bytes.saturating_sub(self.since.1) as f64 / span.as_secs_f64())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SavedOutput {
    pub node: NodeId,
    pub file: FileRef,
    pub path: PathBuf,
    pub bytes: u64,
}

#[derive(Debug, Default)]
pub struct Saves {
    /// Every file asked for (each is saved once).
    pub requested: HashSet<FileRef>,
    /// Outputs being written now; reported as not saved if the app leaves first.
    pub in_flight: Vec<(NodeId, FileRef)>,
    /// Outputs being written, while their progress events come.
    pub transfers: Vec<Transfer>,
    pub saved: Vec<SavedOutput>,
    pub failed: Vec<(FileRef, String)>,
}

impl Saves {
    /// A save ended; false when it was already given up on.
    pub fn settle(&mut self, file: &FileRef) -> bool {
        self.transfers.retain(|t| t.file != *file);
        match self.in_flight.iter().position(|(_, f)| f == file) {
            Some(index) => {
                self.in_flight.remove(index);
                true
            }
            None => false,
        }
    }

    /// Progress of a file being written.
    pub fn progress(&mut self, file: FileRef, bytes: u64, total: Option<u64>, at: Instant) {
        if !self.requested.contains(&file) {
            // A late event for a file that is already saved or failed.
        } else if let Some(transfer) = self.transfers.iter_mut().find(|t| t.file == file) {
            transfer.advance(bytes, total, at);
        } else if !self.saved.iter().any(|s| s.file == file)
            && !self.failed.iter().any(|(f, _)| *f == file)
        {
            self.transfers.push(Transfer::new(file, bytes, total, at));
        }
    }
}
