//! Discover: turn the command line's INPUT paths into an ordered list of files to read.
//!
//! Directories are walked recursively in file-name order, so the same tree always yields the same
//! list (and "first in input order" is a stable tie-break for duplicate records). Inside
//! directories only JSON-looking files are taken (`.json`, `.ndjson`, `.jsonl`, each optionally
//! `.gz`); anything else is counted as skipped. Files named explicitly are always read. The output
//! folder is never read, even when it sits inside an input folder. This is the seam where object
//! storage listings will plug in later: the rest of the pipeline only sees [`InputFile`]s.

use std::path::{Path, PathBuf};

pub mod list;

/// How a file's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One JSON document (a record, a page, …); NDJSON is tried if it has trailing documents.
    Document,
    /// One JSON document per line.
    Lines,
}

#[derive(Debug, Clone)]
pub struct InputFile {
    /// Boxed: exactly as long as the path (one per file, kept for the whole run).
    pub path: Box<Path>,
    /// Position in input order (stable across runs and thread counts).
    pub index: u32,
    pub size: u64,
    pub layout: Layout,
    /// Named `*.gz`; the content is checked for the gzip magic anyway.
    pub gzip_name: bool,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<InputFile>,
    /// Files inside input folders that are not JSON by name.
    pub skipped: Vec<PathBuf>,
    /// Paths that could not be walked (permissions, vanished, symlink loops).
    pub errors: Vec<(PathBuf, String)>,
}

/// The layout and gzip-ness a file name says. Compared as bytes (ASCII case ignored), so a
/// name that is not UTF-8 (`café.json` in Latin-1 on Linux) is still a JSON file.
fn classify(path: &Path) -> Option<(Layout, bool)> {
    let name = path.file_name()?.as_encoded_bytes().to_ascii_lowercase();
    let (stem, gz) = match name.strip_suffix(b".gz") {
        Some(s) => (s, true),
        None => (name.as_slice(), false),
    };
    if stem.ends_with(b".ndjson") || stem.ends_with(b".jsonl") {
        Some((Layout::Lines, gz))
    } else if stem.ends_with(b".json") {
        Some((Layout::Document, gz))
    } else {
        None
    }
}

/// Walks `inputs` (files and folders) in a deterministic order, never entering `exclude`,
/// and collects the files.
pub fn discover(inputs: &[PathBuf], exclude: Option<&Path>) -> Discovery {
    let mut files = Vec::new();
    let walked = walk(inputs, exclude, |f| {
        files.push(f);
        Ok(())
    })
    .expect("collecting into a list cannot fail");
    // Held while the files are read (`parse-only`): no spare capacity.
    files.shrink_to_fit();
    Discovery {
        files,
        skipped: walked.skipped,
        errors: walked.errors,
    }
}

/// What a walk found besides the files it handed out.
#[derive(Debug, Default)]
pub struct Walked {
    /// The number of files handed to the callback.
    pub files: u32,
    /// Files inside input folders that are not JSON by name.
    pub skipped: Vec<PathBuf>,
    /// Paths that could not be walked (permissions, vanished, symlink loops).
    pub errors: Vec<(PathBuf, String)>,
}

/// Walks `inputs` like [`discover`] and hands each file to `on_file` as it is found, in input
/// order (`index` counts from 0), so the caller decides what to keep of it. An error of
/// `on_file` stops the walk.
pub fn walk(
    inputs: &[PathBuf],
    exclude: Option<&Path>,
    mut on_file: impl FnMut(InputFile) -> anyhow::Result<()>,
) -> anyhow::Result<Walked> {
    let mut d = Walked::default();
    let exclude = exclude.and_then(|p| std::fs::canonicalize(p).ok());
    let excluded = |p: &Path| match &exclude {
        Some(x) => std::fs::canonicalize(p)
            .map(|c| c.starts_with(x))
            .unwrap_or(false),
        None => false,
    };
    let mut push = |d: &mut Walked, path: PathBuf, size: u64, explicit: bool| {
        let (layout, gzip_name) = match classify(&path) {
            Some(c) => c,
            None if explicit => (Layout::Document, false),
            None => {
                d.skipped.push(path);
                return Ok(());
            }
        };
        let index = d.files;
        d.files += 1;
        on_file(InputFile {
            path: path.into_boxed_path(),
            index,
            size,
            layout,
            gzip_name,
        })
    };
    for input in inputs {
        let meta = match std::fs::metadata(input) {
            Ok(m) => m,
            Err(e) => {
                d.errors.push((input.clone(), e.to_string()));
                continue;
            }
        };
        if meta.is_file() {
            push(&mut d, input.clone(), meta.len(), true)?;
            continue;
        }
        let walker = walkdir::WalkDir::new(input)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !(e.file_type().is_dir() && excluded(e.path())));
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                    push(&mut d, e.into_path(), size, false)?;
                }
                // A FIFO, socket or device: never opened (reading a FIFO would block the run).
                Ok(e) if !e.file_type().is_dir() => {
                    if classify(e.path()).is_some() || e.depth() == 0 {
                        let reason = "not a regular file (a FIFO, socket or device)".to_owned();
                        d.errors.push((e.into_path(), reason));
                    } else {
                        d.skipped.push(e.into_path());
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let path = e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| input.clone());
                    d.errors.push((path, e.to_string()));
                }
            }
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_by_name() {
        assert_eq!(
            classify(Path::new("a/b.json")),
            Some((Layout::Document, false))
        );
        assert_eq!(
            classify(Path::new("b.JSON.gz")),
            Some((Layout::Document, true))
        );
        assert_eq!(
            classify(Path::new("b.ndjson")),
            Some((Layout::Lines, false))
        );
        assert_eq!(
            classify(Path::new("b.jsonl.gz")),
            Some((Layout::Lines, true))
        );
        assert_eq!(classify(Path::new("notes.txt")), None);
    }

    #[test]
    fn walks_in_name_order_and_skips_output_and_non_json() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b")).unwrap();
        std::fs::create_dir_all(root.join("out/calls")).unwrap();
        std::fs::write(root.join("b/2.json"), "{}").unwrap();
        std::fs::write(root.join("a.ndjson"), "").unwrap();
        std::fs::write(root.join("c.txt"), "").unwrap();
        std::fs::write(root.join("out/calls/x.json"), "{}").unwrap();
        let d = discover(&[root.to_path_buf()], Some(&root.join("out")));
        let names: Vec<_> = d
            .files
            .iter()
            .map(|f| f.path.strip_prefix(root).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![PathBuf::from("a.ndjson"), PathBuf::from("b/2.json")]
        );
        assert_eq!(d.skipped, vec![root.join("c.txt")]);
        assert_eq!(d.files[1].index, 1);
    }
}
