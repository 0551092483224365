//! The `flatten` job: discover → decode → flatten → sink, in parallel, with exact accounting.
//!
//! Phase 1: `threads` workers take files from contiguous shares of the input list
//! ([`crate::queue`]) and each fills its own [`PartitionedWriter`], duplicate index, error list
//! and counters: no lock or channel per record. A worker that meets a call id again keeps the
//! higher `version` (then the later `lastModifiedDateTime`, then the record with more nested
//! items, then the earlier input position) and remembers the row spans of the loser. Phase 2
//! resolves ids found by several workers the same way (the indexes stay apart as shards of a
//! `CallIndex`), so the winner does not depend on the thread count. Phase 3 merges sessions/participants_v2 pages exported apart from their call.
//! Phase 4 rewrites only the part files that hold superseded rows (none for a duplicate-free
//! archive, so deduplication costs one hash-map insert per record). Then the manifest and error
//! report are written and the staging folder is published.
//!
//! Incremental runs (see [`crate::incremental`], [`crate::state`], [`publish`]): the run holds the
//! output folder's lock, starts from the state of the current snapshot, and reads only new and
//! changed files. After phase 2 its winners are compared with the calls already in the dataset
//! by the same rule ([`wins`]); a record not newer than the dataset's version is superseded, a
//! newer one replaces it. Phase 3 also merges pages into calls of the dataset, retries pages that
//! still wait for their call, and merges again the pages of replaced calls. Phase 4 then builds
//! the new snapshot: the previous snapshot's part files are hard-linked, except those holding
//! replaced calls, which are rewritten without them under new names.

use crate::crashpoint::crash_point;
use crate::decode::model::{CallRecord, Participant, Session};
use crate::decode::scalar::Str;
use crate::decode::{self, DocLoc, FileError, Item, Limits, PageKind, Position};
use crate::discover::{self, InputFile};
use crate::flatten::{self, rows::CallCtx};
use crate::incremental::{self, FileOutcome, FileStatus};
use crate::lock::Lock;
use crate::manifest::*;
use crate::schema::Table;
use crate::sink::publish::{self, Rewrite, Staging};
use crate::sink::{PartFile, PartitionedWriter, RecordSpans, RowSpan, SinkConfig};
use crate::state::{self, CallState, CallsSource, FilesBody, PageRef, PartState, StoredError};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Everything `flatten` needs, resolved once from the command line.
#[derive(Debug, Clone)]
pub struct FlattenConfig {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub threads: usize,
    pub limits: Limits,
    pub progress: bool,
    /// CQD building file for the `streams` `*_building_*` columns (`--buildings`).
    pub buildings: Option<PathBuf>,
    /// Stream classification rules for `streams.quality` (`--quality-profile`).
    pub quality_profile: crate::quality::Profile,
    /// Parquet compression (`--compression`).
    pub compression: crate::sink::Codec,
    /// What columns that identify a person get (`--pii`, `--pii-salt`).
    pub pii: crate::pii::PiiPolicy,
    /// Rebuild the dataset from all inputs, ignoring the incremental state (`--full`).
    pub full: bool,
}

/// The number of CPU cores: the default `--threads`.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl FlattenConfig {
    /// A config with the command line's defaults (all cores, zstd, current CQD rules, no
    /// building file, no progress bar).
    pub fn new(inputs: Vec<PathBuf>, out: PathBuf) -> Self {
        FlattenConfig {
            inputs,
            out,
            threads: default_threads(),
            limits: Limits::default(),
            progress: false,
            buildings: None,
            quality_profile: Default::default(),
            compression: Default::default(),
            pii: Default::default(),
            full: false,
        }
    }
}

/// What the run needs to know about a written call to merge child pages into it later.
#[derive(Debug, Clone, Default)]
struct CallSummary {
    /// Graph's values borrow a static string: one allocation less per call in the index.
    call_type: Option<Cow<'static, str>>,
    start: Option<i64>,
    end: Option<i64>,
    date: Option<NaiveDate>,
    sessions: u32,
    session_ids: Vec<u64>,
    participants: u32,
    participant_ids: Vec<u64>,
}

#[derive(Debug, Clone)]
struct IndexEntry {
    version: i64,
    last_modified: i64,
    /// Nested items in the record: on a (version, lastModified) tie the fuller export wins.
    richness: u64,
    /// Input order: (file index, item number in the file).
    order: (u32, u64),
    spans: RecordSpans,
    summary: CallSummary,
    incomplete_sessions: bool,
    incomplete_participants: bool,
    /// Pages exported apart from the call that were merged into it.
    pages: Vec<PageRef>,
}

/// The winner rule: whether a record with `(version, lastModified, richness)` `a` at input
/// position `a_order` replaces one with `b` at `b_order`. Higher version, then later
/// lastModifiedDateTime, then more nested items, then the earlier input position wins. A call
/// already in the dataset has position (0, 0): on a complete tie it stays.
pub(crate) fn wins(
    a: (i64, i64, u64),
    a_order: (u32, u64),
    b: (i64, i64, u64),
    b_order: (u32, u64),
) -> bool {
    a.cmp(&b).then(b_order.cmp(&a_order)).is_gt()
}

impl IndexEntry {
    fn key(&self) -> (i64, i64, u64) {
        (self.version, self.last_modified, self.richness)
    }

    /// Whether `self` replaces `other` as the version of the call to keep.
    fn beats(&self, other: &IndexEntry) -> bool {
        wins(self.key(), self.order, other.key(), other.order)
    }

    /// Whether `self` replaces the version `old` already in the dataset.
    fn beats_dataset(&self, old: &CallState) -> bool {
        wins(
            self.key(),
            self.order,
            (old.version, old.last_modified, old.richness),
            (0, 0),
        )
    }

    fn into_state(self, id: Box<str>) -> CallState {
        let s = self.summary;
        CallState {
            id,
            version: self.version,
            last_modified: self.last_modified,
            richness: self.richness,
            date: state::date_to_days(s.date),
            call_type: s.call_type.map(|t| t.into_owned().into_boxed_str()),
            start: s.start,
            end: s.end,
            sessions: s.sessions,
            session_ids: s.session_ids,
            participants: s.participants,
            participant_ids: s.participant_ids,
            pages: self.pages,
        }
    }
}

/// The calls of one worker: ids map to slots in fixed-size chunks of entries.
///
/// The entries live outside the hash table so that its spare buckets cost a key and a slot
/// (24 bytes), not a whole entry (about 250): the table is kept at most 7/8 full and doubles
/// when it fills. Chunks are never reallocated, so no freed block is left behind as the index
/// grows among the sink's short-lived buffers.
#[derive(Default)]
struct Shard {
    slots: HashMap<Box<str>, u32>,
    chunks: Vec<Vec<Option<IndexEntry>>>,
}

