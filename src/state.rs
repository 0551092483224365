//! The incremental state of a dataset: what earlier runs processed and what the dataset holds.
//!
//! Stored inside each snapshot, in `_state/` (so it is published, and survives a crash, together
//! with the rows it describes):
//!
//! - `state.json`: a small readable header: format name and [`STATE_VERSION`], the snapshot's
//!   generation, the settings the rows were computed with, counts, and the size and xxh3-128
//!   checksum of the two body files.
//! - `files.bin`: every input file processed so far (absolute path, size, modification time,
//!   xxh3-128 of the content), the part files of the snapshot with their row counts, the pages
//!   exported apart from their call that still wait for it, and the rejections of earlier runs
//!   that are still valid.
//! - `calls.bin`: the call index, one entry per call id in the dataset: version,
//!   lastModifiedDateTime, richness (the winner rule's keys), partition date, and what merging a
//!   later sessions/participants_v2 page into it needs (type, start, end, item counts, hashes of
//!   the item ids, the pages already merged). Memory is proportional to the number of calls:
//!   about 120 bytes per call plus 8 per session and participant.
//!
//! Both body files are bincode 2 (standard config). Any mismatch (unknown format or version,
//! wrong size or checksum, undecodable body, a listed part file missing) is reported as a damaged
//! state; the run stops and asks for `--full`.

use crate::decode::{DocLoc, PageKind, Position};
use crate::manifest::ErrorEntry;
use crate::schema::Table;
use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::Xxh3Default;

/// Version of the state format; a state with another version is refused (`--full` rebuilds).
pub const STATE_VERSION: u32 = 1;
/// Folder of the state inside a snapshot.
pub const STATE_DIR: &str = "_state";
const FORMAT: &str = "callrec-state";
const HEADER: &str = "state.json";
const FILES: &str = "files.bin";
const CALLS: &str = "calls.bin";

/// `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub state_version: u32,
    pub generation: u64,
    pub tool_version: String,
    pub written_at: String,
    /// What the rows were computed with; a run with other settings is refused.
    pub settings: BTreeMap<String, String>,
    /// Next free part file number (part names are never reused).
    pub next_part_id: u32,
    pub files: u64,
    pub calls: u64,
    pub parts: u64,
    pub pending_pages: u64,
    pub errors: u64,
    pub files_bin: BodyInfo,
    pub calls_bin: BodyInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BodyInfo {
    pub bytes: u64,
    pub xxh3_128: String,
}

/// `files.bin` as a run holds it (written from [`FilesOut`]).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FilesBody {
    pub files: FileStates,
    pub parts: Vec<PartState>,
    pub pending_pages: Vec<PageRef>,
    pub errors: Vec<StoredError>,
}

/// One input file processed by an earlier run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileState {
    /// The absolute path (as OS bytes).
    pub key: Vec<u8>,
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// xxh3-128 of the bytes (as stored, before gunzip).
    pub hash: u128,
    /// Modified within two seconds of being read: size and time alone do not prove it
    /// unchanged, so the next run compares the hash.
    pub racy: bool,
}

impl FileState {
    /// What is remembered of the file besides its key.
    pub fn stamp(&self) -> FileStamp {
        FileStamp::new(self.size, self.mtime_ns, self.hash, self.racy)
    }
}

/// The files of a state as an incremental run holds them for the whole run: one per input
/// file the dataset has seen, so each is kept small. Of a key only its [`key_hash`] is kept
/// (16 bytes, where the paths took ~70 on average), beside the file's stamp: 56 bytes per
/// file. The keys themselves are read again from `files.bin` for the few uses that need them
/// ([`Previous::files_reader`]). Read (not written) as a sequence of [`FileState`]s.
#[derive(Debug, Default, Clone)]
pub struct FileStates {
    /// [`key_hash`] of each file's key.
    keys: Vec<u128>,
    stamps: Vec<FileStamp>,
}

impl FileStates {
    /// No files (a full build's previous state).
    pub const EMPTY: FileStates = FileStates {
        keys: Vec::new(),
        stamps: Vec::new(),
    };

    pub fn len(&self) -> usize {
        self.stamps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stamps.is_empty()
    }

    /// Appends a file.
    pub fn push(&mut self, key: &[u8], stamp: FileStamp) {
        self.keys.push(key_hash(key));
        self.stamps.push(stamp);
    }

    /// The [`key_hash`] of file `i`'s key.
    pub fn key_hash(&self, i: usize) -> u128 {
        self.keys[i]
    }

    pub fn stamp(&self, i: usize) -> FileStamp {
        self.stamps[i]
    }

    fn shrink_to_fit(&mut self) {
        self.keys.shrink_to_fit();
        self.stamps.shrink_to_fit();
    }
}

/// What an incremental run keeps of a file's key (its absolute path): its xxh3-128. Two keys
/// are taken as the same file when their hashes are equal, as two files' contents are
/// ([`hash_file`]): a chance collision among a billion keys is about 1 in 10^20.
pub fn key_hash(key: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(key)
}

