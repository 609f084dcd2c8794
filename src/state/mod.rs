//! The XDG state directory: where it is, and the files comfy-tui keeps there (the job
//! store, the learned node durations). Everything here is blocking file I/O, run before
//! the loop or off it; the app only sees the contents as values.

pub mod durations;
mod file;
pub mod jobs;
pub mod shape;

use std::path::{Path, PathBuf};

/// Overrides where state is kept (tests, several profiles side by side).
pub const STATE_DIR_ENV: &str = "COMFY_TUI_STATE_DIR";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("state file {path} stayed locked by another comfy-tui for {seconds} s")]
    Locked { path: String, seconds: u64 },
    #[error("state file {path} cannot be written: {reason}")]
    Encode { path: String, reason: String },
}

impl StateError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The folder that holds comfy-tui's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// `$COMFY_TUI_STATE_DIR` when set, else the platform's state folder
    /// (`$XDG_STATE_HOME/comfy-tui`, `~/.local/state/comfy-tui`), else its local data
    /// folder (platforms without a state folder). `None` without a home directory.
    pub fn locate() -> Option<Self> {
        let from_env = std::env::var_os(STATE_DIR_ENV).filter(|v| !v.is_empty());
        Self::choose(from_env.map(PathBuf::from))
    }

    /// [`locate`](Self::locate) with the environment's value given.
    pub fn choose(from_env: Option<PathBuf>) -> Option<Self> {
        if let Some(root) = from_env {
            return Some(Self::at(root));
        }
        let dirs = directories::ProjectDirs::from("", "", "comfy-tui")?;
        let root = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_owned();
        Some(Self::at(root))
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn jobs(&self) -> jobs::JobStore {
        jobs::JobStore::new(self.root.join("jobs.jsonl"))
    }

    pub fn durations(&self) -> durations::DurationStore {
        durations::DurationStore::new(self.root.join("durations.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_and_files_live_inside() {
        let dir = StateDir::choose(Some(PathBuf::from("/tmp/x"))).expect("dir");
        assert_eq!(dir.path(), Path::new("/tmp/x"));
        assert_eq!(dir.jobs().path(), Path::new("/tmp/x/jobs.jsonl"));
        assert_eq!(dir.durations().path(), Path::new("/tmp/x/durations.json"));
        // Without it, a folder named for the program.
        if let Some(default) = StateDir::choose(None) {
            assert!(default.path().ends_with("comfy-tui"), "{default:?}");
        }
    }
}
