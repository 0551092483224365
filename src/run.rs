//! The `flatten` job: discover → decode → flatten → sink, in parallel, with exact accounting.
//!
//! Phase 1: `threads` workers pull files from a shared counter (input order) and each fills its
//! own [`PartitionedWriter`], duplicate index, error list and counters: no lock or channel per
//! record. A worker that meets a call id again keeps the higher `version` (then the later
//! `lastModifiedDateTime`, then the record with more nested items, then the earlier input
//! position) and remembers the row spans of the
//! loser. Phase 2 merges the workers' indexes the same way, so the winner does not depend on the
//! thread count. Phase 3 merges sessions/participants_v2 pages exported apart from their call.
//! Phase 4 rewrites only the part files that hold superseded rows (none for a duplicate-free
//! archive, so deduplication costs one hash-map insert per record). Then the manifest and error
//! report are written and the staging folder is published.

use crate::decode::model::{CallRecord, Participant, Session};
use crate::decode::scalar::Str;
use crate::decode::{self, DocLoc, FileError, Item, Limits, PageKind, Position};
use crate::discover::{self, InputFile};
use crate::flatten::{self, rows::CallCtx};
use crate::manifest::*;
use crate::schema::Table;
use crate::sink::publish::{self, Staging};
use crate::sink::{PartFile, PartitionedWriter, RecordSpans, RowSpan, SinkConfig};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::hash_map::{DefaultHasher, Entry as MapEntry};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
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
}

impl FlattenConfig {
    /// A config with the command line's defaults (all cores, zstd, current CQD rules, no
    /// building file, no progress bar).
    pub fn new(inputs: Vec<PathBuf>, out: PathBuf) -> Self {
        FlattenConfig {
            inputs,
            out,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            limits: Limits::default(),
            progress: false,
            buildings: None,
            quality_profile: Default::default(),
            compression: Default::default(),
            pii: Default::default(),
        }
    }
}

/// What the run needs to know about a written call to merge child pages into it later.
#[derive(Debug, Clone)]
struct CallSummary {
    call_type: Option<Box<str>>,
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
}

impl IndexEntry {
    /// Whether `self` replaces `other` as the version of the call to keep.
    fn beats(&self, other: &IndexEntry) -> bool {
        (self.version, self.last_modified, self.richness)
            .cmp(&(other.version, other.last_modified, other.richness))
            .then(other.order.cmp(&self.order))
            .is_gt()
    }
}

struct PendingPage {
    file: u32,
    loc: DocLoc,
    position: Position,
    kind: PageKind,
    call_id: String,
}

fn id_hash(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

#[derive(Default)]
struct Counts {
    files: FileCounts,
    records: RecordCounts,
    pages: [PageCounts; 2],
}

/// One worker's state (phase 1).
struct Worker<'c> {
    writer: PartitionedWriter<'c>,
    index: HashMap<Box<str>, IndexEntry>,
    tombstones: Vec<RowSpan>,
    pages: Vec<PendingPage>,
    errors: Vec<ErrorEntry>,
    counts: Counts,
    quality: &'c crate::quality::Context,
    /// Read buffer reused across this worker's files.
    read_buf: Vec<u8>,
}

fn error_entry(
    file: &InputFile,
    pos: Option<Position>,
    kind: &'static str,
    call_id: Option<String>,
    reason: String,
) -> ErrorEntry {
    let p = pos.unwrap_or_default();
    ErrorEntry {
        path: file.path.display().to_string(),
        position: pos
            .map(|p| p.to_string())
            .unwrap_or_else(|| "file".to_owned()),
        line: (p.line > 0).then_some(p.line),
        column: p.column,
        element: p.element,
        kind,
        call_id,
        reason,
        sort_key: (file.index, p.line, p.element.unwrap_or(0)),
    }
}