#[cfg(test)]
impl From<Vec<FileState>> for FileStates {
    fn from(files: Vec<FileState>) -> Self {
        let mut out = FileStates::default();
        for f in files {
            out.push(&f.key, f.stamp());
        }
        out
    }
}

impl<'de> Deserialize<'de> for FileStates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = FileStates;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sequence of file states")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<FileStates, A::Error> {
                let mut out = FileStates::default();
                // The announced length sizes the lists (capped: the bytes are checksummed,
                // but a length is still no reason to take gigabytes up front).
                let n = seq.size_hint().unwrap_or(0).min(1 << 20);
                out.keys.reserve(n);
                out.stamps.reserve(n);
                while let Some(f) = seq.next_element::<FileState>()? {
                    out.push(&f.key, f.stamp());
                }
                out.shrink_to_fit();
                Ok(out)
            }
        }
        d.deserialize_seq(Visit)
    }
}

/// A file's state without its key: what a run compares a discovered file with, and writes
/// beside the key it has at hand ([`FileStateRef`]), instead of a copy of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i64,
    /// The xxh3-128 hash as two halves: a `u128` would align the stamp to 16 bytes and make
    /// every file's outcome 80 bytes instead of 48.
    hash: [u64; 2],
    pub racy: bool,
}

impl FileStamp {
    pub fn new(size: u64, mtime_ns: i64, hash: u128, racy: bool) -> Self {
        FileStamp {
            size,
            mtime_ns,
            hash: [hash as u64, (hash >> 64) as u64],
            racy,
        }
    }

    pub fn hash(&self) -> u128 {
        self.hash[0] as u128 | (self.hash[1] as u128) << 64
    }
}

/// A [`FileState`] to write, its key borrowed or owned: serialized as the same bytes.
#[derive(Debug, Clone, Serialize)]
pub struct FileStateRef<'a> {
    pub key: std::borrow::Cow<'a, [u8]>,
    pub size: u64,
    pub mtime_ns: i64,
    pub hash: u128,
    pub racy: bool,
}

impl<'a> FileStateRef<'a> {
    pub fn new(key: &'a [u8], s: FileStamp) -> Self {
        FileStateRef {
            key: key.into(),
            size: s.size,
            mtime_ns: s.mtime_ns,
            hash: s.hash(),
            racy: s.racy,
        }
    }
}

#[cfg(test)]
impl<'a> From<&'a FileState> for FileStateRef<'a> {
    fn from(f: &'a FileState) -> Self {
        FileStateRef::new(&f.key, f.stamp())
    }
}

impl From<FileState> for FileStateRef<'_> {
    fn from(f: FileState) -> Self {
        FileStateRef {
            key: f.key.into(),
            size: f.size,
            mtime_ns: f.mtime_ns,
            hash: f.hash,
            racy: f.racy,
        }
    }
}

/// Files' states written to a spool file as a run finds them, and read back once when
/// `files.bin` is written: a run keeps nothing per file it looked at in memory. Each entry is
/// the bincode of a [`FileState`], as in `files.bin`.
pub struct StatesWriter {
    path: PathBuf,
    out: BufWriter<fs_err::File>,
    n: u64,
}

/// A finished [`StatesWriter`]: its file and number of entries.
#[derive(Debug)]
pub struct StatesFile {
    path: PathBuf,
    pub n: u64,
}

impl StatesWriter {
    pub fn create(path: PathBuf) -> Result<StatesWriter> {
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir)?;
        }
        let out = BufWriter::with_capacity(64 << 10, fs_err::File::create(&path)?);
        Ok(StatesWriter { path, out, n: 0 })
    }

    pub fn push(&mut self, key: &[u8], stamp: FileStamp) -> Result<()> {
        bincode::serde::encode_into_std_write(
            FileStateRef::new(key, stamp),
            &mut self.out,
            bincode_config(),
        )
        .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.n += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<StatesFile> {
        self.out
            .flush()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(StatesFile {
            path: self.path,
            n: self.n,
        })
    }
}

impl StatesFile {
    /// The states in the order written.
    pub fn read(&self) -> Result<impl Iterator<Item = Result<FileState>> + use<'_>> {
        let mut r = std::io::BufReader::with_capacity(64 << 10, fs_err::File::open(&self.path)?);
        Ok((0..self.n).map(move |_| {
            bincode::serde::decode_from_std_read(&mut r, bincode_config())
                .with_context(|| format!("cannot read {}", self.path.display()))
        }))
    }
}

/// One part file of the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartState {
    /// [`Table::index`].
    pub table: u8,
    pub date: Option<i32>,
    /// Path relative to the snapshot folder, `/`-separated.
    pub rel: String,
    pub rows: u64,
}

