//! The `flatten` job: discover → decode → flatten → sink, in parallel, with exact accounting.
//!
//! The walk plans each input file and appends it to a list spooled to the staging folder
//! ([`crate::discover::list`]); the files' states are spooled there too as they are decided
//! ([`state::StatesWriter`]) and streamed into the new state at the end, so a run keeps only a
//! few bytes per input file in memory. Phase 1: `threads` workers take files from contiguous
//! shares of the list ([`crate::queue`]) and each fills its own [`PartitionedWriter`],
//! duplicate index, error list and counters: no lock or channel per record. A worker that
//! meets a call id again keeps the higher `version` (then the later `lastModifiedDateTime`,
//! then the record with more nested items, then the earlier input position) and remembers the
//! row spans of the loser. A worker's index that outgrows its memory budget is sorted by call
//! id and spilled to a run file. Phase 2 merges all workers' runs by call id into the sorted
//! `Winners` with the same rule, so the winner depends neither on the thread count nor on
//! where the runs were cut, and memory does not grow with the number of calls. Phase 3 merges
//! sessions/participants_v2 pages exported apart from their call. Phase 4 rewrites only the
//! part files that hold superseded rows (none for a duplicate-free archive, so deduplication
//! costs one hash-map insert per record and a merge of sorted runs). Then the manifest and
//! error report are written and the staging folder is published.
//!
//! Incremental runs (see [`crate::incremental`], [`crate::state`], [`publish`]): the run holds the
//! output folder's lock, starts from the state of the current snapshot, and reads only new and
//! changed files. After phase 2 its winners are compared with the calls already in the dataset
//! by the same rule (`wins` in `index`); a record not newer than the dataset's version is superseded, a
//! newer one replaces it. Phase 3 also merges pages into calls of the dataset, retries pages that
//! still wait for their call, and merges again the pages of replaced calls. Phase 4 then builds
//! the new snapshot: the previous snapshot's part files are hard-linked, except those holding
//! replaced calls, which are rewritten without them under new names.
//!
//! Phase 1 lives in `worker`, the duplicate index of phases 1 and 2 in `index`, phase 3 in
//! `pages`; this module runs the phases, writes the snapshot and publishes it.

use crate::crashpoint::crash_point;
use crate::decode::{self, Item, Limits, PageKind};
use crate::discover;
use crate::discover::list::{ListWriter, Listed};
use crate::incremental::{self, Found, Planned};
use crate::lock::Lock;
use crate::manifest::*;
use crate::schema::Table;
use crate::sink::publish::{self, Rewrite, Staging};
use crate::sink::{PartFile, PartitionedWriter, RowSpan, SinkConfig};
use crate::state::{self, CallState, CallsSource, PageRef, PartState, StatesWriter, StoredError};
use anyhow::{Context, Result};
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
    /// Estimated bytes of call index a worker holds before it spills it to a sorted run file
    /// in the staging folder ([`INDEX_BUDGET`]; tests make it tiny).
    pub index_budget: usize,
}

pub use index::INDEX_BUDGET;

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
            index_budget: INDEX_BUDGET,
        }
    }
}

mod index;
mod pages;
mod worker;

