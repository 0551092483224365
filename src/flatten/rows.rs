//! Row contexts: a borrowed view of one row's entity and its parents.

use crate::decode::model::*;

/// A call record and where it was read from.
pub struct CallCtx<'r, 'a> {
    pub rec: &'r CallRecord<'a>,
    pub source_path: &'r str,
    pub source_position: &'r str,
    /// Quality rule profile and building index for the `streams` quality columns.
    pub quality: &'r crate::quality::Context,
}

pub struct ParticipantRow<'r, 'a> {
    pub call: &'r CallCtx<'r, 'a>,
    pub ordinal: u32,
    /// `participants_v2` or `participants` (deprecated identity sets).
    pub source: &'static str,
    pub participant: Option<&'r Participant<'a>>,
    pub legacy: Option<&'r WithRaw<'a, IdentitySet<'a>>>,
    pub page_path: Option<&'r str>,
}

pub struct SessionRow<'r, 'a> {
    pub call: &'r CallCtx<'r, 'a>,
    pub ordinal: u32,
    pub session: &'r Session<'a>,
    /// The sessions page this session was merged from; `None` when inline in the record.
    pub page_path: Option<&'r str>,
}

pub struct SegmentRow<'r, 'a> {
    pub session: &'r SessionRow<'r, 'a>,
    pub ordinal: u32,
    pub segment: &'r Segment<'a>,
}

pub struct StreamRow<'r, 'a> {
    pub segment: &'r SegmentRow<'r, 'a>,
    pub media_ordinal: u32,
    pub media: &'r Media<'a>,
    pub stream_ordinal: Option<u32>,
    pub stream: Option<&'r MediaStream<'a>>,
}

pub struct HopRow<'r, 'a> {
    pub segment: &'r SegmentRow<'r, 'a>,
    pub media_ordinal: u32,
    pub media: &'r Media<'a>,
    pub side: &'static str,
    pub ordinal: u32,
    pub hop: &'r TraceRouteHop<'a>,
}
