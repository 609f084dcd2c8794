//! The learned node durations, in `durations.json`: for each server and graph shape
//! (see [`super::shape`]), the seconds each node took in its recent successful runs.
//! Bounded both ways: [`SAMPLES`] runs per node, [`SHAPES`] shapes (the least recently
//! run go first). Written like the job store: under the lock, whole file, renamed.

use super::shape::ShapeKey;
use super::{StateError, file};
use crate::comfy::NodeId;
use crate::job::Expected;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Recent runs kept per node: enough for a median to shrug off one slow first run
/// (a model loaded from disk), few enough to follow a server that got faster.
pub const SAMPLES: usize = 5;
/// Shapes kept in all.
pub const SHAPES: usize = 200;
const VERSION: u32 = 1;

/// What one successful run took: each node that ran, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub server: String,
    pub shape: ShapeKey,
    pub nodes: Vec<(NodeId, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    server: String,
    shape: ShapeKey,
    /// Node id → seconds of its recent runs, oldest first.
    nodes: BTreeMap<String, Vec<f64>>,
}

/// Every shape learned, least recently run first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    shapes: Vec<Entry>,
}

impl Learned {
    /// The file's contents; anything unreadable counts as nothing learned.
    fn parse(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Self::default();
        }
        match serde_json::from_slice::<Self>(bytes) {
            Ok(learned) if learned.version == VERSION => learned,
            Ok(learned) => {
                tracing::warn!("durations: version {} not understood", learned.version);
                Self::default()
            }
            Err(e) => {
                tracing::warn!("durations: unreadable, starting afresh: {e}");
                Self::default()
            }
        }
    }

    /// The expected duration of each node (the median of its recent runs) for this
    /// shape on this server; `None` for a shape never run there.
    pub fn expected(&self, server: &str, shape: &ShapeKey) -> Option<Expected> {
        let entry = self
            .shapes
            .iter()
            .find(|e| e.server == server && e.shape == *shape)?;
        let per_node: HashMap<NodeId, Duration> = entry
            .nodes
            .iter()
            .filter_map(|(id, samples)| {
                let seconds = median(samples)?;
                Some((
                    NodeId::from(id.as_str()),
                    Duration::try_from_secs_f64(seconds).ok()?,
                ))
            })
            .collect();
        Some(Expected::new(per_node))
    }

    /// Adds a run: each node's new duration joins its last ones; the shape becomes the
    /// most recent, and the oldest shapes beyond [`SHAPES`] are forgotten.
    pub fn learn(&mut self, sample: &Sample) {
        self.version = VERSION;
        let position = self
            .shapes
            .iter()
            .position(|e| e.server == sample.server && e.shape == sample.shape);
        let mut entry = match position {
            Some(i) => self.shapes.remove(i),
            None => Entry {
                server: sample.server.clone(),
                shape: sample.shape.clone(),
                nodes: BTreeMap::new(),
            },
        };
        for (node, seconds) in &sample.nodes {
            if !seconds.is_finite() || *seconds < 0.0 {
                continue;
            }
            let samples = entry.nodes.entry(node.to_string()).or_default();
            // Milliseconds are plenty for an ETA, and keep the file short.
            samples.push((seconds * 1000.0).round() / 1000.0);
            let excess = samples.len().saturating_sub(SAMPLES);
            samples.drain(..excess);
        }
        self.shapes.push(entry);
        let excess = self.shapes.len().saturating_sub(SHAPES);
        self.shapes.drain(..excess);
    }
}

/// The middle value (the mean of the two middle ones for an even count), ignoring any
/// value that is not a finite, non-negative number of seconds.
fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = samples
        .iter()
        .copied()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

#[derive(Debug, Clone)]
pub struct DurationStore {
    path: PathBuf,
}

