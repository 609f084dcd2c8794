//! The output/input/temp directories, ComfyUI's file naming and its path checks.

use std::io;
use std::path::{Component, Path, PathBuf};

use tempfile::TempDir;

/// The three directories ComfyUI serves files from. A private root (a temp dir) holds
/// `input`, `temp` and, unless configured, `output`; it is removed with the last owner.
#[derive(Debug)]
pub struct Dirs {
    _root: TempDir,
    pub output: PathBuf,
    pub input: PathBuf,
    pub temp: PathBuf,
    /// The user directory (`user/default`) `/userdata` serves, seeded with the shipped
    /// saved workflows.
    pub user: PathBuf,
}

impl Dirs {
    pub fn new(output_dir: Option<PathBuf>) -> io::Result<Self> {
        let root = tempfile::Builder::new().prefix("comfy-sim-").tempdir()?;
        let output = output_dir.unwrap_or_else(|| root.path().join("output"));
        let input = root.path().join("input");
        let temp = root.path().join("temp");
        let user = root.path().join("user").join("default");
        for d in [&output, &input, &temp, &user] {
            std::fs::create_dir_all(d)?;
        }
        super::userdata::seed(&user)?;
        Ok(Self {
            _root: root,
            output,
            input,
            temp,
            user,
        })
    }

    /// The directory for a `type` value (`output`, `input`, `temp`).
    pub fn for_type(&self, kind: &str) -> Option<&Path> {
        match kind {
            "output" => Some(&self.output),
            "input" => Some(&self.input),
            "temp" => Some(&self.temp),
            _ => None,
        }
    }

    /// Empty the temp directory, as ComfyUI does at start-up.
    pub fn wipe_temp(&self) -> io::Result<()> {
        if self.temp.exists() {
            std::fs::remove_dir_all(&self.temp)?;
        }
        std::fs::create_dir_all(&self.temp)
    }

    /// Top-level input files, sorted (what `LoadImage` offers).
    pub fn input_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.input)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Resolve a `LoadImage` value (`sub/name.png`, optionally `name [output]`).
    pub fn annotated_input(&self, value: &str) -> Option<PathBuf> {
        let (name, kind) = split_annotation(value);
        let base = self.for_type(kind.unwrap_or("input"))?;
        let rel = normalize(Path::new(name))?;
        let path = base.join(rel);
        path.is_file().then_some(path)
    }
}

/// `"name.png [temp]"` → (`"name.png"`, `Some("temp")`).
pub fn split_annotation(name: &str) -> (&str, Option<&str>) {
    for kind in ["output", "input", "temp"] {
        if let Some(stem) = name.strip_suffix(&format!(" [{kind}]")) {
            return (stem, Some(kind));
        }
    }
    (name, None)
}

/// Lexically normalise a relative path; `None` if it is absolute or climbs out.
pub fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Why `/view` refuses a request.
#[derive(Debug, PartialEq, Eq)]
pub enum ViewError {
    /// 400: bad filename or type.
    BadRequest,
    /// 403: the subfolder leaves the type directory.
    Forbidden,
    /// 404: no such file.
    NotFound,
}

/// Apply `/view`'s rules and find the file.
pub fn resolve_view(
    dirs: &Dirs,
    filename: &str,
    kind: Option<&str>,
    subfolder: Option<&str>,
) -> Result<PathBuf, ViewError> {
    let (filename, annotated) = split_annotation(filename);
    if filename.is_empty() || filename.starts_with('/') || filename.contains("..") {
        return Err(ViewError::BadRequest);
    }
    let kind = annotated.or(kind).unwrap_or("output");
    let mut dir = dirs
        .for_type(kind)
        .ok_or(ViewError::BadRequest)?
        .to_path_buf();
    if let Some(sub) = subfolder {
        let rel = normalize(Path::new(sub)).ok_or(ViewError::Forbidden)?;
        dir = dir.join(rel);
    }
    // Like Python's os.path.basename: only the part after the last '/' is used.
    let base = filename.rsplit('/').next().unwrap_or(filename);
    let path = dir.join(base);
    if path.is_file() {
        Ok(path)
    } else {
        Err(ViewError::NotFound)
    }
}

/// Where the next images of `SaveImage`/`PreviewImage` go: (folder, base name, first
/// counter, subfolder as reported). Errors like ComfyUI when the prefix leaves `root`.
pub fn save_target(root: &Path, prefix: &str) -> Result<(PathBuf, String, u64, String), String> {
    let outside =
        || "**** ERROR: Saving image outside the output folder is not allowed.".to_owned();
    if prefix.starts_with('/') {
        return Err(outside());
    }
    let norm = normalize(Path::new(prefix)).ok_or_else(outside)?;
    let base = norm
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("ComfyUI")
        .to_owned();
    let sub = norm
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = root.join(&sub);
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    let next = std::fs::read_dir(&folder)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|name| counter_of(&name, &base))
                .max()
                .map_or(1, |m| m + 1)
        })
        .unwrap_or(1);
    Ok((folder, base, next, sub))
}