/// A sessions/participants_v2 page exported apart from its call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PageRef {
    pub file_key: Vec<u8>,
    /// The path as given on the command line of the run that read it.
    pub path: String,
    /// NDJSON line of the document, or `None` for the whole file.
    pub doc_line: Option<u64>,
    pub line: u64,
    pub column: Option<u64>,
    pub element: Option<u32>,
    /// 0 = sessions, 1 = participants_v2.
    pub kind: u8,
    pub call_id: String,
}

impl PageRef {
    pub fn loc(&self) -> DocLoc {
        match self.doc_line {
            Some(n) => DocLoc::Line(n),
            None => DocLoc::Whole,
        }
    }
    pub fn position(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
            element: self.element,
        }
    }
    pub fn kind(&self) -> PageKind {
        if self.kind == 0 {
            PageKind::Sessions
        } else {
            PageKind::Participants
        }
    }
}

/// A rejection of an earlier run, kept while its file is not read again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredError {
    pub file_key: Vec<u8>,
    pub path: String,
    pub position: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub element: Option<u32>,
    pub kind: String,
    pub call_id: Option<String>,
    pub reason: String,
}

impl StoredError {
    pub fn new(file_key: Vec<u8>, e: &ErrorEntry) -> Self {
        StoredError {
            file_key,
            path: e.path.clone(),
            position: e.position.clone(),
            line: e.line,
            column: e.column,
            element: e.element,
            kind: e.kind.to_owned(),
            call_id: e.call_id.clone(),
            reason: e.reason.clone(),
        }
    }

    pub fn entry(&self, file_index: u32) -> ErrorEntry {
        let kind = [
            "file",
            page_error_kind(PageKind::Sessions),
            page_error_kind(PageKind::Participants),
        ]
        .into_iter()
        .find(|k| *k == self.kind)
        .unwrap_or("record");
        ErrorEntry {
            path: self.path.clone(),
            position: self.position.clone(),
            line: self.line,
            column: self.column,
            element: self.element,
            kind,
            call_id: self.call_id.clone(),
            reason: self.reason.clone(),
            sort_key: (
                file_index,
                self.line.unwrap_or(0),
                self.element.unwrap_or(0),
            ),
        }
    }
}

/// The error `kind` of a rejected page: `sessions_page` or `participants_v2_page`.
pub fn page_error_kind(kind: PageKind) -> &'static str {
    match kind {
        PageKind::Sessions => "sessions_page",
        PageKind::Participants => "participants_v2_page",
    }
}

/// One call of the dataset (`calls.bin`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallState {
    pub id: Box<str>,
    pub version: i64,
    pub last_modified: i64,
    pub richness: u64,
    /// Partition date, days since 0001-01-01 (CE); `None` = the default partition.
    pub date: Option<i32>,
    pub call_type: Option<Box<str>>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub sessions: u32,
    pub session_ids: Vec<u64>,
    pub participants: u32,
    pub participant_ids: Vec<u64>,
    /// Pages merged into this call (read again when a newer version replaces it).
    pub pages: Vec<PageRef>,
}

pub fn date_to_days(d: Option<NaiveDate>) -> Option<i32> {
    d.map(|d| d.num_days_from_ce())
}

pub fn days_to_date(d: Option<i32>) -> Option<NaiveDate> {
    d.and_then(NaiveDate::from_num_days_from_ce_opt)
}

pub fn table_from_index(i: u8) -> Option<Table> {
    Table::ALL.get(i as usize).copied()
}

/// The state of the snapshot a run starts from.
pub struct Previous {
    pub dir: PathBuf,
    pub header: Header,
    pub files: FilesBody,
}

fn damaged(dir: &Path, why: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "the incremental state in {} is damaged or unreadable: {why}. Run again with --full to \
         rebuild the dataset from the inputs",
        dir.join(STATE_DIR).display()
    )
}

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

fn hex128(h: u128) -> String {
    format!("{h:032x}")
}

/// Reads and checks one body file against its header entry: the checksum first, in a pass
/// that holds nothing, then the decoding straight from the file (never the whole file in
/// memory beside what is decoded from it: `files.bin` has an entry per input file).
fn read_body<T: serde::de::DeserializeOwned>(dir: &Path, name: &str, info: &BodyInfo) -> Result<T> {
    use std::io::BufRead;
    let mut r = open_body(dir, name, info)?;
    let v = bincode::serde::decode_from_std_read(&mut r, bincode_config())
        .map_err(|e| damaged(dir, format!("{name}: {e}")))?;
    if !r
        .fill_buf()
        .map_err(|e| damaged(dir, format!("{name}: {e}")))?
        .is_empty()
    {
        return Err(damaged(dir, format!("{name} has trailing bytes")));
    }
    Ok(v)
}

