//! The duplicate index: per call, the version kept and where its rows are. Each worker fills
//! a [`Shard`]; when a shard outgrows its memory budget it is sorted by call id and spilled to
//! a run file ([`Spill`]). Phase 2 merges every worker's runs by id into the [`Winners`] by the
//! winner rule ([`wins`]): memory then stays bounded by the budget, not by the number of calls
//! in the archive.

use crate::decode::model::CallRecord;
use crate::flatten;
use crate::sink::{RecordSpans, RowSpan};
use crate::state::{self, CallState, PageRef};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BinaryHeap, HashMap};
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// What the run needs to know about a written call to merge child pages into it later.
#[derive(Debug, Clone, Default)]
pub(super) struct CallSummary {
    /// Graph's values borrow a static string: one allocation less per call in the index.
    pub(super) call_type: Option<Cow<'static, str>>,
    pub(super) start: Option<i64>,
    pub(super) end: Option<i64>,
    pub(super) date: Option<NaiveDate>,
    pub(super) sessions: u32,
    pub(super) session_ids: Vec<u64>,
    pub(super) participants: u32,
    pub(super) participant_ids: Vec<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct IndexEntry {
    pub(super) version: i64,
    pub(super) last_modified: i64,
    /// Nested items in the record: on a (version, lastModified) tie the fuller export wins.
    pub(super) richness: u64,
    /// Input order: (file index, item number in the file).
    pub(super) order: (u32, u64),
    pub(super) spans: RecordSpans,
    pub(super) summary: CallSummary,
    pub(super) incomplete_sessions: bool,
    pub(super) incomplete_participants: bool,
    /// Pages exported apart from the call that were merged into it.
    pub(super) pages: Vec<PageRef>,
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
    pub(super) fn key(&self) -> (i64, i64, u64) {
        (self.version, self.last_modified, self.richness)
    }

    /// Whether `self` replaces `other` as the version of the call to keep.
    pub(super) fn beats(&self, other: &IndexEntry) -> bool {
        wins(self.key(), self.order, other.key(), other.order)
    }

    /// Whether `self` replaces the version `old` already in the dataset.
    pub(super) fn beats_dataset(&self, old: &CallState) -> bool {
        wins(
            self.key(),
            self.order,
            (old.version, old.last_modified, old.richness),
            (0, 0),
        )
    }

    pub(super) fn into_state(self, id: Box<str>) -> CallState {
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
pub(super) struct Shard {
    pub(super) slots: HashMap<Box<str>, u32>,
    pub(super) chunks: Vec<Vec<Option<IndexEntry>>>,
    /// Estimated heap bytes of the entries in memory (see [`Spill::budget`]).
    bytes: usize,
    /// The entries spilled so far, each run sorted by id.
    runs: Vec<Run>,
}

/// Entries per chunk of a [`Shard`] (about 256 KB).
pub(super) const SHARD_CHUNK: usize = 1024;

impl Shard {
    pub(super) fn at(&self, slot: u32) -> &Option<IndexEntry> {
        let i = slot as usize;
        &self.chunks[i / SHARD_CHUNK][i % SHARD_CHUNK]
    }

    pub(super) fn at_mut(&mut self, slot: u32) -> &mut Option<IndexEntry> {
        let i = slot as usize;
        &mut self.chunks[i / SHARD_CHUNK][i % SHARD_CHUNK]
    }

    pub(super) fn get(&self, id: &str) -> Option<&IndexEntry> {
        self.slots.get(id).and_then(|&s| self.at(s).as_ref())
    }

    /// Sets the entry of `id` and returns the one it replaces.
    pub(super) fn insert(&mut self, id: &str, e: IndexEntry) -> Option<IndexEntry> {
        if let Some(&slot) = self.slots.get(id) {
            return self.at_mut(slot).replace(e);
        }
        // Every chunk but the last is full.
        let used = self.chunks.len().saturating_sub(1) * SHARD_CHUNK
            + self.chunks.last().map_or(0, Vec::len);
        let slot = u32::try_from(used).expect("fewer than 2^32 calls per worker");
        match self.chunks.last_mut() {
            Some(c) if c.len() < SHARD_CHUNK => c.push(Some(e)),
            _ => {
                let mut c = Vec::with_capacity(SHARD_CHUNK);
                c.push(Some(e));
                self.chunks.push(c);
            }
        }
        self.bytes += Self::cost(id, self.at(slot).as_ref().expect("just pushed"));
        self.slots.insert(id.into(), slot);
        None
    }

    /// What an entry costs in memory: its slot in a chunk, its key and slot in the table, and
    /// its id hashes (with allocation overheads).
    fn cost(id: &str, e: &IndexEntry) -> usize {
        let s = &e.summary;
        std::mem::size_of::<Option<IndexEntry>>()
            + 64
            + id.len()
            + 8 * (s.session_ids.len() + s.participant_ids.len())
            + e.pages.len() * std::mem::size_of::<PageRef>()
    }

    /// Sorts the entries by id and writes them to a run file once they outgrow the budget.
    pub(super) fn spill_if_over(&mut self, spill: &Spill) -> Result<()> {
        if self.bytes <= spill.budget {
            return Ok(());
        }
        let entries = self.take_sorted();
        self.runs
            .push(Run::write(spill, entries.into_iter().map(Ok))?);
        Ok(())
    }

    fn take_sorted(&mut self) -> Vec<(Box<str>, IndexEntry)> {
        let mem = Shard {
            slots: std::mem::take(&mut self.slots),
            chunks: std::mem::take(&mut self.chunks),
            ..Default::default()
        };
        self.bytes = 0;
        let mut entries: Vec<(Box<str>, IndexEntry)> = mem.into_entries().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        entries
    }

    /// The spilled runs and the entries still in memory (sorted), for [`merge`].
    pub(super) fn into_runs(mut self) -> Vec<Run> {
        let mut runs = std::mem::take(&mut self.runs);
        let rest = self.take_sorted();
        if !rest.is_empty() {
            runs.push(Run::Mem(rest));
        }
        runs
    }

    pub(super) fn into_entries(mut self) -> impl Iterator<Item = (Box<str>, IndexEntry)> {
        let slots = std::mem::take(&mut self.slots);
        slots
            .into_iter()
            .filter_map(move |(id, s)| self.at_mut(s).take().map(|e| (id, e)))
    }
}

/// Where shards spill their sorted runs, and how much memory a shard may hold first.
pub(super) struct Spill {
    pub(super) dir: PathBuf,
    /// Estimated bytes of entries a worker's shard holds before it spills them.
    pub(super) budget: usize,
    /// Runs merged at once: more are merged in groups first, so that a huge archive's merge
    /// holds neither thousands of open files nor their read buffers.
    fan_in: usize,
    next: AtomicU32,
}

/// Runs merged at once (64 read buffers of 64 KiB).
const FAN_IN: usize = 64;

/// Estimated bytes a worker's index holds before it is spilled: about 8,000 calls of the
/// generated archive. Over the 10 GB benchmark archive (190,000 calls, 2 workers) the peak was
/// 413 MiB with the whole index in memory, 372 MiB with a 16 MiB budget and 319 MiB with this
/// one; the 1 GB archive (one spill per worker) kept its time and its 250 MB.
pub const INDEX_BUDGET: usize = 4 << 20;

impl Spill {
    pub(super) fn new(dir: PathBuf, budget: usize) -> Self {
        Spill {
            dir,
            budget,
            fan_in: FAN_IN,
            next: AtomicU32::new(0),
        }
    }

    fn new_path(&self) -> Result<PathBuf> {
        fs_err::create_dir_all(&self.dir)?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Ok(self.dir.join(format!("run-{n:06}.bin")))
    }

    /// Removes the run files (they are only needed until the state is written).
    pub(super) fn clean(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", self.dir.display()))
            }
            _ => Ok(()),
        }
    }
}

/// An index entry as written to a run file: the call's state plus what only the run needs.
#[derive(Serialize, Deserialize)]
struct SpillEntry {
    state: CallState,
    order: (u32, u64),
    spans: [Option<(u32, u32, u32)>; crate::sink::TABLES],
    incomplete: (bool, bool),
}

impl SpillEntry {
    fn new(id: Box<str>, e: IndexEntry) -> Self {
        let spans = e.spans.map(|s| s.map(|s| (s.part, s.start, s.len)));
        let (order, incomplete) = (e.order, (e.incomplete_sessions, e.incomplete_participants));
        SpillEntry {
            state: e.into_state(id),
            order,
            spans,
            incomplete,
        }
    }

