//! `--input NODE[.INPUT]=PATH` and `--mask NODE[.INPUT]=PATH`: which node input a local
//! file goes to, and the files PATH names (one file, the files of a folder, or the
//! matches of a glob), each checked readable before anything is sent.

use super::InputError;
use super::plan::{UploadAs, Wanted};
use crate::comfy::NodeId;
use crate::comfy::object_info::{InputSpec, ObjectInfo};
use crate::comfy::workflow::Workflow;
use std::path::{Path, PathBuf};

/// Extensions a folder is searched for, by the input's upload flag. The server takes
/// any file, so these only decide what a folder contributes.
const PICTURES: &[&str] = &["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"];
const VIDEOS: &[&str] = &["mp4", "webm", "mov", "mkv", "avi", "gif", "webp"];
const AUDIO: &[&str] = &["wav", "mp3", "flac", "ogg", "m4a", "opus", "aac"];

/// One `--input` or `--mask` argument as written.
#[derive(Debug, Clone, PartialEq)]
pub struct InputArg {
    /// The whole argument, for messages.
    pub spec: String,
    /// `NODE` or `NODE.INPUT` (a title may itself hold dots).
    pub target: String,
    /// A file, a folder or a glob pattern.
    pub path: String,
    /// Given as `--mask`: uploaded with `/upload/mask` onto the node's picture.
    pub mask: bool,
}

/// An argument matched to the workflow: the node input and the files for it, one per job
/// when the path named a folder or a glob.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedInput {
    pub node: NodeId,
    pub class: String,
    pub input: String,
    pub upload_as: UploadAs,
    /// Sorted by path; never empty.
    pub files: Vec<PathBuf>,
}

impl ResolvedInput {
    /// What a job that takes file `index` of [`files`](Self::files) needs uploaded.
    pub fn wanted(&self, index: usize) -> Option<Wanted> {
        self.files.get(index).map(|path| Wanted {
            node: self.node.clone(),
            input: self.input.clone(),
            path: path.clone(),
            upload_as: self.upload_as,
        })
    }
}

impl InputArg {
    /// Splits `NODE[.INPUT]=PATH` at its first `=` (a path may hold more of them).
    pub fn parse(spec: &str, mask: bool) -> Result<Self, InputError> {
        let flag = flag(mask);
        let (target, path) = spec
            .split_once('=')
            .filter(|(t, p)| !t.trim().is_empty() && !p.is_empty())
            .ok_or_else(|| InputError::BadArg {
                flag,
                spec: spec.to_owned(),
                problem: "expected NODE=PATH or NODE.INPUT=PATH".to_owned(),
            })?;
        Ok(Self {
            spec: spec.to_owned(),
            target: target.to_owned(),
            path: path.to_owned(),
            mask,
        })
    }