impl<'c> Worker<'c> {
    fn process_file(&mut self, file: &InputFile, limits: &Limits) -> Result<()> {
        let path = file.path.display().to_string();
        let mut item_no = 0u64;
        let mut fatal: Option<anyhow::Error> = None;
        let mut buf = std::mem::take(&mut self.read_buf);
        let res = decode::read_documents_into(file, limits, &mut buf, |doc, loc| {
            let base_line = match loc {
                DocLoc::Whole => 1,
                DocLoc::Line(n) => n,
            };
            decode::decode_document(doc, base_line, |item, pos| {
                item_no += 1;
                if fatal.is_none() {
                    if let Err(e) = self.handle(file, &path, loc, (file.index, item_no), item, pos)
                    {
                        fatal = Some(e);
                    }
                }
            })
        });
        // Keep the buffer for the next file unless one huge file inflated it.
        if buf.capacity() <= 64 << 20 {
            self.read_buf = buf;
        }
        if let Some(e) = fatal {
            return Err(e);
        }
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
        Ok(())
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
                    if (version, last_modified, richness)
                        <= (old.version, old.last_modified, old.richness)
                    {
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
                };
                if let Some(old) = self.index.insert(id.into(), entry) {
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
        call_type: rec.call_type.as_ref().map(|s| s.as_str().into()),
        start: rec.start.map(|t| t.0),
        end: rec.end.map(|t| t.0),
        date: flatten::partition_date(rec),
        sessions: sessions.len() as u32,
        session_ids: sessions
            .iter()
            .filter_map(|s| s.id.as_ref())
            .map(|s| id_hash(s.as_str()))
            .collect(),
        participants: participants.len() as u32,
        participant_ids: participants
            .iter()
            .filter_map(|p| p.id.as_ref())
            .map(|s| id_hash(s.as_str()))
            .collect(),
    }
}

/// Runs the whole flatten job and returns its manifest (already published under `cfg.out`).
pub fn flatten(cfg: &FlattenConfig) -> Result<Manifest> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    // A bad building file is a usage error: reported before anything is written.
    let quality = crate::quality::Context::load(cfg.quality_profile, cfg.buildings.as_deref())?;
    let staging = Staging::create(&cfg.out)?;
    let found = discover::discover(&cfg.inputs, Some(&cfg.out));
    let files = &found.files;
    let sink = SinkConfig::new(staging.dir.clone(), cfg.compression).with_pii(cfg.pii.clone());