/// Entries per chunk of a [`Shard`] (about 256 KB).
const SHARD_CHUNK: usize = 1024;

impl Shard {
    fn at(&self, slot: u32) -> &Option<IndexEntry> {
        let i = slot as usize;
        &self.chunks[i / SHARD_CHUNK][i % SHARD_CHUNK]
    }

    fn at_mut(&mut self, slot: u32) -> &mut Option<IndexEntry> {
        let i = slot as usize;
        &mut self.chunks[i / SHARD_CHUNK][i % SHARD_CHUNK]
    }

    fn len(&self) -> usize {
        self.slots.len()
    }

    fn get(&self, id: &str) -> Option<&IndexEntry> {
        self.slots.get(id).and_then(|&s| self.at(s).as_ref())
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut IndexEntry> {
        let slot = *self.slots.get(id)?;
        self.at_mut(slot).as_mut()
    }

    /// Sets the entry of `id` and returns the one it replaces.
    fn insert(&mut self, id: &str, e: IndexEntry) -> Option<IndexEntry> {
        if let Some(&slot) = self.slots.get(id) {
            return self.at_mut(slot).replace(e);
        }
        let used: usize = self.chunks.iter().map(Vec::len).sum();
        let slot = u32::try_from(used).expect("fewer than 2^32 calls per worker");
        match self.chunks.last_mut() {
            Some(c) if c.len() < SHARD_CHUNK => c.push(Some(e)),
            _ => {
                let mut c = Vec::with_capacity(SHARD_CHUNK);
                c.push(Some(e));
                self.chunks.push(c);
            }
        }
        self.slots.insert(id.into(), slot);
        None
    }

    fn remove(&mut self, id: &str) -> Option<IndexEntry> {
        let slot = self.slots.remove(id)?;
        self.at_mut(slot).take()
    }

    fn iter(&self) -> impl Iterator<Item = (&Box<str>, &IndexEntry)> {
        self.slots
            .iter()
            .filter_map(|(id, &s)| self.at(s).as_ref().map(|e| (id, e)))
    }

    fn into_entries(mut self) -> impl Iterator<Item = (Box<str>, IndexEntry)> {
        let slots = std::mem::take(&mut self.slots);
        slots
            .into_iter()
            .filter_map(move |(id, s)| self.at_mut(s).take().map(|e| (id, e)))
    }
}

/// The calls of this run: the workers' indexes kept apart (merging them into one map would
/// hold two copies of the largest while the table grows). An id is in at most one shard.
#[derive(Default)]
struct CallIndex {
    shards: Vec<Shard>,
}

impl CallIndex {
    /// Adds a worker's index: of two versions of a call the loser is dropped, its rows go to
    /// `tombstones` and it counts as superseded.
    fn add_shard(&mut self, mut shard: Shard, superseded: &mut u64, tombstones: &mut Vec<RowSpan>) {
        let mut losers: Vec<Box<str>> = Vec::new();
        for (id, e) in shard.iter() {
            for other in self.shards.iter_mut() {
                if let Some(o) = other.get(id) {
                    *superseded += 1;
                    if e.beats(o) {
                        tombstones.extend(o.spans.iter().flatten());
                        other.remove(id);
                    } else {
                        tombstones.extend(e.spans.iter().flatten());
                        losers.push(id.clone());
                    }
                    break;
                }
            }
        }
        for id in losers {
            shard.remove(&id);
        }
        self.shards.push(shard);
    }

    fn len(&self) -> usize {
        self.shards.iter().map(Shard::len).sum()
    }

    fn iter(&self) -> impl Iterator<Item = (&Box<str>, &IndexEntry)> {
        self.shards.iter().flat_map(Shard::iter)
    }

    fn values(&self) -> impl Iterator<Item = &IndexEntry> {
        self.iter().map(|(_, e)| e)
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut IndexEntry> {
        self.shards.iter_mut().find_map(|s| s.get_mut(id))
    }

    fn remove(&mut self, id: &str) -> Option<IndexEntry> {
        self.shards.iter_mut().find_map(|s| s.remove(id))
    }

    fn into_entries(self) -> impl Iterator<Item = (Box<str>, IndexEntry)> {
        self.shards.into_iter().flat_map(Shard::into_entries)
    }
}

/// Takes what merging a page needs out of a dataset call (put it back with [`put_summary`]).
fn take_summary(c: &mut CallState) -> CallSummary {
    CallSummary {
        call_type: c.call_type.as_deref().map(call_type),
        start: c.start,
        end: c.end,
        date: state::days_to_date(c.date),
        sessions: c.sessions,
        session_ids: std::mem::take(&mut c.session_ids),
        participants: c.participants,
        participant_ids: std::mem::take(&mut c.participant_ids),
    }
}

fn put_summary(c: &mut CallState, s: CallSummary) {
    c.sessions = s.sessions;
    c.session_ids = s.session_ids;
    c.participants = s.participants;
    c.participant_ids = s.participant_ids;
}

/// Where a page to merge comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Read by this run.
    Run,
    /// Waiting for its call since an earlier run.
    Retry,
    /// Merged into a call that a newer version of this run replaces.
    Remerge,
}

struct PendingPage {
    file: u32,
    loc: DocLoc,
    position: Position,
    kind: PageKind,
    call_id: String,
    origin: Origin,
}

impl PendingPage {
    fn to_ref(&self, file: &InputFile, key: &[u8]) -> PageRef {
        PageRef {
            file_key: key.to_vec(),
            path: file.path.display().to_string(),
            doc_line: match self.loc {
                DocLoc::Whole => None,
                DocLoc::Line(n) => Some(n),
            },
            line: self.position.line,
            column: self.position.column,
            element: self.position.element,
            kind: self.kind as u8,
            call_id: self.call_id.clone(),
        }
    }
}

#[derive(Default)]
struct Counts {
    files: FileCounts,
    records: RecordCounts,
    pages: [PageCounts; 2],
}

/// A finished worker and its part files.
type WorkerResult<'c> = Result<(Worker<'c>, Vec<PartFile>)>;

/// One worker's state (phase 1).
struct Worker<'c> {
    writer: PartitionedWriter<'c>,
    index: Shard,
    tombstones: Vec<RowSpan>,
    pages: Vec<PendingPage>,
    errors: Vec<ErrorEntry>,
    counts: Counts,
    quality: &'c crate::quality::Context,
    /// Read buffers reused across this worker's files: a plain file's bytes as read, and the
    /// text of a decompressed or streamed one.
    raw_buf: Vec<u8>,
    read_buf: Vec<u8>,
    /// What became of each file this worker looked at.
    outcomes: Vec<FileOutcome>,
}

