//! What a batch uploads: one upload per distinct content (sha256) and route, and which
//! job's node input takes which upload's stored name. A mask goes onto a picture: the
//! job's own upload for the same input, or the file the input names on the server.

use super::InputError;
use crate::comfy::NodeId;
use crate::comfy::http::{UploadKind, Uploaded};
use crate::comfy::object_info::{InputType, ObjectInfo};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How a wanted file is to be uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadAs {
    /// `/upload/image`.
    Image,
    /// `/upload/mask` onto the input's picture (`--mask`); without one it is an error.
    Mask,
    /// `/upload/mask` when the input has a picture to go on and reads its alpha channel
    /// (`LoadImageMask` with `channel` alpha); otherwise the file itself is the mask
    /// source and goes to `/upload/image`.
    MaskWhenOriginal,
}

/// One file one job wants in one node input.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    pub node: NodeId,
    pub input: String,
    pub path: PathBuf,
    pub upload_as: UploadAs,
}

/// A sha256 of a file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash(pub [u8; 32]);

impl std::fmt::Display for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The picture a mask goes on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Original {
    /// A file already on the server (what the input names now).
    Server(Uploaded),
    /// An earlier upload of the plan, by index: its stored name is known only once sent.
    Upload(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PlannedKind {
    Image,
    Mask { original: Original },
}

/// One file to send. A mask's original always comes earlier in the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// The first path seen with this content: its name is the one sent.
    pub path: PathBuf,
    pub kind: PlannedKind,
    pub hash: ContentHash,
    pub size: u64,
}

impl Upload {
    /// The route and reference, once every earlier upload has its stored name.
    pub fn kind_with(&self, uploaded: &[Uploaded]) -> Option<UploadKind> {
        match &self.kind {
            PlannedKind::Image => Some(UploadKind::Image),
            PlannedKind::Mask { original } => {
                let original = match original {
                    Original::Server(file) => file.clone(),
                    Original::Upload(index) => uploaded.get(*index)?.clone(),
                };
                Some(UploadKind::Mask { original })
            }
        }
    }
}

/// Job `job` sets `node`'s `input` to the stored name of upload `upload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub job: usize,
    pub node: NodeId,
    pub input: String,
    pub upload: usize,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub uploads: Vec<Upload>,
    /// By job, in the order the inputs were given.
    pub assignments: Vec<Assignment>,
    /// Where in the server's input folder the files go (`""`: at its top, where
    /// `LoadImage` lists them).
    pub subfolder: String,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.uploads.is_empty()
    }

    /// [`build`](Self::build), hashing each distinct path from disk once.
    pub fn from_disk(
        base: &Map<String, Value>,
        catalog: Option<&ObjectInfo>,
        jobs: &[Vec<Wanted>],
    ) -> Result<Self, InputError> {
        Self::build(base, catalog, jobs, hash_file)
    }

    /// The uploads `jobs` need (`jobs[i]` is what job `i` wants), each distinct content
    /// once per route. `base` is the workflow's prompt: what a mask goes on when the job
    /// uploads no picture for the same input. `hash` is asked once per distinct path.
    pub fn build(
        base: &Map<String, Value>,
        catalog: Option<&ObjectInfo>,
        jobs: &[Vec<Wanted>],
        mut hash: impl FnMut(&Path) -> Result<(ContentHash, u64), InputError>,
    ) -> Result<Self, InputError> {
        let mut plan = Self::default();
        let mut hashes: HashMap<PathBuf, (ContentHash, u64)> = HashMap::new();
        let mut by_content: HashMap<(ContentHash, PlannedKind), usize> = HashMap::new();
        let mut hashed = |path: &Path| -> Result<(ContentHash, u64), InputError> {
            if let Some(known) = hashes.get(path) {
                return Ok(*known);
            }
            let found = hash(path)?;
            hashes.insert(path.to_owned(), found);
            Ok(found)
        };
        for (job, wanted) in jobs.iter().enumerate() {
            // Pictures first: a mask of this job may go onto one of them.
            let mut images: HashMap<(&NodeId, &str), usize> = HashMap::new();
            let mut assigned = Vec::new();
            let (masks, pictures): (Vec<&Wanted>, Vec<&Wanted>) = wanted
                .iter()
                .partition(|w| mask_original(w, base, catalog, &images).is_some());
            for w in pictures {
                let (content, size) = hashed(&w.path)?;
                let index = plan.add(&mut by_content, &w.path, PlannedKind::Image, content, size);
                images.insert((&w.node, w.input.as_str()), index);
                assigned.push((w, index));
            }
            for w in masks {
                let Some(original) = mask_original(w, base, catalog, &images) else {
                    continue;
                };
                let original = match original {
                    Found::Server(file) => Original::Server(file),
                    Found::Upload(index) => Original::Upload(index),
                    Found::None => {
                        return Err(InputError::NoOriginal {
                            node: w.node.to_string(),
                            path: w.path.clone(),
                        });
                    }
                };
                let (content, size) = hashed(&w.path)?;
                let index = plan.add(
                    &mut by_content,
                    &w.path,
                    PlannedKind::Mask { original },
                    content,
                    size,
                );
                // The picture under the mask was only a means: the input takes the mask.
                assigned.retain(|(a, _)| !(a.node == w.node && a.input == w.input));
                assigned.push((w, index));
            }
            // In the order given, so that a later file for the same input wins.
            assigned.sort_by_key(|(w, _)| wanted.iter().position(|x| std::ptr::eq(x, *w)));
            plan.assignments
                .extend(assigned.into_iter().map(|(w, upload)| Assignment {
                    job,
                    node: w.node.clone(),
                    input: w.input.clone(),
                    upload,
                }));
        }
        Ok(plan)
    }

    fn add(
        &mut self,
        by_content: &mut HashMap<(ContentHash, PlannedKind), usize>,
        path: &Path,
        kind: PlannedKind,
        hash: ContentHash,
        size: u64,
    ) -> usize {
        *by_content.entry((hash, kind.clone())).or_insert_with(|| {
            self.uploads.push(Upload {
                path: path.to_owned(),
                kind,
                hash,
                size,
            });
            self.uploads.len() - 1
        })
    }

    /// What job `job` sets, in order.
    pub fn for_job(&self, job: usize) -> impl Iterator<Item = &Assignment> {
        self.assignments.iter().filter(move |a| a.job == job)
    }

    /// Puts the stored names (`uploaded[i]` for `uploads[i]`) into job `job`'s prompt.
    /// Returns how many inputs were set.
    pub fn apply(
        &self,
        job: usize,
        prompt: &mut Map<String, Value>,
        uploaded: &[Uploaded],
    ) -> usize {
        self.for_job(job)
            .filter(|a| {
                uploaded
                    .get(a.upload)
                    .is_some_and(|file| super::run::apply(prompt, &a.node, &a.input, file))
            })
            .count()
    }

    /// The bytes all uploads send, for a progress total.
    pub fn total_bytes(&self) -> u64 {
        self.uploads.iter().map(|u| u.size).sum()
    }
}

