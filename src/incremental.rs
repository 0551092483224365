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
use crate::state::{self, FileStamp, FileState, FileStates, FilesBody, Previous};
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashMap};

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
    pub status: FileStatus,
    /// What to remember (its key is the file's); `None` when the file could not be read (or
    /// changed while it was read): the next run reads it again.
    pub state: Option<FileStamp>,
    /// The file changed while it was read.
    pub unstable: bool,
}

/// Where a key of the previous state is among this run's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The discovered file at this position (the last one if an input was given twice).
    At(u32),
    /// No discovered file has this key.
    Absent,
    /// The plan does not follow this key (it is not a key of the previous state's files,
    /// errors or waiting pages): ask the file list
    /// ([`crate::discover::list::FileList::find_keys`]).
    Unknown,
}

/// Which files a run must look at. Built as the walk finds the files ([`Self::add`]); what it
/// keeps grows with the previous state (an index of its files), not with this run's files,
/// except for the positions of the files to read.
pub struct Plan<'a> {
    /// Files to hash and perhaps read (positions of discovered files).
    pub todo: Vec<u32>,
    /// The number of files unchanged by size and modification time.
    pub unchanged: u64,
    /// The previous state's files (none for a full build).
    prev: &'a FileStates,
    /// The previous files in key hash order: finds a file by key by binary search in 4 bytes
    /// per file, where a hash map of borrowed keys took about 40.
    by_key: Vec<u32>,
    /// Per previous file, where it is among this run's files ([`NOT_FOUND`]: nowhere).
    at: Vec<u32>,
    /// The keys the previous state's errors and waiting pages name that are not its files'
    /// (files it could not read), and where they are in this run.
    named: HashMap<&'a [u8], Option<u32>>,
    /// The previous files in content hash order: copies and moves are not read again.
    by_content: Vec<u32>,
}

impl Found {
    /// The position, when the file is among this run's (`Unknown` counts as not found).
    pub fn at(self) -> Option<u32> {
        match self {
            Found::At(i) => Some(i),
            Found::Absent | Found::Unknown => None,
        }
    }
}

/// What [`Plan::add`] decided for a file.
#[derive(Debug, PartialEq, Eq)]
pub enum Planned {
    /// To hash and perhaps read.
    Todo,
    /// Same size and modification time as in the state: not read, and remembered as it was.
    Unchanged(FileStamp),
}

/// In [`Plan`]'s `at`: the previous file is not among this run's files.
const NOT_FOUND: u32 = u32::MAX;

static NO_FILES: FileStates = FileStates::EMPTY;