fn error_entry(
    file: &InputFile,
    pos: Option<Position>,
    kind: &'static str,
    call_id: Option<String>,
    reason: String,
) -> ErrorEntry {
    let path = file.path.display().to_string();
    error_at(path, file.index, pos, kind, call_id, reason)
}

/// An error entry for `path`, sorted as if in the input file `file_index` (`pos`: `None` for
/// the whole file).
fn error_at(
    path: String,
    file_index: u32,
    pos: Option<Position>,
    kind: &'static str,
    call_id: Option<String>,
    reason: String,
) -> ErrorEntry {
    let p = pos.unwrap_or_default();
    ErrorEntry {
        path,
        position: pos
            .map(|p| p.to_string())
            .unwrap_or_else(|| "file".to_owned()),
        line: (p.line > 0).then_some(p.line),
        column: p.column,
        element: p.element,
        kind,
        call_id,
        reason,
        sort_key: (file_index, p.line, p.element.unwrap_or(0)),
    }
}

impl<'c> Worker<'c> {
    /// Reads one file. Returns false when it could not be read (an I/O error): the next
    /// incremental run tries it again.
    fn process_file(
        &mut self,
        file: &InputFile,
        raw: Option<&[u8]>,
        limits: &Limits,
    ) -> Result<bool> {
        let path = file.path.display().to_string();
        let mut item_no = 0u64;
        let mut fatal: Option<anyhow::Error> = None;
        let mut buf = std::mem::take(&mut self.read_buf);
        let on_doc = |doc: decode::Doc<'_>, loc: DocLoc| {
            let base_line = match loc {
                DocLoc::Whole => 1,
                DocLoc::Line(n) => n,
            };
            decode::decode_doc(doc, base_line, |item, pos| {
                item_no += 1;
                if fatal.is_none() {
                    if let Err(e) = self.handle(file, &path, loc, (file.index, item_no), item, pos)
                    {
                        fatal = Some(e);
                    }
                }
            })
        };
        let res = match raw {
            Some(raw) => decode::documents_in(file, raw, limits, &mut buf, on_doc),
            None => decode::read_documents_into(file, limits, &mut buf, on_doc),
        };
        // Keep the buffer for the next file unless one huge file inflated it.
        if buf.capacity() <= 64 << 20 {
            self.read_buf = buf;
        }
        if let Some(e) = fatal {
            return Err(e);
        }
        let readable = !matches!(res, Err(FileError::Io(_)));
        match res {
            Ok(()) => {
                self.counts.files.read += 1;
                self.counts.files.bytes_read += file.size;
            }
            Err(e) => {
                if !matches!(e, FileError::Io(_)) || item_no > 0 {
                    self.counts.files.read += 1;
                    self.counts.files.bytes_read += file.size;
                }
                self.counts.files.rejected += 1;
                self.counts.records.read += 1;
                self.counts.records.rejected += 1;
                let reason = if item_no > 0 {
                    format!("{e} (after {item_no} items of this file were read)")
                } else {
                    e.to_string()
                };
                self.errors
                    .push(error_entry(file, None, "file", None, reason));
            }
        }
        Ok(readable)
    }

    fn handle(
        &mut self,
        file: &InputFile,
        path: &str,
        loc: DocLoc,
        order: (u32, u64),
        item: Item,
        pos: Position,
    ) -> Result<()> {
        match item {
            Item::Rejected(reason) => {
                self.counts.records.read += 1;
                self.counts.records.rejected += 1;
                self.errors
                    .push(error_entry(file, Some(pos), "record", None, reason));
            }
            Item::ChildPage { kind, call_id, .. } => {
                self.counts.pages[kind as usize].read += 1;
                self.pages.push(PendingPage {
                    file: file.index,
                    loc,
                    position: pos,
                    kind,
                    call_id,
                    origin: Origin::Run,
                });
            }
            Item::Record(rec) => {
                self.counts.records.read += 1;
                let Some(id) = rec
                    .id
                    .as_ref()
                    .map(|s| s.as_str())
                    .filter(|s| !s.is_empty())
                else {
                    self.counts.records.rejected += 1;
                    let reason = "not a call record: it has no `id`".to_owned();
                    self.errors
                        .push(error_entry(file, Some(pos), "record", None, reason));
                    return Ok(());
                };
                let version = rec.version.map(|v| v.0).unwrap_or(i64::MIN);
                let last_modified = rec.last_modified.map(|t| t.0).unwrap_or(i64::MIN);
                let richness = richness(&rec);
                if let Some(old) = self.index.get(id) {
                    // Same worker, earlier input order: the new one must be strictly newer.
                    let key = (version, last_modified, richness);
                    if !wins(key, order, old.key(), old.order) {
                        self.counts.records.superseded += 1;
                        return Ok(());
                    }
                }
                let summary = summarize(&rec);
                let position = pos.to_string();
                let date = summary.date;
                self.writer.begin_record(date);
                let before = self.writer.position();
                let ctx = CallCtx {
                    rec: &rec,
                    source_path: path,
                    source_position: &position,
                    quality: self.quality,
                };
                flatten::flatten_record(&ctx, &mut self.writer);
                if let Some(e) = self.writer.take_error() {
                    return Err(e);
                }
                let entry = IndexEntry {
                    version,
                    last_modified,
                    richness,
                    order,
                    spans: self.writer.spans_since(before),
                    summary,
                    incomplete_sessions: rec.sessions_next_link.is_some(),
                    incomplete_participants: rec.participants_v2_next_link.is_some(),
                    pages: Vec::new(),
                };
                if let Some(old) = self.index.insert(id, entry) {
                    self.counts.records.superseded += 1;
                    self.tombstones.extend(old.spans.iter().flatten());
                }
            }
        }
        Ok(())
    }
}

/// How much a record holds: sessions, segments, media, streams and participants.
fn richness(rec: &CallRecord) -> u64 {
    let mut n = rec.participants_v2.as_ref().map_or(0, |l| l.len())
        + rec.participants.as_ref().map_or(0, |l| l.len());
    for s in rec.sessions.iter().flatten() {
        n += 1;
        for g in s.segments.iter().flatten() {
            n += 1;
            for m in g.media.iter().flatten() {
                n += 1 + m.streams.as_ref().map_or(0, |l| l.len());
            }
        }
    }
    n as u64
}