    fn into_entry(self) -> (Box<str>, IndexEntry) {
        let mut c = self.state;
        let summary = take_summary(&mut c);
        let entry = IndexEntry {
            version: c.version,
            last_modified: c.last_modified,
            richness: c.richness,
            order: self.order,
            spans: self
                .spans
                .map(|s| s.map(|(part, start, len)| RowSpan { part, start, len })),
            summary,
            incomplete_sessions: self.incomplete.0,
            incomplete_participants: self.incomplete.1,
            pages: c.pages,
        };
        (c.id, entry)
    }
}

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Sorted (id, entry) pairs: in memory, or in a run file of `n` entries.
pub(super) enum Run {
    Mem(Vec<(Box<str>, IndexEntry)>),
    File { path: PathBuf, n: u64 },
}

type Entries = Box<dyn Iterator<Item = Result<(Box<str>, IndexEntry)>>>;

impl Run {
    fn len(&self) -> u64 {
        match self {
            Run::Mem(v) => v.len() as u64,
            Run::File { n, .. } => *n,
        }
    }

    /// Writes sorted entries to a new run file.
    fn write(
        spill: &Spill,
        entries: impl Iterator<Item = Result<(Box<str>, IndexEntry)>>,
    ) -> Result<Run> {
        let path = spill.new_path()?;
        let mut w = BufWriter::with_capacity(1 << 16, fs_err::File::create(&path)?);
        let mut written = 0u64;
        for item in entries {
            let (id, e) = item?;
            bincode::serde::encode_into_std_write(SpillEntry::new(id, e), &mut w, bincode_config())
                .with_context(|| format!("cannot write {}", path.display()))?;
            written += 1;
        }
        w.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Run::File { path, n: written })
    }