impl<'a> Plan<'a> {
    /// A plan against the previous state's files (`None`: a full build).
    pub fn new(prev: Option<&'a FilesBody>) -> Plan<'a> {
        let files = prev.map_or(&NO_FILES, |p| &p.files);
        // Stable sorts: of a key listed twice, the first entry is found.
        let mut by_key: Vec<u32> = (0..files.len() as u32).collect();
        by_key.sort_by_key(|&i| files.key_hash(i as usize));
        let mut by_content = by_key.clone();
        by_content.sort_by_key(|&i| files.stamp(i as usize).hash());
        let mut plan = Plan {
            todo: Vec::new(),
            unchanged: 0,
            prev: files,
            by_key,
            at: vec![NOT_FOUND; files.len()],
            named: HashMap::new(),
            by_content,
        };
        if let Some(p) = prev {
            let named = p.errors.iter().map(|e| e.file_key.as_slice());
            let waiting = p.pending_pages.iter().map(|r| r.file_key.as_slice());
            for k in named.chain(waiting) {
                if plan.previous(k).is_none() {
                    plan.named.insert(k, None);
                }
            }
        }
        plan
    }

    /// The previous state's file whose key is `key` (the first if it is listed twice).
    fn previous(&self, key: &[u8]) -> Option<usize> {
        // A full build has no previous files: no key to hash.
        if self.by_key.is_empty() {
            return None;
        }
        self.previous_hash(state::key_hash(key))
    }

    /// The previous state's file whose key hashes to `h` (the first if it is listed twice).
    fn previous_hash(&self, h: u128) -> Option<usize> {
        let first = self
            .by_key
            .partition_point(|&i| self.prev.key_hash(i as usize) < h);
        let i = *self.by_key.get(first)? as usize;
        (self.prev.key_hash(i) == h).then_some(i)
    }

    /// Whether a discovered file has the key that hashes to `h` (a key of the previous
    /// state's files).
    fn is_found(&self, h: u128) -> bool {
        self.previous_hash(h)
            .is_some_and(|i| self.at[i] != NOT_FOUND)
    }

    /// Whether a previous file has the content hash `hash`.
    fn known(&self, hash: u128) -> bool {
        let first = self
            .by_content
            .partition_point(|&i| self.prev.stamp(i as usize).hash() < hash);
        self.by_content
            .get(first)
            .is_some_and(|&i| self.prev.stamp(i as usize).hash() == hash)
    }

    /// Plans the discovered `file` whose state key is `key`.
    pub fn add(&mut self, file: &InputFile, key: &[u8]) -> Planned {
        let old = match self.previous(key) {
            Some(i) => {
                self.at[i] = file.index;
                Some(self.prev.stamp(i))
            }
            None => {
                if let Some(at) = self.named.get_mut(key) {
                    *at = Some(file.index);
                }
                None
            }
        };
        let same = old.and_then(|o| {
            let m = state::file_meta(&file.path).ok()?;
            (!o.racy && o.size == m.size && o.mtime_ns == m.mtime_ns).then_some(o)
        });
        match same {
            Some(s) => {
                self.unchanged += 1;
                Planned::Unchanged(s)
            }
            None => {
                self.todo.push(file.index);
                Planned::Todo
            }
        }
    }

    /// Where the file of a previous state's `key` is in this run.
    pub fn find(&self, key: &[u8]) -> Found {
        let at = match self.previous(key) {
            Some(i) => Some(self.at[i]).filter(|&at| at != NOT_FOUND),
            None => match self.named.get(key) {
                Some(at) => *at,
                None => return Found::Unknown,
            },
        };
        at.map_or(Found::Absent, Found::At)
    }

    /// How many of the previous state's files are no longer among the inputs.
    pub fn gone_count(&self) -> u64 {
        (0..self.prev.len())
            .filter(|&i| !self.is_found(self.prev.key_hash(i)))
            .count() as u64
    }

    /// Of the previous state's files as read again with their keys
    /// ([`Previous::files_reader`]), those no longer among the inputs. A read error is passed
    /// on.
    pub fn gone<'p>(
        &'p self,
        files: impl Iterator<Item = Result<FileState>> + 'p,
    ) -> impl Iterator<Item = Result<FileState>> + 'p {
        files.filter(|f| {
            f.as_ref()
                .map_or(true, |f| !self.is_found(state::key_hash(&f.key)))
        })
    }

    /// Hashes a file of [`Self::todo`] and decides whether it must be read. For a file to read,
    /// the outcome's state is what to remember if it does not change while it is read.
    pub fn check(&self, file: &InputFile, key: &[u8]) -> FileOutcome {
        match (state::file_meta(&file.path), state::hash_file(&file.path)) {
            (Ok(meta), Ok(hash)) => self.decide(key, Some((meta, hash))),
            _ => self.decide(key, None), // reading it reports why it cannot be read
        }
    }

    /// [`Self::check`] for a file whose bytes the caller already read (after taking `meta`,
    /// so a change while reading is caught by [`after_read`]): one read instead of two.
    pub fn check_bytes(&self, key: &[u8], meta: state::FileMeta, bytes: &[u8]) -> FileOutcome {
        self.decide(key, Some((meta, state::hash_bytes(bytes))))
    }

    /// The outcome for `file` given its size, time and hash (`None`: they could not be read, so
    /// it is read and nothing is remembered).
    fn decide(&self, key: &[u8], seen: Option<(state::FileMeta, u128)>) -> FileOutcome {
        let old = self.previous(key).map(|i| self.prev.stamp(i));
        let read = FileOutcome {
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
        let status = if old.is_some_and(|o| o.hash() == hash) {
            FileStatus::Touched
        } else if self.known(hash) {
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
    use crate::state::{FileState, StoredError};

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
    fn a_stamp_keeps_its_hash() {
        let h = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210_u128;
        let s = FileStamp::new(7, -3, h, true);
        assert_eq!((s.hash(), s.size, s.mtime_ns, s.racy), (h, 7, -3, true));
    }

    fn state_of(path: &std::path::Path, hash: u128) -> FileState {
        let m = state::file_meta(path).unwrap();
        FileState {
            key: state::file_key(path),
            size: m.size,
            mtime_ns: m.mtime_ns,
            hash,
            racy: false,
        }
    }

    #[test]
    fn files_are_planned_as_found_and_the_previous_keys_followed() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        for (name, text) in [
            ("a.json", "{}"),
            ("b.json", "{}"),
            ("d.json", "[]"),
            ("f.json", "{}"),
        ] {
            std::fs::write(p(name), text).unwrap();
        }
        let key = |name: &str| state::file_key(&p(name));
        let mut b_old = state_of(&p("b.json"), 2);
        b_old.size += 1; // b changed since
        let mut c_old = state_of(&p("a.json"), 3);
        c_old.key = key("c.json"); // c is gone

        // a is listed twice (an input given twice in an earlier run): found by either.
        let a_old = state_of(&p("a.json"), 1);
        let mut prev = FilesBody {
            files: vec![a_old.clone(), b_old.clone(), c_old.clone(), a_old.clone()].into(),
            ..Default::default()
        };
        // An earlier error names d (never remembered: it could not be read), a waiting page
        // names e (gone).
        let error = crate::manifest::ErrorEntry {
            path: "d.json".into(),
            position: "file".into(),
            line: None,
            column: None,
            element: None,
            kind: "file",
            call_id: None,
            reason: "bad".into(),
            sort_key: (0, 0, 0),
        };
        prev.errors.push(StoredError::new(key("d.json"), &error));
        let mut page = prev_page();
        page.file_key = key("e.json");
        prev.pending_pages.push(page);
        let mut plan = Plan::new(Some(&prev));
        // a twice (the last is found), then b, d and the new f.
        let found = ["a.json", "b.json", "d.json", "a.json", "f.json"];
        let planned: Vec<Planned> = found
            .iter()
            .enumerate()
            .map(|(i, name)| plan.add(&file(&p(name), i as u32), &key(name)))
            .collect();
        let a = prev.files.stamp(0);
        assert_eq!(
            planned,
            [
                Planned::Unchanged(a),
                Planned::Todo,
                Planned::Todo,
                Planned::Unchanged(a),
                Planned::Todo
            ]
        );
        assert_eq!(
            (plan.todo.as_slice(), plan.unchanged),
            ([1, 2, 4].as_slice(), 2)
        );
        assert_eq!(plan.find(&key("a.json")), Found::At(3));
        assert_eq!(plan.find(&key("d.json")), Found::At(2));
        assert_eq!(plan.find(&key("e.json")), Found::Absent);
        assert_eq!(plan.find(&key("c.json")), Found::Absent);
        // f is not a key of the previous state: the plan does not follow it.
        assert_eq!(plan.find(&key("f.json")), Found::Unknown);
        assert_eq!(plan.gone_count(), 1);
        let listed = [&a_old, &b_old, &c_old, &a_old].map(|f| Ok(f.clone()));
        let gone: Vec<Vec<u8>> = plan
            .gone(listed.into_iter())
            .map(|f| f.unwrap().key)
            .collect();
        assert_eq!(gone, [key("c.json")]);
        // b changed; d is new (only an error named it); f has a's content (hash 1): a copy.
        let b = plan.check(&file(&p("b.json"), 1), &key("b.json"));
        assert_eq!(
            (b.status, b.state.map(|s| s.size)),
            (FileStatus::Changed, Some(2))
        );
        let d = plan.check(&file(&p("d.json"), 2), &key("d.json"));
        assert_eq!(d.status, FileStatus::New);
        let m = state::file_meta(&p("f.json")).unwrap();
        let f = plan.decide(&key("f.json"), Some((m, 1)));
        assert_eq!(f.status, FileStatus::SameContent);
        let b2 = plan.decide(&key("b.json"), Some((m, 2)));
        assert_eq!(b2.status, FileStatus::Touched);
    }

    fn prev_page() -> state::PageRef {
        state::PageRef {
            file_key: Vec::new(),
            path: "e.json".into(),
            doc_line: None,
            line: 1,
            column: None,
            element: Some(0),
            kind: 0,
            call_id: "c1".into(),
        }
    }
}
