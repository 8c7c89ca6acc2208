//! Where scenarios come from: `./scenarios`, then `$RACEDEMO_SCENARIOS` (`*.toml`, and
//! herdtools7's `*.litmus`), then the copies of the repository's `scenarios/*.toml` built into
//! the binary. A path works as well as a name.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Error;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

/// Where a scenario's text was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    BuiltIn(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::BuiltIn(stem) => write!(f, "built-in:{stem}.toml"),
        }
    }
}

/// A scenario's text before parsing: its name (the file stem), origin and contents.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub origin: Origin,
    pub text: String,
}

/// What scenario files end with: racedemo's own, and herdtools7's litmus tests.
const EXTENSIONS: [&str; 2] = ["toml", "litmus"];

/// The folders searched by name, in order.
fn folders() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("scenarios")];
    if let Some(dir) = std::env::var_os("RACEDEMO_SCENARIOS").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(dir));
    }
    dirs
}

/// Whether an argument is a path rather than a library name.
fn is_path(arg: &str) -> bool {
    arg.contains('/')
        || arg.contains(std::path::MAIN_SEPARATOR)
        || arg.ends_with(".toml")
        || arg.ends_with(".litmus")
}

/// Finds one scenario by name or path.
pub fn find(arg: &str) -> Result<Source, Error> {
    if is_path(arg) {
        return read(Path::new(arg));
    }
    for dir in folders() {
        for ext in EXTENSIONS {
            let path = dir.join(format!("{arg}.{ext}"));
            if path.is_file() {
                return read(&path);
            }
        }
    }
    if let Some((stem, text)) = embedded::EMBEDDED.iter().find(|(stem, _)| *stem == arg) {
        return Ok(Source {
            name: stem.to_string(),
            origin: Origin::BuiltIn(stem.to_string()),
            text: text.to_string(),
        });
    }
    let names: Vec<String> = all()?.into_iter().map(|s| s.name).collect();
    Err(Error::input(format!(
        "unknown scenario '{arg}': known scenarios are {}",
        names.join(", ")
    )))
}

/// Every scenario reachable by name, the first of each name winning, sorted by name.
pub fn all() -> Result<Vec<Source>, Error> {
    let mut found: Vec<Source> = Vec::new();
    for dir in folders() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| EXTENSIONS.iter().any(|e| x == *e))
            })
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for path in paths {
            let source = read(&path)?;
            if !found.iter().any(|s| s.name == source.name) {
                found.push(source);
            }
        }
    }
    for (stem, text) in embedded::EMBEDDED {
        if !found.iter().any(|s| s.name == *stem) {
            found.push(Source {
                name: stem.to_string(),
                origin: Origin::BuiltIn(stem.to_string()),
                text: text.to_string(),
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Every scenario file under the given files and folders (a folder's `*.toml` and
/// `*.litmus`, sorted).
pub fn under(paths: &[PathBuf]) -> Result<Vec<Source>, Error> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| {
                Error::input(format!("{}: cannot read the folder: {e}", path.display()))
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| EXTENSIONS.iter().any(|e| x == *e))
                })
                .collect();
            files.sort();
            for file in files {
                out.push(read(&file)?);
            }
        } else {
            out.push(read(path)?);
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Source, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::InvalidData => "not UTF-8 text".to_string(),
            _ => e.to_string(),
        };
        Error::input(format!("{}: {why}", path.display()))
    })?;
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    Ok(Source {
        name,
        origin: Origin::File(path.to_path_buf()),
        text,
    })
}