use index::{put_summary, take_summary, CallSummary, IndexEntry, Shard, Spill};
use pages::{merge_page, orphan_error, page_error, Origin, PendingPage};
use worker::{error_at, Counts, ReadSet, Worker, WorkerResult};

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
    // The run's spool files (the file list, the files' states, the call index's runs) live in
    // the staging folder until the state is written: memory does not grow with the input.
    let spool = staging.dir.join(".index");
    // Each file is planned and listed as the walk finds it: nothing per file stays in memory
    // but its list offset and, for a file to read, its position in `plan.todo`.
    let mut plan = incremental::Plan::new(prev.as_ref().map(|p| &p.files));
    let mut listing = ListWriter::create(spool.join("files.list"))?;
    let mut unchanged = StatesWriter::create(spool.join("states-unchanged.bin"))?;
    let mut sizes: Vec<u64> = Vec::new();
    let found = discover::walk(&cfg.inputs, Some(&cfg.out), |f| {
        let key = state::file_key(&f.path);
        match plan.add(&f, &key) {
            Planned::Todo => sizes.push(f.size),
            Planned::Unchanged(stamp) => unchanged.push(&key, stamp)?,
        }
        listing.push(&f, &key)
    })?;
    let list = listing.finish()?;
    let unchanged = unchanged.finish()?;
    let sink = SinkConfig::new(staging.dir.clone(), cfg.compression)
        .with_workers(cfg.threads)
        .with_pii(cfg.pii.clone())
        .with_first_part(first_part);
    // The run files of the call index live in the staging folder until the state is written.
    let spill = Spill::new(spool.clone(), cfg.index_budget);

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
    let queue = crate::queue::WorkQueue::new(&sizes, cfg.threads);
    drop(sizes);
    let read = ReadSet::new(list.len());
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
                    spill: &spill,
                    tombstones: Vec::new(),
                    pages: Vec::new(),
                    errors: Vec::new(),
                    counts: Counts::default(),
                    quality: &quality,
                    raw_buf: Vec::new(),
                    read_buf: Vec::new(),
                    states: None,
                    notes: Vec::new(),
                };
                let mut failed = None;
                let me = worker_ids.fetch_add(1, Ordering::Relaxed);
                let mut listed = match list.reader() {
                    Ok(r) => Some(r),
                    Err(e) => {
                        abort.store(true, Ordering::Relaxed);
                        failed = Some(e);
                        None
                    }
                };
                while let Some(listed) = listed.as_mut().filter(|_| !abort.load(Ordering::Relaxed))
                {
                    let Some(i) = queue.next(me) else { break };
                    let fi = plan.todo[i];
                    let Listed { file, key } = match listed.get(fi) {
                        Ok(l) => l,
                        Err(e) => {
                            abort.store(true, Ordering::Relaxed);
                            failed = Some(e);
                            break;
                        }
                    };
                    let file = &file;
                    // A plain JSON file is read once, then hashed and parsed from memory;
                    // its size and time are taken first so a change while reading is seen.
                    let meta = state::file_meta(&file.path);
                    let mut raw = std::mem::take(&mut w.raw_buf);
                    let whole =
                        meta.is_ok() && decode::read_whole_plain(file, &cfg.limits, &mut raw);
                    let outcome = match meta {
                        Ok(meta) if whole => plan.check_bytes(&key, meta, &raw),
                        _ => plan.check(file, &key),
                    };
                    let res = outcome.status.is_read().then(|| {
                        w.process_file(file, whole.then_some(raw.as_slice()), &cfg.limits)
                    });
                    // Keep the buffer for the next file unless one huge file inflated it.
                    if raw.capacity() <= 64 << 20 {
                        w.raw_buf = raw;
                    }
                    let outcome = match res {
                        None => Ok(outcome),
                        Some(Ok(readable)) => Ok(incremental::after_read(file, outcome, readable)),
                        Some(Err(e)) => Err(e),
                    };
                    let spool_path = || spool.join(format!("states-{me}.bin"));
                    if let Err(e) =
                        outcome.and_then(|o| w.remember(file, &key, o, &read, spool_path))
                    {
                        abort.store(true, Ordering::Relaxed);
                        failed = Some(e);
                        break;
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
    let mut runs = Vec::new();
    let mut tombstones: Vec<RowSpan> = Vec::new();
    let mut pages: Vec<PendingPage> = Vec::new();
    let mut errors: Vec<ErrorEntry> = Vec::new();
    let mut counts = Counts::default();
    let mut states: Vec<state::StatesFile> = vec![unchanged];
    let mut unstable: Vec<String> = Vec::new();
    for res in results.into_inner().expect("no worker panicked") {
        let (w, p) = res?;
        parts.extend(p);
        tombstones.extend(w.tombstones);
        pages.extend(w.pages);
        errors.extend(w.errors);
        states.extend(w.states.map(StatesWriter::finish).transpose()?);
        unstable.extend(w.notes);
        add_counts(&mut counts, &w.counts);
        runs.extend(w.index.into_runs());
    }
    let winners = index::merge(
        runs,
        &spill,
        &mut counts.records.superseded,
        &mut tombstones,
    )?;
    let any_read = counts.outcomes.new + counts.outcomes.changed > 0;

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
            .any(|r| plan.find(&r.file_key).at().is_some())
    });
    // The dataset's calls this run can touch: the ids of its records and the calls its pages
    // (read now or still waiting) belong to. The others are copied from the previous state
    // when the new one is written, so an increment costs memory for what it adds, not for the
    // dataset.
    let mut ds: HashMap<Box<str>, CallState> = HashMap::new();
    let mut ds_ids: HashSet<Box<str>> = HashSet::new();
    let ds_loaded = match &prev {
        Some(p) if any_read || retry_possible => {
            let mut touched: HashSet<Box<str>> = HashSet::new();
            winners.scan(|id, _| {
                touched.insert(id.into());
            })?;
            touched.extend(pages.iter().map(|pg| pg.call_id.as_str().into()));
            touched.extend(
                p.files
                    .pending_pages
                    .iter()
                    .map(|r| r.call_id.as_str().into()),
            );
            ds = p
                .load_calls_where(|id| touched.contains(id))?
                .into_iter()
                .map(|c| (c.id.clone(), c))
                .collect();
            ds_ids = ds.keys().cloned().collect();
            true
        }
        _ => false,
    };
    let mut replaced: Vec<CallState> = Vec::new();
    // Winners of this run that lose to the dataset's version: dropped from the index.
    let mut older: HashSet<Box<str>> = HashSet::new();
    if ds_loaded {
        winners.scan(|id, e| {
            if let Some(old) = ds.get(id) {
                if e.beats_dataset(old) {
                    replaced.extend(ds.remove(id));
                } else {
                    older.insert(id.into());
                    tombstones.extend(e.spans.iter().flatten());
                    counts.records.superseded += 1;
                    inc.records_older_than_dataset += 1;
                }
            }
        })?;
    }
    crash_point("merged");

    // Phase 3: sessions / participants_v2 pages exported apart from their call: this run's, the
    // pages of earlier runs still waiting for their call, and the pages of replaced calls.
    // Pages still waiting for their call, with the position of their file (if it is an input).
    let mut pending: Vec<(PageRef, Origin, Option<u32>)> = Vec::new();
    let mut errors_kept: Vec<ErrorEntry> = Vec::new();
    if let Some(p) = &prev {
        // The plan follows the keys of the previous state's files; the pages of a replaced
        // call may name a file it does not (one that changed while it was read, so it was
        // never remembered): those are looked up in one pass over the list.
        let unknown: Vec<&[u8]> = replaced
            .iter()
            .flat_map(|c| &c.pages)
            .map(|r| r.file_key.as_slice())
            .filter(|k| plan.find(k) == Found::Unknown)
            .collect();
        let listed = list.find_keys(&unknown)?;
        let find = |k: &[u8]| match plan.find(k) {
            Found::At(i) => Some(i),
            Found::Absent => None,
            Found::Unknown => listed.get(k).copied(),
        };
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
            match find(&r.file_key) {
                Some(i) if read.get(i) => {} // read again in phase 1
                Some(i) => pages.push(PendingPage {
                    file: i,
                    loc: r.loc(),
                    position: r.position(),
                    kind: r.kind(),
                    call_id: r.call_id.clone(),
                    origin,
                }),
                None if origin == Origin::Retry => pending.push((r.clone(), origin, None)),
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
    // The winners that pages merge into, taken out of the index (which may be on disk) and
    // put back when the state is written.
    let page_calls: HashSet<&str> = pages.iter().map(|p| p.call_id.as_str()).collect();
    let mut paged: HashMap<Box<str>, IndexEntry> = HashMap::new();
    if !page_calls.is_empty() {
        winners.scan(|id, e| {
            if page_calls.contains(id) && !older.contains(id) {
                paged.insert(id.into(), e.clone());
            }
        })?;
    }
    drop(page_calls);
    let mut read_again: HashSet<(u32, u64)> = HashSet::new();
    let mut merge_writer = PartitionedWriter::new(&sink);
    let mut listed = list.reader()?;
    for page in &pages {
        let Listed { file, key } = listed.get(page.file)?;
        let (file, key) = (&file, key.as_slice());
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
        if let Some(entry) = paged.get_mut(page.call_id.as_str()) {
            merge_into(&mut entry.summary, &mut entry.pages)?;
        } else if let Some(c) = ds.get_mut(page.call_id.as_str()) {
            let mut s = take_summary(c);
            let merged = merge_into(&mut s, &mut c.pages);
            put_summary(c, s);
            merged?;
        } else {
            counts.pages[pc].rejected += 1;
            pending.push((page.to_ref(file, key), page.origin, Some(page.file)));
        }
    }
    drop(listed);
    parts.extend(merge_writer.finish()?);
    crash_point("pages");

    // Phase 4: drop superseded rows from the part files that hold them.
    let mut by_part: BTreeMap<u32, Vec<RowSpan>> = BTreeMap::new();
    for t in tombstones {
        by_part.entry(t.part).or_default().push(t);
    }
    for part in parts.iter_mut() {
        if let Some(spans) = by_part.get(&part.id) {
            publish::remove_rows(part, spans, &sink).with_context(|| {
                format!(
                    "cannot rewrite {} without superseded rows",
                    part.path.display()
                )
            })?;
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
                let done = publish::rewrite_without_calls(&src, &dst, table, ids, &sink)
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

    let written = winners.len() - older.len() as u64;
    counts.records.written = written;
    winners.scan(|id, e| {
        if !older.contains(id) {
            let r = &mut counts.records;
            r.incomplete_sessions += e.incomplete_sessions as u64;
            r.incomplete_participants_v2 += e.incomplete_participants as u64;
        }
    })?;
    inc.calls_replaced = replaced.len() as u64;
    inc.calls_added = written - inc.calls_replaced;
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

    // The state of the new snapshot. The files' states are streamed from their spool files
    // (the unchanged files', each worker's) and the previous state's files that are gone.
    let nfiles = list.len();
    let mut stored_errors: Vec<StoredError> = Vec::new();
    let o = &counts.outcomes;
    inc.files_new = o.new;
    inc.files_changed = o.changed;
    inc.files_unchanged = plan.unchanged;
    inc.files_same_content = o.same_content;
    inc.files_unstable = unstable.len() as u64;
    unstable.sort();
    notes.append(&mut unstable);
    let file_states: u64 = states.iter().map(|s| s.n).sum();
    // This run's rejections of files (not discovery problems, not pages waiting for their
    // call: those are found again on every run) are remembered until the file is read again.
    let mut keys = list.reader()?;
    for e in errors.iter().chain(&errors_kept) {
        if e.sort_key.0 < nfiles {
            stored_errors.push(StoredError::new(keys.get(e.sort_key.0)?.key, e));
        }
    }
    drop(keys);
    if let Some(p) = &prev {
        inc.files_gone = plan.gone_count();
        // Rejections of files not read again stay listed.
        for e in &p.files.errors {
            let i = plan.find(&e.file_key).at();
            let again = i.is_some_and(|i| {
                read.get(i)
                    || (e.kind.ends_with("_page") && read_again.contains(&(i, e.line.unwrap_or(0))))
            });
            if !again {
                errors_kept.push(e.entry(i.unwrap_or(u32::MAX - 1)));
                stored_errors.push(e.clone());
            }
        }
    }
    // Pages still waiting for their call: listed as rejected on every run until it arrives.
    for (r, origin, i) in &pending {
        let e = orphan_error(r, i.unwrap_or(u32::MAX - 1));
        if *origin == Origin::Run {
            errors.push(e);
        } else {
            errors_kept.push(e);
        }
    }
    let pending_pages: Vec<PageRef> = pending.into_iter().map(|(r, _, _)| r).collect();
    inc.errors_new = errors.len() as u64;
    inc.errors_kept = errors_kept.len() as u64;
    errors.append(&mut errors_kept);
    errors.sort_by(|a, b| (a.sort_key, &a.path, &a.reason).cmp(&(b.sort_key, &b.path, &b.reason)));
    inc.nothing_new = prev.is_some() && !any_read;

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
    let mut part_states = Vec::with_capacity(parts.len());
    for p in &parts {
        part_states.push(PartState {
            table: p.table.index() as u8,
            date: state::date_to_days(p.date),
            rel: rel_path(&staging.dir, &p.path)?,
            rows: p.rows,
        });
    }
    let ds_ids_len = ds_ids.len() as u64;
    let calls_source =
        match &prev {
            Some(p) if !ds_loaded => {
                inc.calls = p.header.calls;
                CallsSource::Unchanged {
                    path: p.calls_path(),
                    info: p.header.calls_bin.clone(),
                    count: p.header.calls,
                }
            }
            _ => {
                // The previous state's calls that were not loaded, read again one at a time (its
                // checksum is verified again first: ~10 ms for the 35 MB of 190,000 calls).
                let (untouched, n_untouched): (Box<dyn Iterator<Item = Result<CallState>>>, u64) =
                    match &prev {
                        Some(p) => (
                            Box::new(p.calls_reader()?.filter(move |c| {
                                c.as_ref().map_or(true, |c| !ds_ids.contains(&c.id))
                            })),
                            p.header.calls - ds_ids_len,
                        ),
                        None => (Box::new(std::iter::empty()), 0),
                    };
                inc.calls = n_untouched + ds.len() as u64 + written;
                // This run's winners, with the pages merged above, less those older than the
                // dataset's version.
                let this_run = winners.into_iter()?.filter_map(move |item| match item {
                    Ok((id, _)) if older.contains(&id) => None,
                    Ok((id, e)) => {
                        let e = paged.remove(&id).unwrap_or(e);
                        Some(Ok(e.into_state(id)))
                    }
                    Err(e) => Some(Err(e)),
                });
                let calls = untouched.chain(ds.into_values().map(Ok)).chain(this_run);
                CallsSource::New(Box::new(calls), inc.calls)
            }
        };
    counts.files.discovered = list.len() as u64 + found.skipped.len() as u64;
    counts.files.skipped_not_json = found.skipped.len() as u64;
    counts.files.skipped_paths = found
        .skipped
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    // The files' states as spooled: the unchanged files', then each worker's; then the
    // previous state's files that are gone, read again with their keys.
    let gone = match &prev {
        Some(p) if inc.files_gone > 0 => Some(plan.gone(p.files_reader()?)),
        _ => None,
    };
    let spooled = states
        .iter()
        .map(|s| s.read())
        .collect::<Result<Vec<_>>>()?;
    state::save(
        &staging.dir,
        state::NewState {
            generation,
            settings,
            next_part_id: sink.next_part_id(),
            files: state::FilesOut {
                files: Box::new(
                    spooled
                        .into_iter()
                        .flatten()
                        .map(|s| s.map(Into::into))
                        .chain(gone.into_iter().flatten().map(|f| f.map(Into::into))),
                ),
                count: file_states + inc.files_gone,
                parts: part_states,
                pending_pages,
                errors: stored_errors,
            },
            calls: calls_source,
        },
    )?;
    spill.clean()?;
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
    let (a, b) = (&mut into.outcomes, &c.outcomes);
    a.new += b.new;
    a.changed += b.changed;
    a.same_content += b.same_content;
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