/// The body file `name` of the snapshot in `dir`, for reading from its start, once its size
/// and checksum are those `info` gives (a damaged file is reported as such and never
/// decoded: a corrupt length could ask for any amount of memory).
fn open_body(dir: &Path, name: &str, info: &BodyInfo) -> Result<std::io::BufReader<std::fs::File>> {
    let path = dir.join(STATE_DIR).join(name);
    let io = |e: std::io::Error| damaged(dir, format!("{name}: {e}"));
    let file = std::fs::File::open(&path).map_err(io)?;
    let bytes = file.metadata().map_err(io)?.len();
    check_body(dir, name, info, bytes, hash_file(&path).map_err(io)?)?;
    Ok(std::io::BufReader::with_capacity(64 << 10, file))
}

/// Fails unless a body file of `bytes` bytes hashing to `hash` is the one the header describes.
fn check_body(dir: &Path, name: &str, info: &BodyInfo, bytes: u64, hash: u128) -> Result<()> {
    if bytes != info.bytes {
        let why = format!("{name} has {bytes} bytes, the header says {}", info.bytes);
        return Err(damaged(dir, why));
    }
    if hex128(hash) != info.xxh3_128 {
        return Err(damaged(dir, format!("{name} does not match its checksum")));
    }
    Ok(())
}

/// Loads the header and `files.bin` of the snapshot in `dir`, and checks that every part file
/// it lists is there and that the settings match `settings`.
pub fn load(dir: &Path, settings: &BTreeMap<String, String>) -> Result<Previous> {
    let hp = dir.join(STATE_DIR).join(HEADER);
    let text = std::fs::read_to_string(&hp).map_err(|e| damaged(dir, format!("{HEADER}: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| damaged(dir, format!("{HEADER}: {e}")))?;
    if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(damaged(dir, format!("{HEADER} is not a {FORMAT} header")));
    }
    match v.get("state_version").and_then(|f| f.as_u64()) {
        Some(n) if n == STATE_VERSION as u64 => {}
        Some(n) => {
            return Err(anyhow::anyhow!(
                "the incremental state in {} has format version {n}, this callrec ({}) reads \
                 version {STATE_VERSION}. Run again with --full to rebuild the dataset from the \
                 inputs",
                dir.join(STATE_DIR).display(),
                env!("CARGO_PKG_VERSION")
            ))
        }
        None => return Err(damaged(dir, format!("{HEADER} has no state_version"))),
    }
    let header: Header =
        serde_json::from_value(v).map_err(|e| damaged(dir, format!("{HEADER}: {e}")))?;
    let files: FilesBody = read_body(dir, FILES, &header.files_bin)?;
    for p in &files.parts {
        if table_from_index(p.table).is_none() || !dir.join(&p.rel).is_file() {
            return Err(damaged(dir, format!("part file {} is missing", p.rel)));
        }
    }
    if &header.settings != settings {
        let mut diffs = Vec::new();
        for k in header.settings.keys().chain(settings.keys()) {
            let (a, b) = (header.settings.get(k), settings.get(k));
            if a != b
                && !diffs
                    .iter()
                    .any(|d: &String| d.starts_with(&format!("{k}:")))
            {
                diffs.push(format!(
                    "{k}: dataset {}, this run {}",
                    a.map_or("(none)", |s| s.as_str()),
                    b.map_or("(none)", |s| s.as_str())
                ));
            }
        }
        bail!(
            "the dataset in {} was built with other settings ({}); its rows and this run's would \
             not match. Run again with --full to rebuild the whole dataset with the new \
             settings, or use the earlier ones",
            dir.parent().and_then(Path::parent).unwrap_or(dir).display(),
            diffs.join("; ")
        );
    }
    Ok(Previous {
        dir: dir.to_path_buf(),
        header,
        files,
    })
}

impl Previous {
    /// The calls of `calls.bin` whose id `keep` accepts, read one at a time. An incremental
    /// run needs only the calls its records and pages touch: loading all of them cost ~1 KB of
    /// memory per call in the dataset (120 MB for 190,000 calls) to add a few new files.
    pub fn load_calls_where(&self, keep: impl Fn(&str) -> bool) -> Result<Vec<CallState>> {
        let mut calls = self.calls_reader()?;
        let mut out = Vec::new();
        for c in &mut calls {
            let c = c?;
            if keep(&c.id) {
                out.push(c);
            }
        }
        calls.check_end()?;
        Ok(out)
    }

    /// All calls of `calls.bin`, in order, one at a time. The file is first checked against
    /// its size and checksum, so a damaged one is reported as such and never decoded (a
    /// corrupt length could ask for any amount of memory).
    pub fn calls_reader(&self) -> Result<CallsReader> {
        self.seq_reader(CALLS, &self.header.calls_bin)
    }

    /// The files of `files.bin` with their keys, in order, one at a time (in memory a run
    /// keeps only their key hashes: [`FileStates`]). The file is checked against its size and
    /// checksum again, and must list as many files as when it was loaded.
    pub fn files_reader(&self) -> Result<SeqReader<FileState>> {
        let files: SeqReader<FileState> = self.seq_reader(FILES, &self.header.files_bin)?;
        if files.left != self.files.files.len() as u64 {
            return Err(damaged(
                &self.dir,
                format!(
                    "{FILES} lists {} files, {} when it was loaded",
                    files.left,
                    self.files.files.len()
                ),
            ));
        }
        Ok(files)
    }

    /// A reader of the sequence body file `name` starts with (`calls.bin` is one, `files.bin`
    /// starts with its files), after checking the file against `info`.
    fn seq_reader<T>(&self, name: &'static str, info: &BodyInfo) -> Result<SeqReader<T>> {
        let mut r = open_body(&self.dir, name, info)?;
        // bincode writes a sequence as its length, then the items.
        let left: u64 = bincode::decode_from_std_read(&mut r, bincode_config())
            .map_err(|e| damaged(&self.dir, format!("{name}: {e}")))?;
        Ok(SeqReader {
            dir: self.dir.clone(),
            name,
            r,
            left,
            items: std::marker::PhantomData,
        })
    }

    /// Path of `calls.bin`, to link it unchanged into the next snapshot.
    pub fn calls_path(&self) -> PathBuf {
        self.dir.join(STATE_DIR).join(CALLS)
    }
}

/// The items of a state body's sequence, decoded one at a time ([`Previous::calls_reader`],
/// [`Previous::files_reader`]). After an error it ends.
pub struct SeqReader<T> {
    dir: PathBuf,
    name: &'static str,
    r: std::io::BufReader<std::fs::File>,
    left: u64,
    items: std::marker::PhantomData<T>,
}

/// The calls of a `calls.bin`.
pub type CallsReader = SeqReader<CallState>;

impl<T> SeqReader<T> {
    /// After the last item of a file that is only the sequence (`calls.bin`): fails unless
    /// the file ended there.
    pub fn check_end(mut self) -> Result<()> {
        let mut rest = Vec::new();
        self.r
            .read_to_end(&mut rest)
            .map_err(|e| damaged(&self.dir, format!("{}: {e}", self.name)))?;
        if self.left > 0 || !rest.is_empty() {
            return Err(damaged(
                &self.dir,
                format!("{} has trailing bytes", self.name),
            ));
        }
        Ok(())
    }
}

impl<T: serde::de::DeserializeOwned> Iterator for SeqReader<T> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let c = bincode::serde::decode_from_std_read(&mut self.r, bincode_config())
            .map_err(|e| damaged(&self.dir, format!("{}: {e}", self.name)));
        if c.is_err() {
            self.left = 0;
        }
        Some(c)
    }
}