    fn into_iter(self) -> Result<Entries> {
        match self {
            Run::Mem(v) => Ok(Box::new(v.into_iter().map(Ok))),
            Run::File { path, n } => read_run(path, n),
        }
    }
}

/// The `n` entries of a run file, decoded one at a time.
fn read_run(path: PathBuf, n: u64) -> Result<Entries> {
    let file = fs_err::File::open(&path)?;
    let mut r = BufReader::with_capacity(1 << 16, file);
    Ok(Box::new((0..n).map(move |_| {
        let e: SpillEntry = bincode::serde::decode_from_std_read(&mut r, bincode_config())
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(e.into_entry())
    })))
}

/// The winning version of every call of this run, sorted by id: in memory when no shard
/// spilled, else in a run file read again by each pass over it.
pub(super) struct Winners(Run);

impl Winners {
    pub(super) fn len(&self) -> u64 {
        self.0.len()
    }

    /// Calls `f` on every winner in id order.
    pub(super) fn scan(&self, mut f: impl FnMut(&str, &IndexEntry)) -> Result<()> {
        match &self.0 {
            Run::Mem(v) => v.iter().for_each(|(id, e)| f(id, e)),
            Run::File { path, n } => {
                for item in read_run(path.clone(), *n)? {
                    let (id, e) = item?;
                    f(&id, &e);
                }
            }
        }
        Ok(())
    }

    pub(super) fn into_iter(self) -> Result<Entries> {
        self.0.into_iter()
    }
}

