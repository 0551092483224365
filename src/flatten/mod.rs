//! Flatten: one decoded call record → rows of every table.
//!
//! The hierarchy callRecord → sessions → segments → media → streams is walked once; each row is
//! handed to a [`RowSink`] as an emitter closure, so the sink decides where the values go (Arrow
//! builders when writing, a counter in tests) and no intermediate row structs are allocated.

pub mod rows;
pub mod tables;

use crate::decode::model::{CallRecord, Participant, Session};
use crate::schema::{Emit, Table};
use rows::*;

/// Receives rows. `row` runs `emit` against the table's column writer.
pub trait RowSink {
    type W: Emit;
    fn row(&mut self, table: Table, emit: impl FnOnce(&mut Self::W));
}

/// Flattens a whole record: the call row, its participants and everything under its sessions.
pub fn flatten_record<S: RowSink>(call: &CallCtx, out: &mut S) {
    out.row(Table::Calls, |w| tables::emit_call(w, call));
    flatten_participants(
        call,
        call.rec.participants_v2.as_deref().unwrap_or(&[]),
        0,
        None,
        out,
    );
    for (i, legacy) in call.rec.participants.iter().flatten().enumerate() {
        let row = ParticipantRow {
            call,
            ordinal: i as u32,
            source: "participants",
            participant: None,
            legacy: Some(legacy),
            page_path: None,
        };
        out.row(Table::Participants, |w| tables::emit_participant(w, &row));
    }
    flatten_sessions(
        call,
        call.rec.sessions.as_deref().unwrap_or(&[]),
        0,
        None,
        out,
    );
}

/// Participant rows for `participants_v2` items, numbered from `first_ordinal`.
pub fn flatten_participants<S: RowSink>(
    call: &CallCtx,
    list: &[Participant],
    first_ordinal: u32,
    page_path: Option<&str>,
    out: &mut S,
) {
    for (i, p) in list.iter().enumerate() {
        let row = ParticipantRow {
            call,
            ordinal: first_ordinal + i as u32,
            source: "participants_v2",
            participant: Some(p),
            legacy: None,
            page_path,
        };
        out.row(Table::Participants, |w| tables::emit_participant(w, &row));
    }
}

/// Session, segment, stream and hop rows for `sessions`, numbered from `first_ordinal`.
pub fn flatten_sessions<S: RowSink>(
    call: &CallCtx,
    sessions: &[Session],
    first_ordinal: u32,
    page_path: Option<&str>,
    out: &mut S,
) {
    for (i, session) in sessions.iter().enumerate() {
        let srow = SessionRow {
            call,
            ordinal: first_ordinal + i as u32,
            session,
            page_path,
        };
        out.row(Table::Sessions, |w| tables::emit_session(w, &srow));
        for (j, segment) in session.segments.iter().flatten().enumerate() {
            let segrow = SegmentRow {
                session: &srow,
                ordinal: j as u32,
                segment,
            };
            out.row(Table::Segments, |w| tables::emit_segment(w, &segrow));
            for (k, media) in segment.media.iter().flatten().enumerate() {
                let streams = media.streams.as_deref().unwrap_or(&[]);
                if streams.is_empty() {
                    // Keep the media line's device and network info even without streams.
                    let row = StreamRow {
                        segment: &segrow,
                        media_ordinal: k as u32,
                        media,
                        stream_ordinal: None,
                        stream: None,
                    };
                    out.row(Table::Streams, |w| tables::emit_stream(w, &row));
                }
                for (l, stream) in streams.iter().enumerate() {
                    let row = StreamRow {
                        segment: &segrow,
                        media_ordinal: k as u32,
                        media,
                        stream_ordinal: Some(l as u32),
                        stream: Some(stream),
                    };
                    out.row(Table::Streams, |w| tables::emit_stream(w, &row));
                }
                for (side, net) in [
                    ("caller", &media.caller_network),
                    ("callee", &media.callee_network),
                ] {
                    for (h, hop) in net
                        .iter()
                        .flat_map(|n| n.trace_route_hops.iter().flatten())
                        .enumerate()
                    {
                        let row = HopRow {
                            segment: &segrow,
                            media_ordinal: k as u32,
                            media,
                            side,
                            ordinal: h as u32,
                            hop,
                        };
                        out.row(Table::TraceRouteHops, |w| tables::emit_hop(w, &row));
                    }
                }
            }
        }
    }
}

/// The UTC date a record's rows are partitioned under: the call's start, falling back to its
/// last modification and end (a record missing all three goes to the Hive null partition).
pub fn partition_date(rec: &CallRecord) -> Option<chrono::NaiveDate> {
    rec.start
        .or(rec.last_modified)
        .or(rec.end)
        .and_then(|t| crate::decode::scalar::utc_date(t.0))
}

/// Counts rows per table without storing anything (tests and dry runs).
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct CountingSink {
    pub rows: [u64; Table::ALL.len()],
}

/// An [`Emit`] that ignores every value.
pub struct Discard;

impl Emit for Discard {
    fn str(&mut self, _: &'static str, _: &'static str, _: Option<&str>) {}
    fn i32(&mut self, _: &'static str, _: &'static str, _: &'static str, _: Option<i32>) {}
    fn i64(&mut self, _: &'static str, _: &'static str, _: &'static str, _: Option<i64>) {}
    fn f64(&mut self, _: &'static str, _: &'static str, _: &'static str, _: Option<f64>) {}
    fn bool(&mut self, _: &'static str, _: &'static str, _: Option<bool>) {}
    fn ts(&mut self, _: &'static str, _: &'static str, _: Option<i64>) {}
    fn list<'x, I: Iterator<Item = &'x str>>(
        &mut self,
        _: &'static str,
        _: &'static str,
        _: Option<I>,
    ) {
    }
    fn group(&mut self, _: &'static str, _: &'static str, f: impl FnOnce(&mut Self)) {
        f(self)
    }
}

impl RowSink for CountingSink {
    type W = Discard;
    fn row(&mut self, table: Table, emit: impl FnOnce(&mut Discard)) {
        emit(&mut Discard);
        self.rows[table.index()] += 1;
    }
}