/// Serializes an iterator of known length as a sequence (the bytes of a `Vec` of it), once.
/// The last field names the items in the error when their number differs.
struct SeqOnce<I>(std::cell::RefCell<Option<I>>, u64, &'static str);

impl<I> SeqOnce<I> {
    fn new(items: I, count: u64, what: &'static str) -> Self {
        SeqOnce(std::cell::RefCell::new(Some(items)), count, what)
    }
}

impl<I: Iterator<Item = Result<T>>, T: Serialize> Serialize for SeqOnce<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let items = self
            .0
            .borrow_mut()
            .take()
            .ok_or_else(|| S::Error::custom("serialized twice"))?;
        let mut seq = s.serialize_seq(Some(self.1 as usize))?;
        let mut n = 0u64;
        for item in items {
            let item = item.map_err(|e| S::Error::custom(format_args!("{e:#}")))?;
            seq.serialize_element(&item)?;
            n += 1;
        }
        if n != self.1 {
            return Err(S::Error::custom(format_args!(
                "{n} {}, {} announced",
                self.2, self.1
            )));
        }
        seq.end()
    }
}

/// Writes `value` as bincode to `path` (fsynced) and returns its size and checksum.
fn write_body<T: Serialize>(path: &Path, value: &T) -> Result<BodyInfo> {
    struct Hashing<W> {
        inner: W,
        hash: Xxh3Default,
        bytes: u64,
    }
    impl<W: Write> Write for Hashing<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.hash.update(&buf[..n]);
            self.bytes += n as u64;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    let file = fs_err::File::create(path)?;
    let mut w = Hashing {
        inner: BufWriter::with_capacity(1 << 20, file),
        hash: Xxh3Default::new(),
        bytes: 0,
    };
    bincode::serde::encode_into_std_write(value, &mut w, bincode_config())
        .with_context(|| format!("cannot write {}", path.display()))?;
    w.flush()?;
    let info = BodyInfo {
        bytes: w.bytes,
        xxh3_128: hex128(w.hash.digest128()),
    };
    w.inner
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(info)
}

/// What `files.bin` is written from: the files' states as they come, borrowed from wherever
/// the run keeps them (never collected into a second list of every file), then the rest of
/// the body. Written as the same bytes as a [`FilesBody`] of the same content.
pub struct FilesOut<'a> {
    pub files: Box<dyn Iterator<Item = Result<FileStateRef<'a>>> + 'a>,
    /// The number of `files`; a different number fails the write.
    pub count: u64,
    pub parts: Vec<PartState>,
    pub pending_pages: Vec<PageRef>,
    pub errors: Vec<StoredError>,
}