enum Found {
    Server(Uploaded),
    Upload(usize),
    /// A mask was asked for and there is nothing to put it on.
    None,
}

/// `None` when `wanted` goes to `/upload/image`; otherwise the picture its mask goes on.
fn mask_original(
    wanted: &Wanted,
    base: &Map<String, Value>,
    catalog: Option<&ObjectInfo>,
    images: &HashMap<(&NodeId, &str), usize>,
) -> Option<Found> {
    if wanted.upload_as == UploadAs::Image {
        return None;
    }
    let node = base.get(wanted.node.as_str());
    let inputs = node.and_then(|n| n.get("inputs"));
    if wanted.upload_as == UploadAs::MaskWhenOriginal {
        let channel = inputs
            .and_then(|i| i.get("channel"))
            .and_then(Value::as_str)
            .unwrap_or("alpha");
        if channel != "alpha" {
            return None;
        }
    }
    let found = if let Some(index) = images.get(&(&wanted.node, wanted.input.as_str())) {
        Found::Upload(*index)
    } else {
        let current = inputs
            .and_then(|i| i.get(&wanted.input))
            .and_then(Value::as_str);
        let class = node
            .and_then(|n| n.get("class_type"))
            .and_then(Value::as_str);
        match current.filter(|v| on_server(v, class, &wanted.input, catalog)) {
            Some(value) => Found::Server(Uploaded::from_input_value(value)),
            None => Found::None,
        }
    };
    match (found, wanted.upload_as) {
        (Found::None, UploadAs::MaskWhenOriginal) => None,
        (found, _) => Some(found),
    }
}

