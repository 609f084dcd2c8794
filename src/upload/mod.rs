//! Local files as inputs: `--input NODE[.INPUT]=PATH` and `--mask`, the automatic upload
//! of local files a workflow names, one upload per distinct content, and the names the
//! server gave put into each job's prompt.
//!
//! The flow, all before anything is submitted:
//! 1. [`InputArg::parse`] each argument, then [`InputArg::resolve`] it against the
//!    workflow and the catalogue: the node, the input and the files (one per job when
//!    the path is a folder or a glob). Every local problem is an [`InputError`] (exit 2).
//! 2. [`auto::detect`] finds upload inputs whose value is a local file the server does
//!    not list.
//! 3. [`Plan::from_disk`] gathers what each job needs, hashing each file once, so that
//!    a file used by many jobs is sent once.
//! 4. [`upload_all`] sends the plan's files; [`Plan::apply`] puts the stored names into a
//!    job's prompt.

pub mod auto;
pub mod plan;
pub mod run;
pub mod spec;

pub use auto::AutoUpload;
pub use plan::{Assignment, ContentHash, Original, Plan, PlannedKind, Upload, UploadAs, Wanted};
pub use run::{Progress, UploadError, apply, upload_all};
pub use spec::{InputArg, ResolvedInput};

use std::path::PathBuf;

/// A problem with a local input file or an `--input` argument: nothing was sent.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InputError {
    #[error("{flag} {spec}: {problem}")]
    BadArg {
        flag: &'static str,
        spec: String,
        problem: String,
    },
    #[error("{flag} {spec}: no such file or folder: {}", crate::path_text::display(.path))]
    Missing {
        flag: &'static str,
        spec: String,
        path: PathBuf,
    },
    #[error("cannot read {}: {reason}", crate::path_text::display(.path))]
    Unreadable { path: PathBuf, reason: String },
    #[error("{flag} {spec}: the folder {} holds no {what} files", crate::path_text::display(.path))]
    EmptyFolder {
        flag: &'static str,
        spec: String,
        path: PathBuf,
        what: &'static str,
    },
    #[error("{flag} {spec}: the pattern matches no file")]
    NoMatch { flag: &'static str, spec: String },
    #[error(
        "the mask {} for node {node} needs a picture on the server to go on: give one with --input {node}=PICTURE",
        crate::path_text::display(.path)
    )]
    NoOriginal { node: String, path: PathBuf },
}

impl InputError {
    /// Local input problems are usage errors: nothing reached the server.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}