/// The serialized form of [`FilesBody`], with the files as a sequence written once.
#[derive(Serialize)]
#[serde(bound(serialize = "SeqOnce<I>: Serialize"))]
struct FilesBodyOut<'x, I> {
    files: SeqOnce<I>,
    parts: &'x [PartState],
    pending_pages: &'x [PageRef],
    errors: &'x [StoredError],
}

/// What is written into a new snapshot's `_state/`.
pub struct NewState<'a> {
    pub generation: u64,
    pub settings: BTreeMap<String, String>,
    pub next_part_id: u32,
    pub files: FilesOut<'a>,
    /// The call index, or the previous snapshot's `calls.bin` to link unchanged.
    pub calls: CallsSource<'a>,
}

pub enum CallsSource<'a> {
    /// The calls and their number, written as they come (never all in memory a second time);
    /// an error (reading the previous state's calls) fails the write.
    New(Box<dyn Iterator<Item = Result<CallState>> + 'a>, u64),
    Unchanged {
        path: PathBuf,
        info: BodyInfo,
        count: u64,
    },
}

/// Writes `_state/` into the snapshot folder `dir` (files fsynced; the caller fsyncs folders).
pub fn save(dir: &Path, s: NewState) -> Result<()> {
    let sd = dir.join(STATE_DIR);
    fs_err::create_dir_all(&sd)?;
    let f = s.files;
    let files_body = FilesBodyOut {
        files: SeqOnce::new(f.files, f.count, "files"),
        parts: &f.parts,
        pending_pages: &f.pending_pages,
        errors: &f.errors,
    };
    let files_bin = write_body(&sd.join(FILES), &files_body)?;
    let (calls_bin, calls) = match s.calls {
        CallsSource::New(calls, n) => {
            let seq = SeqOnce::new(calls, n, "calls");
            (write_body(&sd.join(CALLS), &seq)?, n)
        }
        CallsSource::Unchanged { path, info, count } => {
            crate::sink::publish::link_or_copy(&path, &sd.join(CALLS))?;
            (info, count)
        }
    };
    let header = Header {
        format: FORMAT.to_owned(),
        state_version: STATE_VERSION,
        generation: s.generation,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        written_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        settings: s.settings,
        next_part_id: s.next_part_id,
        files: f.count,
        calls,
        parts: f.parts.len() as u64,
        pending_pages: f.pending_pages.len() as u64,
        errors: f.errors.len() as u64,
        files_bin,
        calls_bin,
    };
    let hp = sd.join(HEADER);
    let mut f = fs_err::File::create(&hp)?;
    f.write_all((serde_json::to_string_pretty(&header)? + "\n").as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// The key of an input file in the state: its absolute path as OS bytes.
pub fn file_key(path: &Path) -> Vec<u8> {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    abs.as_os_str().as_encoded_bytes().to_vec()
}

/// Size and modification time of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    pub size: u64,
    pub mtime_ns: i64,
}

pub fn file_meta(path: &Path) -> std::io::Result<FileMeta> {
    let m = std::fs::metadata(path)?;
    let mtime_ns = m
        .modified()
        .ok()
        .and_then(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_nanos() as i64)
        })
        .unwrap_or(0);
    Ok(FileMeta {
        size: m.len(),
        mtime_ns,
    })
}

/// Whether a file modified at `mtime_ns` may still change within the same timestamp.
pub fn is_racy(mtime_ns: i64) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(i64::MAX);
    now - mtime_ns < 2_000_000_000
}

