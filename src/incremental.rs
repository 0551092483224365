//! Incremental runs: which earlier state a run starts from, and which input files it must read.
//!
//! A file is unchanged, and not read at all, when the state has its absolute path with the same
//! size and modification time (and it was not modified within two seconds of being read, see
//! [`crate::state::FileState::racy`]). Otherwise its xxh3-128 is computed: equal to the stored
//! hash (the file was only touched), or equal to the hash of any file processed before (a copy
//! or a move), it is unchanged too; otherwise it is new or changed and is read. Files in the
//! state that are no longer found are "gone": their rows stay in the dataset (exports are
//! archives, and archives get pruned).

use crate::discover::InputFile;
use crate::run::FlattenConfig;
use crate::sink::publish::Existing;
use crate::state::{self, FileStamp, FileState, Previous};
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The settings a dataset's rows depend on. An incremental run with other settings is refused:
/// old and new rows would not match.
pub fn settings(cfg: &FlattenConfig) -> Result<BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    m.insert(
        "schema_version".to_owned(),
        crate::schema::SCHEMA_VERSION.to_string(),
    );
    m.insert(
        "quality_profile".to_owned(),
        cfg.quality_profile.name().to_owned(),
    );
    let buildings = match &cfg.buildings {
        None => "none".to_owned(),
        Some(p) => format!("xxh3-128:{:032x}", state::hash_file(p)?),
    };
    m.insert("buildings".to_owned(), buildings);
    m.insert("pii".to_owned(), cfg.pii.mode().name().to_owned());
    if let Some(k) = cfg.pii.key_id() {
        m.insert("pii_key_id".to_owned(), k);
    }
    Ok(m)
}

/// The state a run starts from (`None`: a full build) and, for a full build, why.
pub fn previous(
    existing: &Existing,
    full: bool,
    out: &std::path::Path,
    settings: &BTreeMap<String, String>,
) -> Result<(Option<Previous>, Option<&'static str>)> {
    if full {
        return Ok((None, Some("--full")));
    }
    match existing {
        Existing::Empty => Ok((None, Some("no earlier dataset"))),
        Existing::Legacy => Ok((
            None,
            Some("the earlier dataset was written without incremental state"),
        )),
        Existing::Broken(why) => bail!(
            "the dataset in {} is damaged: {why}. Run again with --full to rebuild it from the \
             inputs",
            out.display()
        ),
        Existing::Snapshot { dir, .. } => Ok((Some(state::load(dir, settings)?), None)),
    }
}

/// What became of one input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Not in the state: read.
    New,
    /// In the state with other content: read.
    Changed,
    /// Same path, size and modification time: not read.
    Unchanged,
    /// Other modification time or size, same content: not parsed.
    Touched,
    /// Same content as another file processed before (a copy or a move): not parsed.
    SameContent,
}

impl FileStatus {
    pub fn is_read(self) -> bool {
        matches!(self, FileStatus::New | FileStatus::Changed)
    }
}

/// The outcome for one discovered file.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    pub index: u32,
    pub status: FileStatus,
    /// What to remember (its key is the plan's); `None` when the file could not be read (or
    /// changed while it was read): the next run reads it again.
    pub state: Option<FileStamp>,
    /// The file changed while it was read.
    pub unstable: bool,
}

/// Which files a run must look at.
pub struct Plan<'a> {
    files: &'a [InputFile],
    /// The state key of each discovered file, when it is not the bytes of its path (a path
    /// under a relative input): a second copy of every path would cost ~100 bytes per file.
    keys: Vec<Option<Box<[u8]>>>,
    /// File indices in key order, to find a file by its key.
    by_key: Vec<u32>,
    /// Files to hash and perhaps read (indices into the discovered files).
    pub todo: Vec<u32>,
    /// Files unchanged by size and modification time.
    pub unchanged: Vec<FileOutcome>,
    old: HashMap<&'a [u8], &'a FileState>,
    known: HashSet<u128>,
}

impl<'a> Plan<'a> {
    /// The state key of discovered file `i` (its absolute path as OS bytes).
    pub fn key(&self, i: u32) -> &[u8] {
        match &self.keys[i as usize] {
            Some(k) => k,
            None => self.files[i as usize].path.as_os_str().as_encoded_bytes(),
        }
    }

    /// The discovered file whose key is `key` (the last one if an input was given twice).
    pub fn find(&self, key: &[u8]) -> Option<u32> {
        let p = self.by_key.partition_point(|&i| self.key(i) <= key);
        let i = *self.by_key.get(p.checked_sub(1)?)?;
        (self.key(i) == key).then_some(i)
    }