impl DurationStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Everything learned so far (nothing, when the file does not exist or is broken).
    pub fn load(&self) -> Result<Learned, StateError> {
        Ok(Learned::parse(&file::read(&self.path)?))
    }

    /// Adds one successful run.
    pub fn record(&self, sample: &Sample) -> Result<(), StateError> {
        file::with_lock(&self.path, || {
            let mut learned = Learned::parse(&file::read(&self.path)?);
            learned.learn(sample);
            let bytes = serde_json::to_vec(&learned).map_err(|e| StateError::Encode {
                path: self.path.display().to_string(),
                reason: e.to_string(),
            })?;
            file::write_atomic(&self.path, &bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(shape: &str, sampler: f64) -> Sample {
        Sample {
            server: "http://h/".into(),
            shape: ShapeKey(shape.into()),
            nodes: vec![(NodeId::from("1"), 0.5), (NodeId::from("3"), sampler)],
        }
    }

    fn secs(expected: &Expected, id: &str) -> Option<f64> {
        expected.node(&NodeId::from(id)).map(|d| d.as_secs_f64())
    }

    #[test]
    fn the_median_of_recent_runs_is_expected() {
        let mut learned = Learned::default();
        assert!(
            learned
                .expected("http://h/", &ShapeKey("s".into()))
                .is_none()
        );
        for seconds in [30.0, 10.0, 11.0] {
            learned.learn(&sample("s", seconds));
        }
        let expected = learned
            .expected("http://h/", &ShapeKey("s".into()))
            .expect("known");
        assert_eq!(secs(&expected, "3"), Some(11.0));
        assert_eq!(secs(&expected, "1"), Some(0.5));
        assert_eq!(secs(&expected, "2"), None);
        // Another server with the same shape has learned nothing.
        assert!(
            learned
                .expected("http://other/", &ShapeKey("s".into()))
                .is_none()
        );
        assert_eq!(median(&[1.0, 2.0, 3.0, 10.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn only_recent_runs_and_recent_shapes_are_kept() {
        let mut learned = Learned::default();
        for i in 0..SAMPLES + 3 {
            learned.learn(&sample("s", i as f64));
        }
        assert_eq!(learned.shapes[0].nodes["3"].len(), SAMPLES);
        assert_eq!(learned.shapes[0].nodes["3"][0], 3.0);
        for i in 0..SHAPES + 10 {
            learned.learn(&sample(&format!("shape{i}"), 1.0));
        }
        assert_eq!(learned.shapes.len(), SHAPES);
        assert!(
            learned
                .expected("http://h/", &ShapeKey("s".into()))
                .is_none()
        );
        // Running a shape again makes it the most recent: it survives the next evictions.
        learned.learn(&sample("shape10", 1.0));
        learned.learn(&sample("new", 1.0));
        assert!(
            learned
                .expected("http://h/", &ShapeKey("shape10".into()))
                .is_some()
        );
        assert!(
            learned
                .expected("http://h/", &ShapeKey("shape11".into()))
                .is_none()
        );
    }

    #[test]
    fn the_store_round_trips_and_shrugs_off_a_broken_file() {
        let dir = tempfile::tempdir().expect("dir");
        let store = DurationStore::new(dir.path().join("durations.json"));
        assert_eq!(store.load().expect("empty"), Learned::default());
        store.record(&sample("s", 4.0)).expect("record");
        store.record(&sample("s", 6.0)).expect("record");
        let expected = store
            .load()
            .expect("load")
            .expected("http://h/", &ShapeKey("s".into()))
            .expect("known");
        assert_eq!(secs(&expected, "3"), Some(5.0));
        std::fs::write(store.path(), b"{not json").expect("break");
        assert_eq!(store.load().expect("broken is empty"), Learned::default());
        store.record(&sample("s", 2.0)).expect("writes over it");
        let expected = store
            .load()
            .expect("load")
            .expected("http://h/", &ShapeKey("s".into()))
            .expect("known");
        assert_eq!(secs(&expected, "3"), Some(2.0));
    }
}