/// Merges sorted runs by call id: of several versions of a call the winner is kept, the
/// losers' rows go to `tombstones` and each counts as superseded. The result stays in memory
/// when every run was, else it is written to a run file of its own. More runs than the fan-in
/// are merged in groups first (the winner rule is a total order, so grouping changes nothing).
pub(super) fn merge(
    mut runs: Vec<Run>,
    spill: &Spill,
    superseded: &mut u64,
    tombstones: &mut Vec<RowSpan>,
) -> Result<Winners> {
    while runs.len() > spill.fan_in.max(2) {
        let rest = runs.split_off(spill.fan_in.max(2));
        let group = std::mem::replace(&mut runs, rest);
        runs.push(merge_once(group, spill, true, superseded, tombstones)?);
    }
    Ok(Winners(merge_once(
        runs, spill, false, superseded, tombstones,
    )?))
}

/// One merge of `runs` (see [`merge`]); `to_file` writes the result to a run file even when
/// every run was in memory. The run files read are removed afterwards.
fn merge_once(
    runs: Vec<Run>,
    spill: &Spill,
    to_file: bool,
    superseded: &mut u64,
    tombstones: &mut Vec<RowSpan>,
) -> Result<Run> {
    let in_memory = !to_file && runs.iter().all(|r| matches!(r, Run::Mem(_)));
    let inputs: Vec<PathBuf> = runs
        .iter()
        .filter_map(|r| match r {
            Run::File { path, .. } => Some(path.clone()),
            Run::Mem(_) => None,
        })
        .collect();
    let mut iters = runs
        .into_iter()
        .map(Run::into_iter)
        .collect::<Result<Vec<_>>>()?;
    // The head of each run, and a min-heap of (id, run) over the heads.
    let mut heads: Vec<Option<IndexEntry>> = Vec::with_capacity(iters.len());
    let mut heap = BinaryHeap::new();
    for (i, it) in iters.iter_mut().enumerate() {
        heads.push(match it.next().transpose()? {
            Some((id, e)) => {
                heap.push(std::cmp::Reverse((id, i)));
                Some(e)
            }
            None => None,
        });
    }
    let mut next_winner = || -> Result<Option<(Box<str>, IndexEntry)>> {
        let Some(std::cmp::Reverse((id, i))) = heap.pop() else {
            return Ok(None);
        };
        let mut best = heads[i].take().expect("a head for every heap item");
        let mut from = vec![i];
        while heap
            .peek()
            .is_some_and(|std::cmp::Reverse((o, _))| *o == id)
        {
            let std::cmp::Reverse((_, j)) = heap.pop().expect("peeked");
            let e = heads[j].take().expect("a head for every heap item");
            *superseded += 1;
            if e.beats(&best) {
                tombstones.extend(best.spans.iter().flatten());
                best = e;
            } else {
                tombstones.extend(e.spans.iter().flatten());
            }
            from.push(j);
        }
        for j in from {
            if let Some((nid, e)) = iters[j].next().transpose()? {
                debug_assert!(nid > id, "runs are sorted and hold an id once");
                heads[j] = Some(e);
                heap.push(std::cmp::Reverse((nid, j)));
            }
        }
        Ok(Some((id, best)))
    };
    let winners = std::iter::from_fn(|| next_winner().transpose());
    let merged = if in_memory {
        Run::Mem(winners.collect::<Result<_>>()?)
    } else {
        Run::write(spill, winners)?
    };
    for path in inputs {
        fs_err::remove_file(path)?;
    }
    Ok(merged)
}