fn summarize(rec: &CallRecord) -> CallSummary {
    let sessions = rec.sessions.as_deref().unwrap_or(&[]);
    let participants = rec.participants_v2.as_deref().unwrap_or(&[]);
    CallSummary {
        call_type: rec.call_type.as_ref().map(|s| call_type(s.as_str())),
        start: rec.start.map(|t| t.0),
        end: rec.end.map(|t| t.0),
        date: flatten::partition_date(rec),
        sessions: sessions.len() as u32,
        session_ids: id_hashes(sessions.iter().filter_map(|s| s.id.as_ref())),
        participants: participants.len() as u32,
        participant_ids: id_hashes(participants.iter().filter_map(|p| p.id.as_ref())),
    }
}

/// A call type as kept in the index: the `callType` enum's values as static strings.
fn call_type(t: &str) -> Cow<'static, str> {
    const KNOWN: [&str; 4] = ["groupCall", "peerToPeer", "unknown", "unknownFutureValue"];
    match KNOWN.iter().find(|k| **k == t) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(t.to_owned()),
    }
}

/// Hashes of ids, in a vector without spare capacity (one per call stays in the index).
fn id_hashes<'a>(ids: impl Iterator<Item = &'a crate::decode::scalar::Str<'a>>) -> Vec<u64> {
    let mut v: Vec<u64> = ids.map(|s| state::id_hash(s.as_str())).collect();
    v.shrink_to_fit();
    v
}

/// Runs the whole flatten job and returns its manifest (already published under `cfg.out`).
/// On an error nothing of the run is published and the last dataset stays as it was.
pub fn flatten(cfg: &FlattenConfig) -> Result<Manifest> {
    flatten_run(cfg).map_err(|e| explain(e, &cfg.out))
}

/// Adds what to do to the errors a cron user meets: a full disk, a read-only output.
fn explain(e: anyhow::Error, out: &std::path::Path) -> anyhow::Error {
    use std::io::ErrorKind;
    let kind = |k: ErrorKind| {
        e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == k)
        })
    };
    let text = format!("{e:#}");
    let hint = if kind(ErrorKind::StorageFull)
        || kind(ErrorKind::QuotaExceeded)
        || text.contains("No space left on device")
        || text.contains("Disk quota exceeded")
    {
        format!(
            "the file system of {} is full; nothing of this run was published and the last \
             dataset is unchanged. Free space and run again",
            out.display()
        )
    } else if kind(ErrorKind::ReadOnlyFilesystem) || text.contains("Read-only file system") {
        format!(
            "{} is on a read-only file system; nothing was written",
            out.display()
        )
    } else {
        return e;
    };
    e.context(hint)
}