    let progress = if cfg.progress {
        let pb = indicatif::ProgressBar::new(files.len() as u64);
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

    // Phase 1: parallel decode + flatten.
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
        .context("cannot start worker threads")?;
    let results: Mutex<Vec<Result<(Worker, Vec<PartFile>)>>> = Mutex::new(Vec::new());
    pool.scope(|s| {
        for _ in 0..cfg.threads {
            s.spawn(|_| {
                let mut w = Worker {
                    writer: PartitionedWriter::new(&sink),
                    index: HashMap::new(),
                    tombstones: Vec::new(),
                    pages: Vec::new(),
                    errors: Vec::new(),
                    counts: Counts::default(),
                    quality: &quality,
                    read_buf: Vec::new(),
                };
                let mut failed = None;
                while !abort.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    if let Err(e) = w.process_file(file, &cfg.limits) {
                        abort.store(true, Ordering::Relaxed);
                        failed = Some(e);
                        break;
                    }
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
    let mut index: HashMap<Box<str>, IndexEntry> = HashMap::new();
    let mut tombstones: Vec<RowSpan> = Vec::new();
    let mut pages: Vec<PendingPage> = Vec::new();
    let mut errors: Vec<ErrorEntry> = Vec::new();
    let mut counts = Counts::default();
    for res in results.into_inner().expect("no worker panicked") {
        let (w, p) = res?;
        parts.extend(p);
        tombstones.extend(w.tombstones);
        pages.extend(w.pages);
        errors.extend(w.errors);
        add_counts(&mut counts, &w.counts);
        for (id, e) in w.index {
            match index.entry(id) {
                MapEntry::Vacant(v) => {
                    v.insert(e);
                }
                MapEntry::Occupied(mut o) => {
                    counts.records.superseded += 1;
                    if e.beats(o.get()) {
                        tombstones.extend(o.get().spans.iter().flatten());
                        o.insert(e);
                    } else {
                        tombstones.extend(e.spans.iter().flatten());
                    }
                }
            }
        }
    }

    // Phase 3: sessions / participants_v2 pages exported apart from their call.
    pages.sort_by(|a, b| (a.file, a.loc, a.position).cmp(&(b.file, b.loc, b.position)));
    let mut merge_writer = PartitionedWriter::new(&sink);
    for page in &pages {
        merge_page(
            page,
            &files[page.file as usize],
            cfg,
            &mut index,
            &mut merge_writer,
            &mut counts,
            &mut errors,
            &quality,
        )?;
    }
    parts.extend(merge_writer.finish()?);

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
    drop(index);

    // Discovery problems are rejected inputs too.
    for (path, reason) in &found.errors {
        counts.files.rejected += 1;
        counts.records.read += 1;
        counts.records.rejected += 1;
        errors.push(ErrorEntry {
            path: path.display().to_string(),
            position: "file".to_owned(),
            line: None,
            column: None,
            element: None,
            kind: "file",
            call_id: None,
            reason: format!("cannot read: {reason}"),
            sort_key: (u32::MAX, 0, 0),
        });
    }
    errors.sort_by(|a, b| (a.sort_key, &a.path, &a.reason).cmp(&(b.sort_key, &b.path, &b.reason)));

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
    counts.files.discovered = files.len() as u64 + found.skipped.len() as u64;
    counts.files.skipped_not_json = found.skipped.len() as u64;
    counts.files.skipped_paths = found
        .skipped
        .iter()
        .map(|p| p.display().to_string())
        .collect();

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
        child_pages: [(PageKind::Sessions, 0), (PageKind::Participants, 1)]
            .into_iter()
            .map(|(k, i)| (k.name(), counts.pages[i].clone()))
            .collect(),
        tables,
        errors: errors.len() as u64,
        errors_file: publish::ERRORS,
    };

    let mut ef = std::io::BufWriter::new(fs_err::File::create(staging.dir.join(publish::ERRORS))?);
    for e in &errors {
        serde_json::to_writer(&mut ef, e)?;
        ef.write_all(b"\n")?;
    }
    ef.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs_err::write(
        staging.dir.join(publish::MANIFEST),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    staging.publish()?;
    Ok(manifest)
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

#[allow(clippy::too_many_arguments)]
fn merge_page(
    page: &PendingPage,
    file: &InputFile,
    cfg: &FlattenConfig,
    index: &mut HashMap<Box<str>, IndexEntry>,
    writer: &mut PartitionedWriter,
    counts: &mut Counts,
    errors: &mut Vec<ErrorEntry>,
    quality: &crate::quality::Context,
) -> Result<()> {
    let kind_name = match page.kind {
        PageKind::Sessions => "sessions_page",
        PageKind::Participants => "participants_v2_page",
    };
    let pc = page.kind as usize;
    let Some(entry) = index.get_mut(page.call_id.as_str()) else {
        counts.pages[pc].rejected += 1;
        let reason = format!(
            "{} page of call {} but that call is not in this run's input; run it together with the call record",
            page.kind.name(),
            page.call_id
        );
        errors.push(error_entry(
            file,
            Some(page.position),
            kind_name,
            Some(page.call_id.clone()),
            reason,
        ));
        return Ok(());
    };
    let mut found = false;
    let mut fatal = None;
    let res = decode::read_document_at(file, &cfg.limits, page.loc, |doc| {
        decode::decode_document(doc, page.position.line, |item, _| {
            let Item::ChildPage { items, .. } = item else {
                return;
            };
            found = true;
            if let Err(e) = merge_items(page, file, items, entry, writer, counts, errors, quality) {
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
    } else {
        counts.pages[pc].merged += 1;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn merge_items(
    page: &PendingPage,
    file: &InputFile,
    items: Vec<&RawValue>,
    entry: &mut IndexEntry,
    writer: &mut PartitionedWriter,
    counts: &mut Counts,
    errors: &mut Vec<ErrorEntry>,
    quality: &crate::quality::Context,
) -> Result<()> {
    let pc = page.kind as usize;
    let kind_name = match page.kind {
        PageKind::Sessions => "sessions_page",
        PageKind::Participants => "participants_v2_page",
    };
    let raws = items;
    let s = &mut entry.summary;
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
    for (i, raw) in raws.iter().enumerate() {
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
                    let h = session.id.as_ref().map(|x| id_hash(x.as_str()));
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
                    let h = p.id.as_ref().map(|x| id_hash(x.as_str()));
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
                while let Some(file) = found.files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    bytes += file.size;
                    let _ = decode::read_documents(file, limits, |doc, _| {
                        decode::decode_document(doc, 1, |item, _| {
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