/// Takes what merging a page needs out of a dataset call (put it back with [`put_summary`]).
pub(super) fn take_summary(c: &mut CallState) -> CallSummary {
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

pub(super) fn put_summary(c: &mut CallState, s: CallSummary) {
    c.sessions = s.sessions;
    c.session_ids = s.session_ids;
    c.participants = s.participants;
    c.participant_ids = s.participant_ids;
}

/// How much a record holds: sessions, segments, media, streams and participants.
pub(super) fn richness(rec: &CallRecord) -> u64 {
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

pub(super) fn summarize(rec: &CallRecord) -> CallSummary {
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
pub(super) fn call_type(t: &str) -> Cow<'static, str> {
    pub(super) const KNOWN: [&str; 4] =
        ["groupCall", "peerToPeer", "unknown", "unknownFutureValue"];
    match KNOWN.iter().find(|k| **k == t) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(t.to_owned()),
    }
}

/// Hashes of ids, in a vector without spare capacity (one per call stays in the index).
pub(super) fn id_hashes<'a>(
    ids: impl Iterator<Item = &'a crate::decode::scalar::Str<'a>>,
) -> Vec<u64> {
    let mut v: Vec<u64> = ids.map(|s| state::id_hash(s.as_str())).collect();
    v.shrink_to_fit();
    v
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

    /// All winners of `w` as (id, version, part of the first span).
    fn kept(w: &Winners) -> Vec<(String, i64, u32)> {
        let mut out = Vec::new();
        w.scan(|id, e| out.push((id.to_owned(), e.version, e.spans[0].unwrap().part)))
            .unwrap();
        out
    }

    #[test]
    fn shard_slots_span_chunks_and_survive_replace() {
        let mut s = Shard::default();
        let n = SHARD_CHUNK as u32 * 2 + 3;
        for i in 0..n {
            assert!(s
                .insert(&format!("c{i:05}"), entry(i as i64, i, i))
                .is_none());
        }
        assert_eq!(s.chunks.len(), 3);
        let old = s.insert("c01030", entry(-1, 0, 0)).map(|e| e.version);
        assert_eq!(old, Some(1030));
        assert_eq!(s.get("c01030").map(|e| e.version), Some(-1));
        let last = format!("c{:05}", n - 1);
        assert_eq!(s.get(&last).map(|e| e.order.0), Some(n - 1));
        // Nothing spilled: one run in memory, sorted by id.
        let mut runs = s.into_runs();
        assert_eq!(runs.len(), 1);
        let Some(Run::Mem(all)) = runs.pop() else {
            panic!("an in-memory run")
        };
        assert_eq!(all.len(), n as usize);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(all[1030].1.version, -1);
        assert_eq!(all[7].1.version, 7);
    }

    #[test]
    fn merge_keeps_one_winner_per_call_and_tombstones_the_losers() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path().join("spill"), usize::MAX);
        let runs = [
            shard(&[("a", entry(1, 0, 10)), ("b", entry(5, 1, 11))]),
            // "a" is newer here, "b" older; "c" is new.
            shard(&[
                ("a", entry(2, 2, 20)),
                ("b", entry(4, 3, 21)),
                ("c", entry(1, 4, 22)),
            ]),
            // A third version of "a": same version as the kept one but later in the input.
            shard(&[("a", entry(2, 9, 30))]),
        ]
        .into_iter()
        .flat_map(Shard::into_runs)
        .collect();
        let (mut superseded, mut tombstones) = (0, Vec::new());
        let w = merge(runs, &spill, &mut superseded, &mut tombstones).unwrap();
        assert!(
            matches!(w.0, Run::Mem(_)),
            "nothing spilled, nothing on disk"
        );
        assert_eq!(w.len(), 3);
        assert_eq!(superseded, 3);
        let mut dead: Vec<u32> = tombstones.iter().map(|t| t.part).collect();
        dead.sort();
        assert_eq!(dead, vec![10, 21, 30]);
        assert_eq!(
            kept(&w),
            vec![
                ("a".into(), 2, 20),
                ("b".into(), 5, 11),
                ("c".into(), 1, 22)
            ]
        );
        assert!(!spill.dir.exists());
    }

    #[test]
    fn spilled_runs_merge_to_the_same_winners_and_keep_every_field() {
        spilled_runs_merge(FAN_IN);
        // Four runs merged two at a time: two groups first, then their results.
        spilled_runs_merge(2);
    }

    #[test]
    fn a_run_file_that_cannot_be_written_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        // The spill folder's place is taken by a file: the folder cannot be created.
        let taken = dir.path().join("spill");
        std::fs::write(&taken, b"").unwrap();
        let spill = Spill::new(taken.clone(), 1);
        let mut s = Shard::default();
        s.insert("a", entry(1, 0, 10));
        let e = format!("{:#}", s.spill_if_over(&spill).unwrap_err());
        assert!(e.contains(&*taken.to_string_lossy()), "{e}");
    }

    fn spilled_runs_merge(fan_in: usize) {
        let dir = tempfile::tempdir().unwrap();
        // A budget of one byte: every insert spills a run of one entry.
        let mut spill = Spill::new(dir.path().join("spill"), 1);
        spill.fan_in = fan_in;
        let mut full = entry(3, 5, 40);
        full.last_modified = 1_700_000_000_000;
        full.richness = 12;
        full.spans[2] = Some(RowSpan {
            part: 41,
            start: 7,
            len: 3,
        });
        full.summary = CallSummary {
            call_type: Some(Cow::Borrowed("groupCall")),
            start: Some(1),
            end: Some(2),
            date: NaiveDate::from_ymd_opt(2026, 11, 27),
            sessions: 3,
            session_ids: vec![1, 2, 3],
            participants: 2,
            participant_ids: vec![9, 8],
        };
        full.incomplete_participants = true;
        full.pages = vec![PageRef {
            file_key: b"k".to_vec(),
            path: "p.json".into(),
            doc_line: Some(4),
            line: 5,
            column: Some(6),
            element: Some(7),
            kind: 1,
            call_id: "z".into(),
        }];
        let mut a = Shard::default();
        // Two versions of "a" in one worker, on both sides of a spill: the merge decides.
        for (id, e) in [
            ("z", full.clone()),
            ("a", entry(1, 0, 10)),
            ("a", entry(2, 6, 12)),
        ] {
            // `insert` replaces only what is still in memory.
            assert!(a.insert(id, e).is_none());
            a.spill_if_over(&spill).unwrap();
        }
        let mut b = Shard::default();
        b.insert("b", entry(1, 2, 11));
        b.spill_if_over(&spill).unwrap();
        let runs: Vec<Run> = a.into_runs().into_iter().chain(b.into_runs()).collect();
        assert_eq!(runs.len(), 4);
        assert!(runs.iter().all(|r| matches!(r, Run::File { n: 1, .. })));
        let (mut superseded, mut tombstones) = (0, Vec::new());
        let w = merge(runs, &spill, &mut superseded, &mut tombstones).unwrap();
        assert!(
            matches!(w.0, Run::File { n: 3, .. }),
            "the winners are on disk"
        );
        // The runs read are gone: only the winners' file is left.
        assert_eq!(std::fs::read_dir(&spill.dir).unwrap().count(), 1);
        assert_eq!(superseded, 1);
        assert_eq!(tombstones.iter().map(|t| t.part).collect::<Vec<_>>(), [10]);
        assert_eq!(
            kept(&w),
            vec![
                ("a".into(), 2, 12),
                ("b".into(), 1, 11),
                ("z".into(), 3, 40)
            ]
        );
        // Read back from disk, an entry is what was written.
        let (id, z) = w.into_iter().unwrap().last().unwrap().unwrap();
        assert_eq!(&*id, "z");
        assert_eq!(z.key(), full.key());
        assert_eq!(z.order, full.order);
        assert_eq!(z.spans, full.spans);
        assert_eq!(format!("{:?}", z.summary), format!("{:?}", full.summary));
        assert!(matches!(z.summary.call_type, Some(Cow::Borrowed(_))));
        assert!(!z.incomplete_sessions && z.incomplete_participants);
        assert_eq!(z.pages, full.pages);
        spill.clean().unwrap();
        assert!(!spill.dir.exists());
        spill.clean().unwrap();
    }
}