fn flatten_run(cfg: &FlattenConfig) -> Result<Manifest> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    // Usage errors are reported before anything is written: a bad building file, no input.
    let quality = crate::quality::Context::load(cfg.quality_profile, cfg.buildings.as_deref())?;
    incremental::check_inputs(&cfg.inputs)?;
    let settings = incremental::settings(cfg)?;
    publish::prepare_output(&cfg.out)?;
    let lock = Lock::acquire(&cfg.out)?;
    let mut notes: Vec<String> = lock.note().into_iter().collect();
    let existing = publish::recover(&cfg.out, &mut notes)?;
    crash_point("locked");
    let (prev, full_reason) = incremental::previous(&existing, cfg.full, &cfg.out, &settings)?;
    // Generations and part file names are never reused: a reader may still be on an older
    // snapshot, or hold a list of file names taken just before `_current` changed.
    let (last_generation, first_part) = match &prev {
        Some(p) => (p.header.generation, p.header.next_part_id),
        None => publish::scan_numbers(&cfg.out)?,
    };
    let generation = last_generation.max(existing.generation().unwrap_or(0)) + 1;
    let staging = Staging::create(&cfg.out, generation, existing.generation())?;
    crash_point("staging");
    let found = discover::discover(&cfg.inputs, Some(&cfg.out));
    let files = &found.files;
    let plan = incremental::Plan::new(files, prev.as_ref());
    let sink = SinkConfig::new(staging.dir.clone(), cfg.compression)
        .with_workers(cfg.threads)
        .with_pii(cfg.pii.clone())
        .with_first_part(first_part);

    let progress = if cfg.progress && !plan.todo.is_empty() {
        let pb = indicatif::ProgressBar::new(plan.todo.len() as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} files {msg}",
            )
            .expect("valid template"),
        );
        Some(pb)
    } else {
        None
    };

    // Phase 1: parallel decode + flatten of the new and changed files.
    let sizes: Vec<u64> = plan
        .todo
        .iter()
        .map(|&fi| files[fi as usize].size)
        .collect();
    let queue = crate::queue::WorkQueue::new(&sizes, cfg.threads);
    let worker_ids = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
        .context("cannot start worker threads")?;
    let results: Mutex<Vec<WorkerResult>> = Mutex::new(Vec::new());
    pool.scope(|s| {
        for _ in 0..cfg.threads {
            s.spawn(|_| {
                let mut w = Worker {
                    writer: PartitionedWriter::new(&sink),
                    index: Shard::default(),
                    tombstones: Vec::new(),
                    pages: Vec::new(),
                    errors: Vec::new(),
                    counts: Counts::default(),
                    quality: &quality,
                    raw_buf: Vec::new(),
                    read_buf: Vec::new(),
                    outcomes: Vec::new(),
                };
                let mut failed = None;
                let me = worker_ids.fetch_add(1, Ordering::Relaxed);
                while !abort.load(Ordering::Relaxed) {
                    let Some(i) = queue.next(me) else { break };
                    let fi = plan.todo[i];
                    let file = &files[fi as usize];
                    // A plain JSON file is read once, then hashed and parsed from memory;
                    // its size and time are taken first so a change while reading is seen.
                    let meta = state::file_meta(&file.path);
                    let mut raw = std::mem::take(&mut w.raw_buf);
                    let whole =
                        meta.is_ok() && decode::read_whole_plain(file, &cfg.limits, &mut raw);
                    let outcome = match meta {
                        Ok(meta) if whole => plan.check_bytes(file, meta, &raw),
                        _ => plan.check(file),
                    };
                    let res = outcome.status.is_read().then(|| {
                        w.process_file(file, whole.then_some(raw.as_slice()), &cfg.limits)
                    });
                    // Keep the buffer for the next file unless one huge file inflated it.
                    if raw.capacity() <= 64 << 20 {
                        w.raw_buf = raw;
                    }
                    match res {
                        None => w.outcomes.push(outcome),
                        Some(Ok(readable)) => w
                            .outcomes
                            .push(incremental::after_read(file, outcome, readable)),
                        Some(Err(e)) => {
                            abort.store(true, Ordering::Relaxed);
                            failed = Some(e);
                            break;
                        }
                    }
                    crash_point("file");
                    if let Some(pb) = &progress {
                        pb.inc(1);
                    }
                }
                let writer = std::mem::replace(&mut w.writer, PartitionedWriter::new(&sink));
                let res = match failed {
                    Some(e) => Err(e),
                    None => writer.finish().map(|parts| (w, parts)),
                };
                results.lock().expect("no worker panicked").push(res);
            });
        }
    });
    if let Some(pb) = &progress {
        pb.finish_and_clear();
    }

    // Phase 2: merge the workers' indexes; losers' rows become tombstones.
    let mut parts: Vec<PartFile> = Vec::new();
    let mut index = CallIndex::default();
    let mut tombstones: Vec<RowSpan> = Vec::new();
    let mut pages: Vec<PendingPage> = Vec::new();
    let mut errors: Vec<ErrorEntry> = Vec::new();
    let mut outcomes: Vec<FileOutcome> = Vec::new();
    let mut counts = Counts::default();
    for res in results.into_inner().expect("no worker panicked") {
        let (w, p) = res?;
        parts.extend(p);
        tombstones.extend(w.tombstones);
        pages.extend(w.pages);
        errors.extend(w.errors);
        outcomes.extend(w.outcomes);
        add_counts(&mut counts, &w.counts);
        index.add_shard(w.index, &mut counts.records.superseded, &mut tombstones);
    }
    let read: HashSet<u32> = outcomes
        .iter()
        .filter(|o| o.status.is_read())
        .map(|o| o.index)
        .collect();
    let by_key: HashMap<&[u8], u32> = plan
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_slice(), i as u32))
        .collect();

    // Phase 2b: the calls already in the dataset. A record of this run replaces the dataset's
    // version only when it wins; otherwise it is superseded and its rows removed.
    let mut inc = IncrementalInfo {
        mode: if prev.is_some() {
            "incremental"
        } else {
            "full"
        },
        full_reason,
        state_version: state::STATE_VERSION,
        generation,
        previous_generation: existing.generation(),
        ..Default::default()
    };
    let retry_possible = prev.as_ref().is_some_and(|p| {
        p.files
            .pending_pages
            .iter()
            .any(|r| by_key.contains_key(r.file_key.as_slice()))
    });
    let mut ds: HashMap<Box<str>, CallState> = HashMap::new();
    let ds_loaded = match &prev {
        Some(p) if !read.is_empty() || retry_possible => {
            ds = p
                .load_calls()?
                .into_iter()
                .map(|c| (c.id.clone(), c))
                .collect();
            true
        }
        _ => false,
    };
    let mut replaced: Vec<CallState> = Vec::new();
    if ds_loaded {
        let mut older = Vec::new();
        for (id, e) in index.iter() {
            if let Some(old) = ds.get(id) {
                if e.beats_dataset(old) {
                    replaced.extend(ds.remove(id));
                } else {
                    older.push(id.clone());
                }
            }
        }
        for id in older {
            let e = index.remove(&id).expect("listed above");
            tombstones.extend(e.spans.iter().flatten());
            counts.records.superseded += 1;
            inc.records_older_than_dataset += 1;
        }
    }
    crash_point("merged");

    // Phase 3: sessions / participants_v2 pages exported apart from their call: this run's, the
    // pages of earlier runs still waiting for their call, and the pages of replaced calls.
    let mut pending: Vec<(PageRef, Origin)> = Vec::new();
    let mut errors_kept: Vec<ErrorEntry> = Vec::new();
    if let Some(p) = &prev {
        let earlier = p
            .files
            .pending_pages
            .iter()
            .map(|r| (r, Origin::Retry))
            .chain(
                replaced
                    .iter()
                    .flat_map(|c| c.pages.iter().map(|r| (r, Origin::Remerge))),
            );
        for (r, origin) in earlier {
            match by_key.get(r.file_key.as_slice()) {
                Some(i) if read.contains(i) => {} // read again in phase 1
                Some(&i) => pages.push(PendingPage {
                    file: i,
                    loc: r.loc(),
                    position: r.position(),
                    kind: r.kind(),
                    call_id: r.call_id.clone(),
                    origin,
                }),
                None if origin == Origin::Retry => pending.push((r.clone(), origin)),
                None => errors.push(page_error(
                    r,
                    u32::MAX - 1,
                    format!(
                        "{} page merged into an earlier version of call {} is no longer in the \
                         input; the newer version of the call is written without its items",
                        r.kind().name(),
                        r.call_id
                    ),
                )),
            }
        }
    }
    pages.sort_by_key(|p| (p.file, p.loc, p.position));
    pages.dedup_by(|a, b| (a.file, a.loc, a.position) == (b.file, b.loc, b.position));
    let mut read_again: HashSet<(u32, u64)> = HashSet::new();
    let mut merge_writer = PartitionedWriter::new(&sink);
    for page in &pages {
        let file = &files[page.file as usize];
        let key = &plan.keys[page.file as usize];
        let pc = page.kind as usize;
        let errs = if page.origin == Origin::Run {
            &mut errors
        } else {
            counts.pages[pc].retried += 1;
            read_again.insert((page.file, page.position.line));
            &mut errors_kept
        };
        // Merges the page into a call and remembers it in the call's pages.
        let mut merge_into = |summary: &mut CallSummary, refs: &mut Vec<PageRef>| -> Result<()> {
            let merged = merge_page(
                page,
                file,
                cfg,
                summary,
                &mut merge_writer,
                &mut counts,
                errs,
                &quality,
            )?;
            let r = page.to_ref(file, key);
            if merged && !refs.contains(&r) {
                refs.push(r);
            }
            Ok(())
        };
        if let Some(entry) = index.get_mut(page.call_id.as_str()) {
            merge_into(&mut entry.summary, &mut entry.pages)?;
        } else if let Some(c) = ds.get_mut(page.call_id.as_str()) {
            let mut s = take_summary(c);
            let merged = merge_into(&mut s, &mut c.pages);
            put_summary(c, s);
            merged?;
        } else {
            counts.pages[pc].rejected += 1;
            pending.push((page.to_ref(file, key), page.origin));
        }
    }
    parts.extend(merge_writer.finish()?);
    crash_point("pages");

    // Phase 4: drop superseded rows from the part files that hold them.
    let mut by_part: BTreeMap<u32, Vec<RowSpan>> = BTreeMap::new();
    for t in tombstones {
        by_part.entry(t.part).or_default().push(t);
    }
    for part in parts.iter_mut() {
        if let Some(spans) = by_part.get(&part.id) {
            publish::remove_rows(part, spans, &sink.props[part.table.index()]).with_context(
                || {
                    format!(
                        "cannot rewrite {} without superseded rows",
                        part.path.display()
                    )
                },
            )?;
        }
    }
    parts.retain(|p| p.rows > 0);
    inc.parts_new = parts.len() as u64;

    // The previous snapshot's part files: linked, or rewritten without the replaced calls.
    if let Some(p) = &prev {
        let mut by_date: HashMap<Option<i32>, HashSet<&str>> = HashMap::new();
        for c in &replaced {
            by_date.entry(c.date).or_default().insert(&c.id);
        }
        for ps in &p.files.parts {
            let Some(table) = state::table_from_index(ps.table) else {
                continue;
            };
            if ps.rows == 0 {
                continue; // a placeholder of an empty table; written again below if needed
            }
            let src = p.dir.join(&ps.rel);
            let date = state::days_to_date(ps.date);
            if let Some(ids) = by_date.get(&ps.date) {
                let (id, dst) = sink.new_part_path(table, date);
                let props = &sink.props[table.index()];
                let done = publish::rewrite_without_calls(&src, &dst, table, ids, props)
                    .with_context(|| {
                        format!("cannot rewrite {} without replaced calls", src.display())
                    })?;
                crash_point("rewrite");
                match done {
                    Rewrite::Untouched => {}
                    Rewrite::Emptied => {
                        inc.parts_rewritten += 1;
                        continue;
                    }
                    Rewrite::Written(rows) => {
                        inc.parts_rewritten += 1;
                        parts.push(PartFile {
                            id,
                            table,
                            date,
                            path: dst,
                            rows,
                        });
                        continue;
                    }
                }
            }
            let dst = staging.dir.join(&ps.rel);
            publish::link_or_copy(&src, &dst)?;
            inc.parts_kept += 1;
            parts.push(PartFile {
                id: part_number(&ps.rel),
                table,
                date,
                path: dst,
                rows: ps.rows,
            });
        }
    }
    crash_point("linked");
    for t in Table::ALL {
        if !parts.iter().any(|p| p.table == t) {
            parts.push(crate::sink::write_empty_part(&sink, t)?);
        }
    }

    counts.records.written = index.len() as u64;
    counts.records.incomplete_sessions =
        index.values().filter(|e| e.incomplete_sessions).count() as u64;
    counts.records.incomplete_participants_v2 =
        index.values().filter(|e| e.incomplete_participants).count() as u64;
    inc.calls_replaced = replaced.len() as u64;
    inc.calls_added = index.len() as u64 - inc.calls_replaced;
    drop(replaced);

    // Discovery problems are rejected inputs too.
    for (path, reason) in &found.errors {
        counts.files.rejected += 1;
        counts.records.read += 1;
        counts.records.rejected += 1;
        errors.push(error_at(
            path.display().to_string(),
            u32::MAX,
            None,
            "file",
            None,
            format!("cannot read: {reason}"),
        ));
    }

    // The state of the new snapshot.
    let nfiles = files.len() as u32;
    let mut body = FilesBody::default();
    let mut seen: HashSet<&[u8]> = HashSet::new();
    // This run's outcomes are consumed: their states move into the body instead of being
    // copied (a path key per file, 130,000 of them in the 10 GB benchmark archive).
    let unchanged = plan
        .unchanged
        .iter()
        .map(|o| (o.index, o.status, o.unstable, o.state.clone()));
    let looked_at = outcomes
        .into_iter()
        .map(|o| (o.index, o.status, o.unstable, o.state));
    for (index, status, unstable, state) in unchanged.chain(looked_at) {
        match status {
            FileStatus::New => inc.files_new += 1,
            FileStatus::Changed => inc.files_changed += 1,
            FileStatus::Unchanged => inc.files_unchanged += 1,
            FileStatus::Touched | FileStatus::SameContent => inc.files_same_content += 1,
        }
        if unstable {
            inc.files_unstable += 1;
            notes.push(format!(
                "{} changed while it was read; the next run reads it again",
                files[index as usize].path.display()
            ));
        }
        body.files.extend(state);
        seen.insert(&plan.keys[index as usize]);
    }
    // This run's rejections of files (not discovery problems, not pages waiting for their
    // call: those are found again on every run) are remembered until the file is read again.
    for e in errors.iter().chain(&errors_kept) {
        if e.sort_key.0 < nfiles {
            body.errors.push(StoredError::new(
                plan.keys[e.sort_key.0 as usize].clone(),
                e,
            ));
        }
    }
    if let Some(p) = &prev {
        for f in &p.files.files {
            if !by_key.contains_key(f.key.as_slice()) {
                inc.files_gone += 1;
                body.files.push(f.clone());
            }
        }
        // Rejections of files not read again stay listed.
        for e in &p.files.errors {
            let i = by_key.get(e.file_key.as_slice()).copied();
            let again = i.is_some_and(|i| {
                read.contains(&i)
                    || (e.kind.ends_with("_page") && read_again.contains(&(i, e.line.unwrap_or(0))))
            });
            if !again {
                errors_kept.push(e.entry(i.unwrap_or(u32::MAX - 1)));
                body.errors.push(e.clone());
            }
        }
    }
    // Pages still waiting for their call: listed as rejected on every run until it arrives.
    for (r, origin) in &pending {
        let i = by_key.get(r.file_key.as_slice()).copied();
        let e = orphan_error(r, i.unwrap_or(u32::MAX - 1));
        if *origin == Origin::Run {
            errors.push(e);
        } else {
            errors_kept.push(e);
        }
    }
    body.pending_pages = pending.into_iter().map(|(r, _)| r).collect();
    inc.errors_new = errors.len() as u64;
    inc.errors_kept = errors_kept.len() as u64;
    errors.append(&mut errors_kept);
    errors.sort_by(|a, b| (a.sort_key, &a.path, &a.reason).cmp(&(b.sort_key, &b.path, &b.reason)));
    inc.nothing_new = prev.is_some() && read.is_empty();

    let mut tables = BTreeMap::new();
    for t in Table::ALL {
        let mine = parts.iter().filter(|p| p.table == t);
        tables.insert(
            t.name(),
            TableCounts {
                rows: mine.clone().map(|p| p.rows).sum(),
                files: mine.count() as u64,
            },
        );
    }
    for p in &parts {
        body.parts.push(PartState {
            table: p.table.index() as u8,
            date: state::date_to_days(p.date),
            rel: rel_path(&staging.dir, &p.path)?,
            rows: p.rows,
        });
    }
    let calls_source = match &prev {
        Some(p) if !ds_loaded => {
            inc.calls = p.header.calls;
            CallsSource::Unchanged {
                path: p.calls_path(),
                info: p.header.calls_bin.clone(),
                count: p.header.calls,
            }
        }
        _ => {
            inc.calls = (ds.len() + index.len()) as u64;
            let calls = ds
                .into_values()
                .chain(index.into_entries().map(|(id, e)| e.into_state(id)));
            CallsSource::New(Box::new(calls), inc.calls)
        }
    };
    counts.files.discovered = files.len() as u64 + found.skipped.len() as u64;
    counts.files.skipped_not_json = found.skipped.len() as u64;
    counts.files.skipped_paths = found
        .skipped
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    state::save(
        &staging.dir,
        state::NewState {
            generation,
            settings,
            next_part_id: sink.next_part_id(),
            files: &body,
            calls: calls_source,
        },
    )?;
    crash_point("state");

    let mut ef = std::io::BufWriter::new(fs_err::File::create(staging.dir.join(publish::ERRORS))?);
    for e in &errors {
        serde_json::to_writer(&mut ef, e)?;
        ef.write_all(b"\n")?;
    }
    ef.into_inner().map_err(|e| e.into_error())?.sync_all()?;

    let manifest = Manifest {
        tool: "callrec",
        tool_version: env!("CARGO_PKG_VERSION"),
        schema_version: crate::schema::SCHEMA_VERSION,
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_s: started.elapsed().as_secs_f64(),
        threads: cfg.threads,
        inputs: cfg.inputs.iter().map(|p| p.display().to_string()).collect(),
        output: cfg.out.display().to_string(),
        quality_profile: quality.profile.name(),
        pii: cfg.pii.mode().name(),
        pii_key_id: cfg.pii.key_id(),
        buildings: quality.buildings.as_ref().map(|b| BuildingsInfo {
            path: b.path().display().to_string(),
            rows: b.len() as u64,
        }),
        files: counts.files,
        records: counts.records,
        child_pages: [PageKind::Sessions, PageKind::Participants]
            .into_iter()
            .map(|k| (k.name(), counts.pages[k as usize].clone()))
            .collect(),
        tables,
        errors: errors.len() as u64,
        errors_file: publish::ERRORS,
        incremental: inc,
        notes,
    };
    // `_SUCCESS`, then the manifest: the last files of a snapshot.
    fs_err::File::create(staging.dir.join(publish::SUCCESS))?.sync_all()?;
    let mut mf = fs_err::File::create(staging.dir.join(publish::MANIFEST))?;
    mf.write_all((serde_json::to_string_pretty(&manifest)? + "\n").as_bytes())?;
    mf.sync_all()?;
    crash_point("manifest");
    staging.commit()?;
    drop(lock);
    Ok(manifest)
}

