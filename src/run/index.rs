//! The duplicate index: per call, the version kept and where its rows are. Each worker fills
//! a [`Shard`]; phase 2 joins them into a [`CallIndex`] by the winner rule ([`wins`]).

use crate::decode::model::CallRecord;
use crate::flatten;
use crate::sink::{RecordSpans, RowSpan};
use crate::state::{self, CallState, PageRef};
use chrono::NaiveDate;
use std::borrow::Cow;
use std::collections::HashMap;

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

    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(super) fn get(&self, id: &str) -> Option<&IndexEntry> {
        self.slots.get(id).and_then(|&s| self.at(s).as_ref())
    }

    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut IndexEntry> {
        let slot = *self.slots.get(id)?;
        self.at_mut(slot).as_mut()
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
        self.slots.insert(id.into(), slot);
        None
    }

    pub(super) fn remove(&mut self, id: &str) -> Option<IndexEntry> {
        let slot = self.slots.remove(id)?;
        self.at_mut(slot).take()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&Box<str>, &IndexEntry)> {
        self.slots
            .iter()
            .filter_map(|(id, &s)| self.at(s).as_ref().map(|e| (id, e)))
    }

    pub(super) fn into_entries(mut self) -> impl Iterator<Item = (Box<str>, IndexEntry)> {
        let slots = std::mem::take(&mut self.slots);
        slots
            .into_iter()
            .filter_map(move |(id, s)| self.at_mut(s).take().map(|e| (id, e)))
    }
}

/// The calls of this run: the workers' indexes kept apart (merging them into one map would
/// hold two copies of the largest while the table grows). An id is in at most one shard.
#[derive(Default)]
pub(super) struct CallIndex {
    pub(super) shards: Vec<Shard>,
}

impl CallIndex {
    /// Adds a worker's index: of two versions of a call the loser is dropped, its rows go to
    /// `tombstones` and it counts as superseded.
    pub(super) fn add_shard(
        &mut self,
        mut shard: Shard,
        superseded: &mut u64,
        tombstones: &mut Vec<RowSpan>,
    ) {
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

    pub(super) fn len(&self) -> usize {
        self.shards.iter().map(Shard::len).sum()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&Box<str>, &IndexEntry)> {
        self.shards.iter().flat_map(Shard::iter)
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &IndexEntry> {
        self.iter().map(|(_, e)| e)
    }

    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut IndexEntry> {
        self.shards.iter_mut().find_map(|s| s.get_mut(id))
    }

    pub(super) fn remove(&mut self, id: &str) -> Option<IndexEntry> {
        self.shards.iter_mut().find_map(|s| s.remove(id))
    }

    pub(super) fn into_entries(self) -> impl Iterator<Item = (Box<str>, IndexEntry)> {
        self.shards.into_iter().flat_map(Shard::into_entries)
    }
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