/// xxh3-128 of a file's bytes.
pub fn hash_file(path: &Path) -> std::io::Result<u128> {
    // One buffer per thread: a zeroed 1 MiB buffer per file was 5% of a full run's CPU
    // (13,000 files of the benchmark archive), and a BufReader in front of it only copied twice.
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 256 << 10]);
    }
    let mut f = std::fs::File::open(path)?;
    let mut h = Xxh3Default::new();
    BUF.with_borrow_mut(|buf| {
        loop {
            let n = f.read(buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    })?;
    Ok(h.digest128())
}

/// The content hash of a file already in memory (the same as [`hash_file`] of it).
pub fn hash_bytes(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// xxh3-64 of an item id: stable across builds and Rust versions (persisted in `calls.bin`).
pub fn id_hash(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> BTreeMap<String, String> {
        BTreeMap::from([("quality_profile".to_owned(), "cqd-current".to_owned())])
    }

    /// A `files.bin` to write, with the keys (the fields of [`FilesBody`], in its order).
    #[derive(Clone, Serialize)]
    struct Body {
        files: Vec<FileState>,
        parts: Vec<PartState>,
        pending_pages: Vec<PageRef>,
        errors: Vec<StoredError>,
    }

    impl Body {
        fn out(&self) -> FilesOut<'_> {
            FilesOut {
                files: Box::new(self.files.iter().map(|f| Ok(f.into()))),
                count: self.files.len() as u64,
                parts: self.parts.clone(),
                pending_pages: self.pending_pages.clone(),
                errors: self.errors.clone(),
            }
        }
    }

    fn sample() -> (Body, Vec<CallState>) {
        let files = Body {
            files: vec![FileState {
                key: b"/a/b.json".to_vec(),
                size: 10,
                mtime_ns: 5,
                hash: 77,
                racy: false,
            }],
            parts: vec![],
            pending_pages: vec![],
            errors: vec![],
        };
        let calls = vec![CallState {
            id: "c1".into(),
            version: 2,
            last_modified: 3,
            richness: 4,
            date: Some(700_000),
            call_type: Some("groupCall".into()),
            start: Some(1),
            end: None,
            sessions: 2,
            session_ids: vec![1, 2],
            participants: 0,
            participant_ids: vec![],
            pages: vec![],
        }];
        (files, calls)
    }

    fn write(dir: &Path) {
        let (files, calls) = sample();
        save(
            dir,
            NewState {
                generation: 3,
                settings: settings(),
                next_part_id: 9,
                files: files.out(),
                calls: CallsSource::New(Box::new(calls.into_iter().map(Ok)), 1),
            },
        )
        .unwrap();
    }

    #[test]
    fn calls_are_read_one_at_a_time_and_copied_into_the_next_state() {
        let (files, one) = sample();
        let calls: Vec<CallState> = (0..300)
            .map(|i| CallState {
                id: format!("c{i}").into(),
                version: i,
                ..one[0].clone()
            })
            .collect();
        let save_calls = |dir: &Path, calls: Box<dyn Iterator<Item = Result<CallState>>>, n| {
            let state = NewState {
                generation: 3,
                settings: settings(),
                next_part_id: 9,
                files: files.out(),
                calls: CallsSource::New(calls, n),
            };
            save(dir, state).unwrap();
            load(dir, &settings()).unwrap()
        };
        let d1 = tempfile::tempdir().unwrap();
        let p = save_calls(d1.path(), Box::new(calls.clone().into_iter().map(Ok)), 300);
        let sevens = p.load_calls_where(|id| id.ends_with('7')).unwrap();
        let ids: Vec<&str> = sevens.iter().map(|c| &*c.id).collect();
        assert_eq!(ids.len(), 30);
        assert_eq!((ids[0], ids[29]), ("c7", "c297"));
        assert_eq!(sevens[1].version, 17);
        // The next state: the untouched calls streamed from this one, plus a replaced call.
        let untouched = p
            .calls_reader()
            .unwrap()
            .filter(|c| c.as_ref().map_or(true, |c| &*c.id != "c5"));
        let newer = CallState {
            version: 1000,
            ..calls[5].clone()
        };
        let d2 = tempfile::tempdir().unwrap();
        let q = save_calls(d2.path(), Box::new(untouched.chain([Ok(newer)])), 300);
        let all = q.load_calls_where(|_| true).unwrap();
        assert_eq!(all.len(), 300);
        assert_eq!(all[4].id.as_ref(), "c4");
        assert_eq!((all[299].id.as_ref(), all[299].version), ("c5", 1000));
        assert_eq!(all.iter().filter(|c| &*c.id == "c5").count(), 1);
        // An announced count that the calls do not match fails the write.
        let d3 = tempfile::tempdir().unwrap();
        let state = NewState {
            generation: 3,
            settings: settings(),
            next_part_id: 9,
            files: files.out(),
            calls: CallsSource::New(Box::new(calls.into_iter().take(2).map(Ok)), 3),
        };
        let e = format!("{:#}", save(d3.path(), state).unwrap_err());
        assert!(e.contains("2 calls, 3 announced"), "{e}");
    }

    #[test]
    fn files_written_as_they_come_are_the_bytes_of_the_body() {
        let (mut files, calls) = sample();
        files.files.push(FileState {
            key: b"/a/c.json.gz".to_vec(),
            size: 11,
            mtime_ns: 6,
            hash: 78,
            racy: true,
        });
        files.parts.push(PartState {
            table: 4,
            date: Some(739_000),
            rel: "streams/date=2026-11-27/part-000001.parquet".into(),
            rows: 12,
        });
        let save_with = |dir: &Path, out: FilesOut| {
            let state = NewState {
                generation: 3,
                settings: settings(),
                next_part_id: 9,
                files: out,
                calls: CallsSource::New(Box::new(calls.clone().into_iter().map(Ok)), 1),
            };
            save(dir, state)
        };
        let d = tempfile::tempdir().unwrap();
        // The states from two places, as a run passes them: borrowed, and read back from a
        // spool file.
        let mut w = StatesWriter::create(d.path().join("spool/0.bin")).unwrap();
        w.push(&files.files[1].key, files.files[1].stamp()).unwrap();
        let spooled = w.finish().unwrap();
        assert_eq!(spooled.n, 1);
        let out = FilesOut {
            files: Box::new(
                files.files[..1]
                    .iter()
                    .map(|f| Ok(f.into()))
                    .chain(spooled.read().unwrap().map(|f| f.map(Into::into))),
            ),
            count: 2,
            ..files.out()
        };
        save_with(d.path(), out).unwrap();
        let written = std::fs::read(d.path().join(STATE_DIR).join(FILES)).unwrap();
        let part = d.path().join(&files.parts[0].rel);
        std::fs::create_dir_all(part.parent().unwrap()).unwrap();
        std::fs::write(part, b"").unwrap();
        let body = bincode::serde::encode_to_vec(&files, bincode_config()).unwrap();
        assert_eq!(written, body);
        let p = load(d.path(), &settings()).unwrap();
        assert_eq!((p.header.files, p.header.parts), (2, 1));
        assert_eq!(p.files.files.key_hash(1), key_hash(b"/a/c.json.gz"));
        assert_eq!(p.files.files.stamp(1), FileStamp::new(11, 6, 78, true));
        // The keys are read again from the file, in order.
        let again: Vec<FileState> = p.files_reader().unwrap().map(|f| f.unwrap()).collect();
        let keys: Vec<&[u8]> = again.iter().map(|f| f.key.as_slice()).collect();
        assert_eq!(keys, [b"/a/b.json".as_slice(), b"/a/c.json.gz"]);
        assert_eq!(again[1].stamp(), FileStamp::new(11, 6, 78, true));
        // A files.bin changed since it was loaded is not read.
        let fb = d.path().join(STATE_DIR).join(FILES);
        let mut b = std::fs::read(&fb).unwrap();
        b[3] ^= 1;
        std::fs::write(&fb, b).unwrap();
        let e = p.files_reader().err().unwrap().to_string();
        assert!(e.contains("files.bin does not match its checksum"), "{e}");
        // A count the states do not match fails the write.
        let d2 = tempfile::tempdir().unwrap();
        let out = FilesOut {
            count: 3,
            ..files.out()
        };
        let e = format!("{:#}", save_with(d2.path(), out).unwrap_err());
        assert!(e.contains("2 files, 3 announced"), "{e}");
    }

    #[test]
    fn hash_of_bytes_in_memory_equals_hash_of_the_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        // Over one 256 KiB read buffer and not a multiple of any block size.
        let bytes: Vec<u8> = (0..700_001u32).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(hash_bytes(&bytes), hash_file(&p).unwrap());
        assert_ne!(hash_bytes(&bytes[1..]), hash_file(&p).unwrap());
    }

    #[test]
    fn round_trip() {
        let d = tempfile::tempdir().unwrap();
        write(d.path());
        let p = load(d.path(), &settings()).unwrap();
        assert_eq!(p.header.generation, 3);
        assert_eq!(p.header.next_part_id, 9);
        assert_eq!(p.files.files.stamp(0).hash(), 77);
        let calls = p.load_calls_where(|_| true).unwrap();
        assert_eq!(calls[0].session_ids, vec![1, 2]);
        assert_eq!(calls[0].id.as_ref(), "c1");
    }

    #[test]
    fn damage_and_unknown_versions_are_reported() {
        let d = tempfile::tempdir().unwrap();
        write(d.path());
        let calls = d.path().join(STATE_DIR).join(CALLS);
        let mut b = std::fs::read(&calls).unwrap();
        b[0] ^= 0xff;
        std::fs::write(&calls, b).unwrap();
        let p = load(d.path(), &settings()).unwrap();
        let e = p.load_calls_where(|_| true).unwrap_err().to_string();
        assert!(e.contains("checksum") && e.contains("--full"), "{e}");

        let hp = d.path().join(STATE_DIR).join(HEADER);
        let h = std::fs::read_to_string(&hp).unwrap();
        std::fs::write(
            &hp,
            h.replace("\"state_version\": 1", "\"state_version\": 99"),
        )
        .unwrap();
        let e = load(d.path(), &settings()).err().unwrap().to_string();
        assert!(
            e.contains("format version 99") && e.contains("--full"),
            "{e}"
        );

        std::fs::write(&hp, "{not json").unwrap();
        let e = load(d.path(), &settings()).err().unwrap().to_string();
        assert!(e.contains("damaged") && e.contains("--full"), "{e}");
    }

    #[test]
    fn other_settings_are_refused() {
        let d = tempfile::tempdir().unwrap();
        write(d.path());
        let mut other = settings();
        other.insert("quality_profile".into(), "cqd-legacy-5metric".into());
        let e = load(d.path(), &other).err().unwrap().to_string();
        assert!(
            e.contains("quality_profile: dataset cqd-current, this run cqd-legacy-5metric")
                && e.contains("--full"),
            "{e}"
        );
    }
}