/// The counter in `prefix_00012_.png`, if `name` is one of `prefix`'s files.
fn counter_of(name: &str, prefix: &str) -> Option<u64> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('_')?;
    let (digits, tail) = rest.split_once('_')?;
    if !tail.starts_with('.') && !tail.is_empty() {
        return None;
    }
    digits.parse().ok()
}

/// The file name ComfyUI gives image `counter` of a save.
pub fn save_name(base: &str, counter: u64) -> String {
    format!("{base}_{counter:05}_.png")
}

/// The name an upload of `name` is stored under, by ComfyUI's rule: without
/// `overwrite`, a taken name with other bytes becomes `stem (1).ext`, `stem (2).ext`, ...;
/// a taken name with the same bytes is reused. The flag says the file is already there
/// (nothing to write).
pub fn upload_name(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    overwrite: bool,
) -> io::Result<(String, bool)> {
    std::fs::create_dir_all(dir)?;
    let mut candidate = name.to_owned();
    if overwrite {
        return Ok((candidate, false));
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.to_owned(), String::new()),
    };
    let mut i = 1;
    loop {
        let path = dir.join(&candidate);
        if !path.exists() {
            return Ok((candidate, false));
        }
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            return Ok((candidate, true));
        }
        candidate = format!("{stem} ({i}){ext}");
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Store an upload like the route does; returns the stored name.
    fn store_upload(dir: &Path, name: &str, bytes: &[u8], overwrite: bool) -> io::Result<String> {
        let (name, present) = upload_name(dir, name, bytes, overwrite)?;
        if !present {
            std::fs::write(dir.join(&name), bytes)?;
        }
        Ok(name)
    }

    #[test]
    fn view_rules() {
        let dirs = Dirs::new(None).unwrap();
        std::fs::create_dir_all(dirs.output.join("sub")).unwrap();
        std::fs::write(dirs.output.join("sub/a.png"), b"x").unwrap();
        std::fs::write(dirs.temp.join("t.png"), b"x").unwrap();
        assert!(resolve_view(&dirs, "a.png", None, Some("sub")).is_ok());
        assert!(resolve_view(&dirs, "t.png [temp]", None, None).is_ok());
        assert_eq!(
            resolve_view(&dirs, "a.png", None, None),
            Err(ViewError::NotFound)
        );
        assert_eq!(
            resolve_view(&dirs, "../a.png", None, None),
            Err(ViewError::BadRequest)
        );
        assert_eq!(
            resolve_view(&dirs, "a..b.png", None, None),
            Err(ViewError::BadRequest)
        );
        assert_eq!(
            resolve_view(&dirs, "/a.png", None, None),
            Err(ViewError::BadRequest)
        );
        assert_eq!(
            resolve_view(&dirs, "a.png", Some("bogus"), None),
            Err(ViewError::BadRequest)
        );
        assert_eq!(
            resolve_view(&dirs, "a.png", None, Some("../x")),
            Err(ViewError::Forbidden)
        );
        assert_eq!(
            resolve_view(&dirs, "a.png", None, Some("/etc")),
            Err(ViewError::Forbidden)
        );
    }

    #[test]
    fn save_naming_counts_up() {
        let dirs = Dirs::new(None).unwrap();
        let (folder, base, n, sub) = save_target(&dirs.output, "run/probe").unwrap();
        assert_eq!((base.as_str(), n, sub.as_str()), ("probe", 1, "run"));
        std::fs::write(folder.join(save_name(&base, 1)), b"x").unwrap();
        std::fs::write(folder.join(save_name(&base, 7)), b"x").unwrap();
        std::fs::write(folder.join("probe_extra_00009_.png"), b"x").unwrap();
        assert_eq!(save_target(&dirs.output, "run/probe").unwrap().2, 8);
        assert!(save_target(&dirs.output, "../x").is_err());
        assert!(save_target(&dirs.output, "/x").is_err());
    }

    #[test]
    fn upload_dedupes() {
        let dirs = Dirs::new(None).unwrap();
        assert_eq!(
            store_upload(&dirs.input, "a.png", b"1", false).unwrap(),
            "a.png"
        );
        assert_eq!(
            store_upload(&dirs.input, "a.png", b"1", false).unwrap(),
            "a.png"
        );
        assert_eq!(
            store_upload(&dirs.input, "a.png", b"2", false).unwrap(),
            "a (1).png"
        );
        assert_eq!(
            store_upload(&dirs.input, "a.png", b"3", true).unwrap(),
            "a.png"
        );
        assert_eq!(dirs.input_files(), ["a (1).png", "a.png"]);
    }
}