/// Whether an input's value names a file the server has, as far as its lists tell: a
/// listed name, or one the list cannot show (in a subfolder, or annotated). Without a
/// catalogue the value is taken as it is.
fn on_server(value: &str, class: Option<&str>, input: &str, catalog: Option<&ObjectInfo>) -> bool {
    if value.is_empty() {
        return false;
    }
    let Some(catalog) = catalog else {
        return true;
    };
    let spec = class
        .and_then(|c| catalog.get(c))
        .and_then(|c| c.input(input));
    match spec.map(|s| &s.kind) {
        Some(InputType::Combo(combo)) => {
            combo.remote
                || value.contains('/')
                || value.ends_with(']')
                || combo.choices.iter().any(|c| c.as_str() == Some(value))
        }
        _ => true,
    }
}

/// The sha256 and size of a file, read in chunks.
pub fn hash_file(path: &Path) -> Result<(ContentHash, u64), InputError> {
    let unreadable = |e: std::io::Error| InputError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((ContentHash(hasher.finalize().into()), size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wanted(node: &str, path: &str, upload_as: UploadAs) -> Wanted {
        Wanted {
            node: NodeId::from(node),
            input: "image".to_owned(),
            path: PathBuf::from(path),
            upload_as,
        }
    }

    /// Content by file name: `x1.png` and `x2.png` have the same bytes.
    fn fake_hash(path: &Path) -> Result<(ContentHash, u64), InputError> {
        let name = path.to_string_lossy();
        let key = name
            .trim_end_matches(".png")
            .trim_end_matches(char::is_numeric);
        let mut h = [0u8; 32];
        h[..key.len().min(32)].copy_from_slice(&key.as_bytes()[..key.len().min(32)]);
        Ok((ContentHash(h), 10))
    }

    fn base() -> Map<String, Value> {
        json!({
            "10": {"class_type": "LoadImage", "inputs": {"image": "listed.png"}},
            "11": {"class_type": "LoadImage", "inputs": {"image": "gone.png"}},
            "12": {"class_type": "LoadImageMask", "inputs": {"image": "listed.png", "channel": "alpha"}},
            "13": {"class_type": "LoadImageMask", "inputs": {"image": "listed.png", "channel": "red"}},
        })
        .as_object()
        .cloned()
        .expect("object")
    }

    fn catalog() -> ObjectInfo {
        ObjectInfo::from_value(
            &json!({
                "LoadImage": {"input": {"required": {"image": [["listed.png"], {"image_upload": true}]}}},
                "LoadImageMask": {"input": {"required": {"image": [["listed.png"], {"image_upload": true}], "channel": [["alpha", "red"]]}}},
            }),
            "catalog",
        )
        .expect("catalog")
    }

    #[test]
    fn the_same_content_across_jobs_uploads_once() {
        let jobs = vec![
            vec![wanted("10", "x1.png", UploadAs::Image)],
            vec![wanted("10", "x2.png", UploadAs::Image)],
            vec![wanted("10", "y.png", UploadAs::Image)],
        ];
        let mut asked = Vec::new();
        let plan = Plan::build(&base(), Some(&catalog()), &jobs, |p| {
            asked.push(p.to_owned());
            fake_hash(p)
        })
        .expect("plan");
        assert_eq!(plan.uploads.len(), 2);
        assert_eq!(plan.uploads[0].path, PathBuf::from("x1.png"));
        let targets: Vec<(usize, usize)> =
            plan.assignments.iter().map(|a| (a.job, a.upload)).collect();
        assert_eq!(targets, [(0, 0), (1, 0), (2, 1)]);
        assert_eq!(asked.len(), 3, "each path hashed once");
    }

    #[test]
    fn a_mask_goes_on_the_jobs_picture_or_the_listed_one() {
        let jobs = vec![
            vec![
                wanted("10", "photo.png", UploadAs::Image),
                wanted("10", "mask.png", UploadAs::Mask),
            ],
            vec![wanted("10", "mask.png", UploadAs::Mask)],
        ];
        let plan = Plan::build(&base(), Some(&catalog()), &jobs, fake_hash).expect("plan");
        assert_eq!(plan.uploads.len(), 3);
        assert_eq!(plan.uploads[0].kind, PlannedKind::Image);
        assert_eq!(
            plan.uploads[1].kind,
            PlannedKind::Mask {
                original: Original::Upload(0)
            }
        );
        assert_eq!(
            plan.uploads[2].kind,
            PlannedKind::Mask {
                original: Original::Server(Uploaded::from_input_value("listed.png"))
            }
        );
        let job0: Vec<usize> = plan.for_job(0).map(|a| a.upload).collect();
        assert_eq!(
            job0,
            [1],
            "the input takes the mask, not the picture under it"
        );
        let job1: Vec<usize> = plan.for_job(1).map(|a| a.upload).collect();
        assert_eq!(job1, [2]);
    }

    #[test]
    fn a_mask_with_nothing_to_go_on_is_an_error_or_a_plain_upload() {
        let lost = vec![vec![wanted("11", "mask.png", UploadAs::Mask)]];
        let err = Plan::build(&base(), Some(&catalog()), &lost, fake_hash).expect_err("none");
        assert!(matches!(err, InputError::NoOriginal { .. }), "{err}");
        assert!(err.to_string().contains("--input 11=PICTURE"), "{err}");
        // LoadImageMask: onto the listed picture when it reads alpha, else as is.
        let jobs = vec![vec![
            wanted("12", "m.png", UploadAs::MaskWhenOriginal),
            wanted("13", "m.png", UploadAs::MaskWhenOriginal),
        ]];
        let plan = Plan::build(&base(), Some(&catalog()), &jobs, fake_hash).expect("plan");
        assert!(matches!(plan.uploads[0].kind, PlannedKind::Image));
        assert!(matches!(plan.uploads[1].kind, PlannedKind::Mask { .. }));
        let mut unlisted = base();
        unlisted["12"]["inputs"]["image"] = json!("nope.png");
        let jobs = vec![vec![wanted("12", "m.png", UploadAs::MaskWhenOriginal)]];
        let plan = Plan::build(&unlisted, Some(&catalog()), &jobs, fake_hash).expect("plan");
        assert_eq!(plan.uploads[0].kind, PlannedKind::Image);
    }

    #[test]
    fn apply_sets_each_jobs_inputs() {
        let jobs = vec![
            vec![wanted("10", "a.png", UploadAs::Image)],
            vec![wanted("10", "b.png", UploadAs::Image)],
        ];
        let plan = Plan::build(&base(), None, &jobs, fake_hash).expect("plan");
        let stored = [
            Uploaded::from_input_value("a (1).png"),
            Uploaded::from_input_value("up/b.png"),
        ];
        let mut prompt = base();
        assert_eq!(plan.apply(1, &mut prompt, &stored), 1);
        assert_eq!(prompt["10"]["inputs"]["image"], "up/b.png");
        assert_eq!(plan.apply(0, &mut prompt, &stored), 1);
        assert_eq!(prompt["10"]["inputs"]["image"], "a (1).png");
    }

    #[test]
    fn files_hash_as_sha256() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"abc").expect("write");
        let (hash, size) = hash_file(&path).expect("hash");
        assert_eq!(size, 3);
        assert_eq!(
            hash.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(matches!(
            hash_file(&dir.path().join("nope")),
            Err(InputError::Unreadable { .. })
        ));
    }
}