    pub fn flag(&self) -> &'static str {
        flag(self.mask)
    }

    fn bad(&self, problem: String) -> InputError {
        InputError::BadArg {
            flag: self.flag(),
            spec: self.spec.clone(),
            problem,
        }
    }

    /// Finds the node as `--set` does (id, title, or a class used once), the input
    /// (`.INPUT`, else the node's one upload input), how it is uploaded, and the files.
    pub fn resolve(
        &self,
        workflow: &Workflow,
        catalog: Option<&ObjectInfo>,
    ) -> Result<ResolvedInput, InputError> {
        let (node, named) = self.node_and_input(workflow, catalog)?;
        let class = workflow.class_type(&node).unwrap_or_default().to_owned();
        let spec_of = |input: &str| {
            catalog
                .and_then(|c| c.get(&class))
                .and_then(|c| c.input(input))
        };
        let input = match named {
            Some(input) => {
                if !has_input(workflow, catalog, &node, &input) {
                    let known = input_names(workflow, &node).join(", ");
                    return Err(self.bad(format!(
                        "node {node} has no input `{input}` (it has: {known})"
                    )));
                }
                input
            }
            None => self.upload_input(workflow, catalog, &node, &class)?,
        };
        let upload_as = if self.mask {
            UploadAs::Mask
        } else if class == "LoadImageMask" {
            UploadAs::MaskWhenOriginal
        } else {
            UploadAs::Image
        };
        let flag_name = spec_of(&input).and_then(|s| s.options.upload.as_deref());
        let (extensions, what) = extensions_for(flag_name);
        let files = expand(self.flag(), &self.spec, &self.path, extensions, what)?;
        Ok(ResolvedInput {
            node: NodeId::from(node),
            class,
            input,
            upload_as,
            files,
        })
    }

    fn node_and_input(
        &self,
        workflow: &Workflow,
        catalog: Option<&ObjectInfo>,
    ) -> Result<(String, Option<String>), InputError> {
        // Input names hold no dots, so the last one splits NODE.INPUT; a title with a dot
        // that names a node whole wins when the split does not name one of its inputs.
        let whole = workflow.resolve_node(&self.target);
        if let Some((node_ref, input)) = self
            .target
            .rsplit_once('.')
            .filter(|(n, i)| !n.is_empty() && !i.is_empty())
            && let Ok(id) = workflow.resolve_node(node_ref)
            && (whole.is_err() || has_input(workflow, catalog, &id, input))
        {
            return Ok((id, Some(input.to_owned())));
        }
        whole.map(|id| (id, None)).map_err(|e| self.bad(e))
    }

    /// The node's one upload input: the catalogue's upload-flagged input, else `image`.
    fn upload_input(
        &self,
        workflow: &Workflow,
        catalog: Option<&ObjectInfo>,
        node: &str,
        class: &str,
    ) -> Result<String, InputError> {
        let flagged: Vec<&InputSpec> = catalog
            .and_then(|c| c.get(class))
            .map(|c| {
                c.inputs
                    .iter()
                    .filter(|i| i.options.upload.is_some())
                    .collect()
            })
            .unwrap_or_default();
        match flagged.as_slice() {
            [one] => return Ok(one.name.clone()),
            [] => {}
            many => {
                let names: Vec<&str> = many.iter().map(|i| i.name.as_str()).collect();
                return Err(self.bad(format!(
                    "node {node} ({class}) has several upload inputs ({}): name one as {node}.INPUT",
                    names.join(", ")
                )));
            }
        }
        if input_names(workflow, node).contains(&"image") {
            return Ok("image".to_owned());
        }
        Err(self.bad(format!(
            "node {node} ({class}) has no upload input; name one as {node}.INPUT"
        )))
    }
}

fn flag(mask: bool) -> &'static str {
    if mask { "--mask" } else { "--input" }
}