    pub fn new(files: &'a [InputFile], prev: Option<&'a Previous>) -> Plan<'a> {
        let old: HashMap<&[u8], &FileState> = prev
            .map(|p| {
                p.files
                    .files
                    .iter()
                    .map(|f| (f.key.as_slice(), f))
                    .collect()
            })
            .unwrap_or_default();
        let known = prev
            .map(|p| p.files.files.iter().map(|f| f.hash).collect())
            .unwrap_or_default();
        let mut plan = Plan {
            files,
            keys: Vec::with_capacity(files.len()),
            by_key: Vec::new(),
            todo: Vec::new(),
            unchanged: Vec::new(),
            old,
            known,
        };
        for f in files {
            let key = state::file_key(&f.path);
            let same = plan.old.get(key.as_slice()).and_then(|o| {
                let m = state::file_meta(&f.path).ok()?;
                (!o.racy && o.size == m.size && o.mtime_ns == m.mtime_ns).then(|| o.stamp())
            });
            match same {
                Some(s) => plan.unchanged.push(FileOutcome {
                    index: f.index,
                    status: FileStatus::Unchanged,
                    state: Some(s),
                    unstable: false,
                }),
                None => plan.todo.push(f.index),
            }
            let own = key.as_slice() != f.path.as_os_str().as_encoded_bytes();
            plan.keys.push(own.then(|| key.into_boxed_slice()));
        }
        let mut by_key: Vec<u32> = (0..files.len() as u32).collect();
        by_key.sort_by(|&a, &b| plan.key(a).cmp(plan.key(b)));
        plan.by_key = by_key;
        plan
    }

    /// Hashes a file of [`Self::todo`] and decides whether it must be read. For a file to read,
    /// the outcome's state is what to remember if it does not change while it is read.
    pub fn check(&self, file: &InputFile) -> FileOutcome {
        match (state::file_meta(&file.path), state::hash_file(&file.path)) {
            (Ok(meta), Ok(hash)) => self.decide(file, Some((meta, hash))),
            _ => self.decide(file, None), // reading it reports why it cannot be read
        }
    }

    /// [`Self::check`] for a file whose bytes the caller already read (after taking `meta`,
    /// so a change while reading is caught by [`after_read`]): one read instead of two.
    pub fn check_bytes(
        &self,
        file: &InputFile,
        meta: state::FileMeta,
        bytes: &[u8],
    ) -> FileOutcome {
        self.decide(file, Some((meta, state::hash_bytes(bytes))))
    }

    /// The outcome for `file` given its size, time and hash (`None`: they could not be read, so
    /// it is read and nothing is remembered).
    fn decide(&self, file: &InputFile, seen: Option<(state::FileMeta, u128)>) -> FileOutcome {
        let old = self.old.get(self.key(file.index));
        let read = FileOutcome {
            index: file.index,
            status: if old.is_some() {
                FileStatus::Changed
            } else {
                FileStatus::New
            },
            state: None,
            unstable: false,
        };
        let Some((meta, hash)) = seen else {
            return read;
        };
        let st = FileStamp::new(
            meta.size,
            meta.mtime_ns,
            hash,
            state::is_racy(meta.mtime_ns),
        );
        let status = if old.is_some_and(|o| o.hash == hash) {
            FileStatus::Touched
        } else if self.known.contains(&hash) {
            FileStatus::SameContent
        } else {
            read.status
        };
        FileOutcome {
            status,
            state: Some(st),
            ..read
        }
    }
}

/// After a file was read: keeps its state only if it did not change meanwhile.
pub fn after_read(file: &InputFile, mut outcome: FileOutcome, readable: bool) -> FileOutcome {
    if !readable {
        outcome.state = None;
        return outcome;
    }
    if let Some(s) = &outcome.state {
        let now = state::file_meta(&file.path).ok();
        if now
            != Some(state::FileMeta {
                size: s.size,
                mtime_ns: s.mtime_ns,
            })
        {
            outcome.state = None;
            outcome.unstable = true;
        }
    }
    outcome
}

/// Fails (before anything is written) when none of the inputs exists: a cron job with a wrong
/// path must not publish a dataset that silently lost its input.
pub fn check_inputs(inputs: &[std::path::PathBuf]) -> Result<()> {
    let mut missing = Vec::new();
    for i in inputs {
        if let Err(e) = std::fs::metadata(i) {
            missing.push(format!("{}: {e}", i.display()));
        }
    }
    if !inputs.is_empty() && missing.len() == inputs.len() {
        bail!("no input can be read ({})", missing.join("; "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Layout;

    fn file(path: &std::path::Path, index: u32) -> InputFile {
        InputFile {
            path: path.into(),
            index,
            size: 1,
            layout: Layout::Document,
            gzip_name: false,
        }
    }

    #[test]
    fn an_outcome_is_48_bytes_and_a_stamp_keeps_its_hash() {
        // One per file the run looks at (130,800 in the 10 GB benchmark archive).
        assert_eq!(std::mem::size_of::<FileOutcome>(), 48);
        let h = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210_u128;
        let s = FileStamp::new(7, -3, h, true);
        assert_eq!((s.hash(), s.size, s.mtime_ns, s.racy), (h, 7, -3, true));
    }

    #[test]
    #[cfg(unix)]
    fn keys_are_absolute_paths_found_by_key_and_stored_only_when_not_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let abs = dir.path().join("b.json");
        let files = [
            file(&dir.path().join("c.json"), 0),
            file(std::path::Path::new("rel/a.json"), 1),
            file(&abs, 2),
            // The same file given twice: the last one is found.
            file(&abs, 3),
        ];
        let plan = Plan::new(&files, None);
        assert_eq!(plan.todo, [0, 1, 2, 3]);
        // An absolute path is its own key; a relative one gets the absolute path stored.
        assert!(plan.keys[0].is_none() && plan.keys[2].is_none());
        let rel_key = state::file_key(std::path::Path::new("rel/a.json"));
        assert!(rel_key.starts_with(b"/") && rel_key.ends_with(b"/rel/a.json"));
        assert_eq!(plan.key(1), rel_key.as_slice());
        assert_eq!(plan.key(0), state::file_key(&files[0].path).as_slice());
        assert_eq!(plan.find(&rel_key), Some(1));
        assert_eq!(plan.find(plan.key(0)), Some(0));
        assert_eq!(plan.find(abs.as_os_str().as_encoded_bytes()), Some(3));
        assert_eq!(plan.find(b"/nowhere.json"), None);
        assert_eq!(plan.find(b""), None);
    }
}
