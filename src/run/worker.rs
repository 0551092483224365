//! Phase 1: one worker reads its share of the files into its own sink, index, error list and
//! counters (no lock or channel per record).

use super::index::{richness, summarize, wins, IndexEntry, Shard, Spill};
use super::pages::{Origin, PendingPage};
use crate::decode::{self, DocLoc, FileError, Item, Limits, Position};
use crate::discover::InputFile;
use crate::flatten::{self, rows::CallCtx};
use crate::incremental::{FileOutcome, FileStatus};
use crate::manifest::{ErrorEntry, FileCounts, PageCounts, RecordCounts};
use crate::sink::{PartFile, PartitionedWriter, RowSpan};
use crate::state::StatesWriter;
use anyhow::Result;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which discovered files this run read: a bit per file, set by the workers.
pub(super) struct ReadSet(Vec<AtomicU64>);

impl ReadSet {
    pub(super) fn new(files: u32) -> ReadSet {
        ReadSet(
            (0..(files as usize).div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
        )
    }

    pub(super) fn set(&self, i: u32) {
        self.0[i as usize / 64].fetch_or(1 << (i % 64), Ordering::Relaxed);
    }

    pub(super) fn get(&self, i: u32) -> bool {
        self.0[i as usize / 64].load(Ordering::Relaxed) & (1 << (i % 64)) != 0
    }
}

#[derive(Default)]
pub(super) struct Counts {
    pub(super) files: FileCounts,
    pub(super) records: RecordCounts,
    pub(super) pages: [PageCounts; 2],
    pub(super) outcomes: OutcomeCounts,
}

/// What became of the files a worker looked at (the plan counts the unchanged ones).
#[derive(Default)]
pub(super) struct OutcomeCounts {
    pub(super) new: u64,
    pub(super) changed: u64,
    /// Touched, or the same content as another file: not parsed.
    pub(super) same_content: u64,
}

/// A finished worker and its part files.
pub(super) type WorkerResult<'c> = Result<(Worker<'c>, Vec<PartFile>)>;

/// One worker's state (phase 1).
pub(super) struct Worker<'c> {
    pub(super) writer: PartitionedWriter<'c>,
    pub(super) index: Shard,
    /// Where `index` spills when it outgrows its budget.
    pub(super) spill: &'c Spill,
    pub(super) tombstones: Vec<RowSpan>,
    pub(super) pages: Vec<PendingPage>,
    pub(super) errors: Vec<ErrorEntry>,
    pub(super) counts: Counts,
    pub(super) quality: &'c crate::quality::Context,
    /// Read buffers reused across this worker's files: a plain file's bytes as read, and the
    /// text of a decompressed or streamed one.
    pub(super) raw_buf: Vec<u8>,
    pub(super) read_buf: Vec<u8>,
    /// The states of the files this worker looked at, spooled as they come (created with the
    /// first one).
    pub(super) states: Option<StatesWriter>,
    /// Files that changed while they were read.
    pub(super) notes: Vec<String>,
}

pub(super) fn error_entry(
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
pub(super) fn error_at(
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
    /// Counts what became of `file` and remembers its state (spooled to the file `spool`
    /// names).
    pub(super) fn remember(
        &mut self,
        file: &InputFile,
        key: &[u8],
        outcome: FileOutcome,
        read: &ReadSet,
        spool: impl FnOnce() -> std::path::PathBuf,
    ) -> Result<()> {
        let c = &mut self.counts.outcomes;
        match outcome.status {
            FileStatus::New => c.new += 1,
            FileStatus::Changed => c.changed += 1,
            FileStatus::Touched | FileStatus::SameContent => c.same_content += 1,
            FileStatus::Unchanged => {}
        }
        if outcome.status.is_read() {
            read.set(file.index);
        }
        if outcome.unstable {
            self.notes.push(format!(
                "{} changed while it was read; the next run reads it again",
                file.path.display()
            ));
        }
        if let Some(stamp) = outcome.state {
            let states = match &mut self.states {
                Some(w) => w,
                None => self.states.insert(StatesWriter::create(spool())?),
            };
            states.push(key, stamp)?;
        }
        Ok(())
    }

    /// Reads one file. Returns false when it could not be read (an I/O error): the next
    /// incremental run tries it again.
    pub(super) fn process_file(
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
            Some(raw) => decode::whole_document(raw, limits, on_doc),
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

    pub(super) fn handle(
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
                self.index.spill_if_over(self.spill)?;
            }
        }
        Ok(())
    }
}