fn input_names<'a>(workflow: &'a Workflow, node: &str) -> Vec<&'a str> {
    workflow
        .nodes()
        .get(node)
        .and_then(|n| n.get("inputs"))
        .and_then(|i| i.as_object())
        .map(|inputs| inputs.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn has_input(workflow: &Workflow, catalog: Option<&ObjectInfo>, node: &str, input: &str) -> bool {
    input_names(workflow, node).contains(&input)
        || workflow
            .class_type(node)
            .and_then(|class| catalog?.get(class))
            .is_some_and(|c| c.input(input).is_some())
}

/// The extensions a folder contributes for an input with this upload flag
/// (`image_upload`, `video_upload`, ...), and what to call them.
pub fn extensions_for(upload_flag: Option<&str>) -> (&'static [&'static str], &'static str) {
    match upload_flag {
        Some("video_upload") => (VIDEOS, "video"),
        Some("audio_upload") => (AUDIO, "audio"),
        _ => (PICTURES, "picture"),
    }
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The files `path` names: itself when it is a file; a folder's files with one of
/// `extensions` (not its subfolders, nor hidden files); or a glob's matching files.
/// Sorted by path, each opened once to be sure it can be read.
pub fn expand(
    flag: &'static str,
    spec: &str,
    path: &str,
    extensions: &[&str],
    what: &'static str,
) -> Result<Vec<PathBuf>, InputError> {
    let as_path = Path::new(path);
    let files = if as_path.is_dir() {
        let entries = std::fs::read_dir(as_path).map_err(|e| InputError::Unreadable {
            path: as_path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .filter(|p| p.is_file() && has_extension(p, extensions))
            .collect();
        if files.is_empty() {
            return Err(InputError::EmptyFolder {
                flag,
                spec: spec.to_owned(),
                path: as_path.to_owned(),
                what,
            });
        }
        files.sort();
        files
    } else if as_path.exists() {
        vec![as_path.to_owned()]
    } else if path.contains(['*', '?', '[']) {
        let options = glob::MatchOptions {
            require_literal_leading_dot: true,
            ..glob::MatchOptions::new()
        };
        let matches = glob::glob_with(path, options).map_err(|e| InputError::BadArg {
            flag,
            spec: spec.to_owned(),
            problem: format!("bad pattern: {e}"),
        })?;
        let mut files = Vec::new();
        for entry in matches {
            let found = entry.map_err(|e| InputError::Unreadable {
                path: e.path().to_owned(),
                reason: e.error().to_string(),
            })?;
            if found.is_file() {
                files.push(found);
            }
        }
        if files.is_empty() {
            return Err(InputError::NoMatch {
                flag,
                spec: spec.to_owned(),
            });
        }
        files.sort();
        files
    } else {
        return Err(InputError::Missing {
            flag,
            spec: spec.to_owned(),
            path: as_path.to_owned(),
        });
    };
    for file in &files {
        check_readable(file)?;
    }
    Ok(files)
}

/// Opens the file for reading (a folder, a socket or a file without permission fails
/// here rather than halfway through a batch).
pub fn check_readable(path: &Path) -> Result<(), InputError> {
    let unreadable = |reason: String| InputError::Unreadable {
        path: path.to_owned(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let meta = file.metadata().map_err(|e| unreadable(e.to_string()))?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(unreadable("not a regular file".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn workflow() -> Workflow {
        Workflow::from_value(
            json!({
                "10": {"class_type": "LoadImage", "inputs": {"image": "a.png"}, "_meta": {"title": "Photo v1.5"}},
                "11": {"class_type": "LoadImageMask", "inputs": {"image": "m.png", "channel": "alpha"}},
                "12": {"class_type": "KSampler", "inputs": {"seed": 1}},
                "13": {"class_type": "LoadImage", "inputs": {"image": "b.png"}, "_meta": {"title": "Photo"}},
            }),
            "w.json",
        )
        .expect("valid")
    }

    fn catalog() -> ObjectInfo {
        ObjectInfo::from_value(
            &json!({
                "LoadImage": {"input": {"required": {"image": [["a.png"], {"image_upload": true}]}}},
                "LoadImageMask": {"input": {"required": {"image": [["a.png"], {"image_upload": true}], "channel": [["alpha", "red"]]}}},
                "KSampler": {"input": {"required": {"seed": ["INT", {}]}}},
            }),
            "catalog",
        )
        .expect("catalog")
    }

    #[test]
    fn parse_splits_at_the_first_equals() {
        let arg = InputArg::parse("10.image=a=b.png", false).expect("ok");
        assert_eq!(
            (arg.target.as_str(), arg.path.as_str()),
            ("10.image", "a=b.png")
        );
        for bad in ["10", "=a.png", "10="] {
            let err = InputArg::parse(bad, true).expect_err(bad).to_string();
            assert!(
                err.starts_with("--mask ") && err.contains("NODE=PATH"),
                "{err}"
            );
        }
    }

    #[test]
    fn nodes_resolve_as_set_does_and_the_upload_input_is_found() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("cat.png");
        std::fs::write(&file, b"x").expect("write");
        let path = file.to_string_lossy().into_owned();
        let (wf, cat) = (workflow(), catalog());
        let resolve = |target: &str, mask: bool| {
            InputArg::parse(&format!("{target}={path}"), mask)
                .expect("parse")
                .resolve(&wf, Some(&cat))
        };
        let by_id = resolve("10", false).expect("id");
        assert_eq!((by_id.node.as_str(), by_id.input.as_str()), ("10", "image"));
        assert_eq!(by_id.upload_as, UploadAs::Image);
        assert_eq!(by_id.files, vec![file.clone()]);
        // A title with a dot in it, whole, and with an input after it.
        assert_eq!(
            resolve("Photo v1.5", false).expect("title").node.as_str(),
            "10"
        );
        assert_eq!(
            resolve("Photo v1.5.image", false)
                .expect("t.i")
                .node
                .as_str(),
            "10"
        );
        assert_eq!(
            resolve("Photo.image", false).expect("title").node.as_str(),
            "13"
        );
        assert_eq!(
            resolve("LoadImageMask", false).expect("class").upload_as,
            UploadAs::MaskWhenOriginal
        );
        assert_eq!(resolve("10", true).expect("mask").upload_as, UploadAs::Mask);
        let ambiguous = resolve("LoadImage", false).expect_err("two").to_string();
        assert!(ambiguous.contains("2 nodes"), "{ambiguous}");
        let no_upload = resolve("12", false).expect_err("none").to_string();
        assert!(no_upload.contains("no upload input"), "{no_upload}");
        let no_input = resolve("10.pixels", false).expect_err("input").to_string();
        assert!(no_input.contains("no input `pixels`"), "{no_input}");
        // Without a catalogue, `image` is the guess.
        let bare = InputArg::parse(&format!("13={path}"), false)
            .expect("parse")
            .resolve(&wf, None)
            .expect("guess");
        assert_eq!(bare.input, "image");
    }

    #[test]
    fn folders_give_their_pictures_sorted_and_globs_their_matches() {
        let dir = tempfile::tempdir().expect("dir");
        for name in ["b.png", "a.JPG", "c.txt", ".hidden.png", "d.webp"] {
            std::fs::write(dir.path().join(name), name).expect("write");
        }
        std::fs::create_dir(dir.path().join("sub.png")).expect("subdir");
        let root = dir.path().to_string_lossy().into_owned();
        let names = |files: Vec<PathBuf>| -> Vec<String> {
            files
                .iter()
                .map(|f| f.file_name().expect("name").to_string_lossy().into_owned())
                .collect()
        };
        let folder = expand("--input", "s", &root, PICTURES, "picture").expect("folder");
        assert_eq!(names(folder), ["a.JPG", "b.png", "d.webp"]);
        let glob = expand(
            "--input",
            "s",
            &format!("{root}/*.png"),
            PICTURES,
            "picture",
        )
        .expect("glob");
        assert_eq!(names(glob), ["b.png"]);
        let all = expand("--input", "s", &format!("{root}/*"), PICTURES, "picture").expect("all");
        assert_eq!(names(all), ["a.JPG", "b.png", "c.txt", "d.webp"]);
        let none = expand(
            "--input",
            "s",
            &format!("{root}/*.gif"),
            PICTURES,
            "picture",
        );
        assert!(matches!(none, Err(InputError::NoMatch { .. })));
        let empty = tempfile::tempdir().expect("dir");
        let err = expand(
            "--input",
            "s",
            &empty.path().to_string_lossy(),
            PICTURES,
            "picture",
        )
        .expect_err("empty")
        .to_string();
        assert!(err.contains("holds no picture files"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = expand(
            "--input",
            "10=./nope.png",
            "./nope.png",
            PICTURES,
            "picture",
        )
        .expect_err("missing");
        assert_eq!(
            err.to_string(),
            "--input 10=./nope.png: no such file or folder: ./nope.png"
        );
        assert_eq!(err.exit_code(), 2);
    }
}