/// A rejection of the page `r`, sorted as if in the input file `file_index`.
fn page_error(r: &PageRef, file_index: u32, reason: String) -> ErrorEntry {
    error_at(
        r.path.clone(),
        file_index,
        Some(r.position()),
        state::page_error_kind(r.kind()),
        Some(r.call_id.clone()),
        reason,
    )
}

/// The rejection of a page whose call is neither in this run nor in the dataset.
fn orphan_error(r: &PageRef, file_index: u32) -> ErrorEntry {
    page_error(
        r,
        file_index,
        format!(
            "{} page of call {} but that call is not in this run's input nor in the dataset; \
             it is kept and merged when a later run reads the call record",
            r.kind().name(),
            r.call_id
        ),
    )
}

/// `part-000123.parquet` → 123 (part numbers of earlier snapshots; never one of this run's).
fn part_number(rel: &str) -> u32 {
    rel.rsplit('/')
        .next()
        .and_then(publish::part_number)
        .unwrap_or(u32::MAX)
}

/// `path` relative to `base`, with `/` separators.
fn rel_path(base: &std::path::Path, path: &std::path::Path) -> Result<String> {
    let rel = path
        .strip_prefix(base)
        .with_context(|| format!("{} is outside {}", path.display(), base.display()))?;
    Ok(rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}

fn add_counts(into: &mut Counts, c: &Counts) {
    let (a, b) = (&mut into.files, &c.files);
    a.read += b.read;
    a.rejected += b.rejected;
    a.bytes_read += b.bytes_read;
    let (a, b) = (&mut into.records, &c.records);
    a.read += b.read;
    a.superseded += b.superseded;
    a.rejected += b.rejected;
    for (a, b) in into.pages.iter_mut().zip(&c.pages) {
        a.read += b.read;
    }
}

/// Merges the items of `page` into the call summarized by `summary` (a winner of this run or a
/// call of the dataset). Returns whether the page was merged.
#[allow(clippy::too_many_arguments)]
fn merge_page(
    page: &PendingPage,
    file: &InputFile,
    cfg: &FlattenConfig,
    summary: &mut CallSummary,
    writer: &mut PartitionedWriter,
    counts: &mut Counts,
    errors: &mut Vec<ErrorEntry>,
    quality: &crate::quality::Context,
) -> Result<bool> {
    let kind_name = state::page_error_kind(page.kind);
    let pc = page.kind as usize;
    let mut found = false;
    let mut fatal = None;
    let res = decode::read_document_at(file, &cfg.limits, page.loc, |doc| {
        decode::decode_doc(doc, page.position.line, |item, _| {
            let Item::ChildPage { items, .. } = item else {
                return;
            };
            found = true;
            if let Err(e) = merge_items(page, file, items, summary, writer, counts, errors, quality)
            {
                fatal = Some(e);
            }
        });
    });
    if let Some(e) = fatal {
        return Err(e);
    }
    if res.is_err() || !found {
        counts.pages[pc].rejected += 1;
        let reason = format!(
            "{} page could not be read again to merge it: {:?}",
            page.kind.name(),
            res.err()
        );
        errors.push(error_entry(
            file,
            Some(page.position),
            kind_name,
            Some(page.call_id.clone()),
            reason,
        ));
        Ok(false)
    } else {
        counts.pages[pc].merged += 1;
        Ok(true)
    }
}

#[allow(clippy::too_many_arguments)]
fn merge_items(
    page: &PendingPage,
    file: &InputFile,
    items: Vec<&RawValue>,
    s: &mut CallSummary,
    writer: &mut PartitionedWriter,
    counts: &mut Counts,
    errors: &mut Vec<ErrorEntry>,
    quality: &crate::quality::Context,
) -> Result<()> {
    let pc = page.kind as usize;
    let kind_name = state::page_error_kind(page.kind);
    let rec = CallRecord {
        id: Some(Str(Cow::Owned(page.call_id.clone()))),
        call_type: s.call_type.as_ref().map(|t| Str(Cow::Owned(t.to_string()))),
        start: s.start.map(decode::scalar::TimestampUs),
        end: s.end.map(decode::scalar::TimestampUs),
        ..Default::default()
    };
    let ctx = CallCtx {
        rec: &rec,
        source_path: "",
        source_position: "",
        quality,
    };
    let page_path = file.path.display().to_string();
    writer.begin_record(s.date);
    for (i, raw) in items.iter().enumerate() {
        let pos = Position {
            element: Some(i as u32),
            ..page.position
        };
        let reject = |errors: &mut Vec<ErrorEntry>, e: serde_json::Error| {
            let reason = format!("invalid {} item: {e}", page.kind.name());
            errors.push(error_entry(
                file,
                Some(pos),
                kind_name,
                Some(page.call_id.clone()),
                reason,
            ));
        };
        match page.kind {
            PageKind::Sessions => match serde_json::from_str::<Session>(raw.get()) {
                Ok(session) => {
                    let h = session.id.as_ref().map(|x| state::id_hash(x.as_str()));
                    if h.is_some_and(|h| s.session_ids.contains(&h)) {
                        counts.pages[pc].items_duplicate += 1;
                        continue;
                    }
                    flatten::flatten_sessions(
                        &ctx,
                        std::slice::from_ref(&session),
                        s.sessions,
                        Some(&page_path),
                        writer,
                    );
                    s.sessions += 1;
                    s.session_ids.extend(h);
                    counts.pages[pc].items_added += 1;
                }
                Err(e) => {
                    counts.pages[pc].items_rejected += 1;
                    reject(errors, e);
                }
            },
            PageKind::Participants => match serde_json::from_str::<Participant>(raw.get()) {
                Ok(p) => {
                    let h = p.id.as_ref().map(|x| state::id_hash(x.as_str()));
                    if h.is_some_and(|h| s.participant_ids.contains(&h)) {
                        counts.pages[pc].items_duplicate += 1;
                        continue;
                    }
                    flatten::flatten_participants(
                        &ctx,
                        std::slice::from_ref(&p),
                        s.participants,
                        Some(&page_path),
                        writer,
                    );
                    s.participants += 1;
                    s.participant_ids.extend(h);
                    counts.pages[pc].items_added += 1;
                }
                Err(e) => {
                    counts.pages[pc].items_rejected += 1;
                    reject(errors, e);
                }
            },
        }
        if let Some(e) = writer.take_error() {
            return Err(e);
        }
    }
    Ok(())
}

/// Reads and parses every record of `inputs` on `threads` workers, without flattening or
/// writing: the parse-only ceiling. Returns (records parsed, bytes read).
pub fn parse_only(inputs: &[PathBuf], threads: usize, limits: &Limits) -> Result<(u64, u64)> {
    let found = discover::discover(inputs, None);
    let next = AtomicUsize::new(0);
    let totals = Mutex::new((0u64, 0u64));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let (mut records, mut bytes) = (0u64, 0u64);
                let mut buf = Vec::new();
                while let Some(file) = found.files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    bytes += file.size;
                    // The same reading as `flatten`'s workers: one reused buffer per thread.
                    let _ = decode::read_documents_into(file, limits, &mut buf, |doc, _| {
                        decode::decode_doc(doc, 1, |item, _| {
                            if let Item::Record(rec) = item {
                                records += 1;
                                std::hint::black_box(&rec);
                            }
                        })
                    });
                }
                let mut t = totals.lock().expect("no worker panicked");
                t.0 += records;
                t.1 += bytes;
            });
        }
    });
    Ok(totals.into_inner().expect("no worker panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: i64, file: u32, part: u32) -> IndexEntry {
        let mut spans: RecordSpans = Default::default();
        spans[0] = Some(RowSpan {
            part,
            start: 0,
            len: 1,
        });
        IndexEntry {
            version,
            last_modified: 0,
            richness: 1,
            order: (file, 1),
            spans,
            summary: CallSummary::default(),
            incomplete_sessions: false,
            incomplete_participants: false,
            pages: Vec::new(),
        }
    }

    fn shard(items: &[(&str, IndexEntry)]) -> Shard {
        let mut s = Shard::default();
        for (k, e) in items {
            assert!(s.insert(k, e.clone()).is_none());
        }
        s
    }

    #[test]
    fn shard_slots_span_chunks_and_survive_replace_and_remove() {
        let mut s = Shard::default();
        let n = SHARD_CHUNK as u32 * 2 + 3;
        for i in 0..n {
            assert!(s.insert(&format!("c{i}"), entry(i as i64, i, i)).is_none());
        }
        assert_eq!(s.len(), n as usize);
        assert_eq!(s.chunks.len(), 3);
        let old = s.insert("c1030", entry(-1, 0, 0)).map(|e| e.version);
        assert_eq!(old, Some(1030));
        assert_eq!(s.get("c1030").map(|e| e.version), Some(-1));
        assert_eq!(s.remove("c5").map(|e| e.version), Some(5));
        assert!(s.get("c5").is_none() && s.remove("c5").is_none());
        assert_eq!(
            s.get(&format!("c{}", n - 1)).map(|e| e.order.0),
            Some(n - 1)
        );
        s.get_mut("c7").unwrap().version = 70;
        let mut all: Vec<(Box<str>, i64)> = s.into_entries().map(|(k, e)| (k, e.version)).collect();
        all.sort();
        assert_eq!(all.len(), n as usize - 1);
        assert!(all.contains(&("c7".into(), 70)) && all.contains(&("c1030".into(), -1)));
        assert!(!all.iter().any(|(k, _)| &**k == "c5"));
    }

    #[test]
    fn shards_keep_one_winner_per_call_and_tombstone_the_losers() {
        let mut index = CallIndex::default();
        let mut superseded = 0;
        let mut tombstones = Vec::new();
        index.add_shard(
            shard(&[("a", entry(1, 0, 10)), ("b", entry(5, 1, 11))]),
            &mut superseded,
            &mut tombstones,
        );
        // "a" is newer here, "b" older; "c" is new.
        index.add_shard(
            shard(&[
                ("a", entry(2, 2, 20)),
                ("b", entry(4, 3, 21)),
                ("c", entry(1, 4, 22)),
            ]),
            &mut superseded,
            &mut tombstones,
        );
        // A third version of "a": same version as the kept one but later in the input.
        index.add_shard(
            shard(&[("a", entry(2, 9, 30))]),
            &mut superseded,
            &mut tombstones,
        );
        assert_eq!(index.len(), 3);
        assert_eq!(superseded, 3);
        let mut dead: Vec<u32> = tombstones.iter().map(|t| t.part).collect();
        dead.sort();
        assert_eq!(dead, vec![10, 21, 30]);
        let mut kept: Vec<(String, u32)> = index
            .iter()
            .map(|(k, e)| (k.to_string(), e.spans[0].unwrap().part))
            .collect();
        kept.sort();
        assert_eq!(
            kept,
            vec![("a".into(), 20), ("b".into(), 11), ("c".into(), 22)]
        );
        assert!(index.get_mut("c").is_some());
        assert_eq!(index.remove("c").map(|e| e.version), Some(1));
        assert_eq!(index.len(), 2);
    }
}
