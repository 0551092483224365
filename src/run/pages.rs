//! Phase 3: `sessions` and `participants_v2` pages exported apart from their call, merged into
//! the winning version (of this run or of the dataset), or kept waiting for their call.

use super::index::CallSummary;
use super::worker::{error_at, error_entry, Counts};
use super::FlattenConfig;
use crate::decode::model::{CallRecord, Participant, Session};
use crate::decode::scalar::Str;
use crate::decode::{self, DocLoc, Item, PageKind, Position};
use crate::discover::InputFile;
use crate::flatten::{self, rows::CallCtx};
use crate::manifest::ErrorEntry;
use crate::sink::PartitionedWriter;
use crate::state::{self, PageRef};
use anyhow::Result;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Where a page to merge comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// Read by this run.
    Run,
    /// Waiting for its call since an earlier run.
    Retry,
    /// Merged into a call that a newer version of this run replaces.
    Remerge,
}

pub(super) struct PendingPage {
    pub(super) file: u32,
    pub(super) loc: DocLoc,
    pub(super) position: Position,
    pub(super) kind: PageKind,
    pub(super) call_id: String,
    pub(super) origin: Origin,
}

impl PendingPage {
    pub(super) fn to_ref(&self, file: &InputFile, key: &[u8]) -> PageRef {
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

/// A rejection of the page `r`, sorted as if in the input file `file_index`.
pub(super) fn page_error(r: &PageRef, file_index: u32, reason: String) -> ErrorEntry {
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
pub(super) fn orphan_error(r: &PageRef, file_index: u32) -> ErrorEntry {
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

/// Merges the items of `page` into the call summarized by `summary` (a winner of this run or a
/// call of the dataset). Returns whether the page was merged.
#[allow(clippy::too_many_arguments)]
pub(super) fn merge_page(
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

/// One item of a sessions or participants_v2 page (boxed: pages are rare, and a session is
/// 1.5 KB).
enum PageItem<'a> {
    Session(Box<Session<'a>>),
    Participant(Box<Participant<'a>>),
}

impl PageItem<'_> {
    fn id(&self) -> Option<&Str<'_>> {
        match self {
            PageItem::Session(x) => x.id.as_ref(),
            PageItem::Participant(x) => x.id.as_ref(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn merge_items(
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
        let item = match page.kind {
            PageKind::Sessions => {
                serde_json::from_str(raw.get()).map(|x| PageItem::Session(Box::new(x)))
            }
            PageKind::Participants => {
                serde_json::from_str(raw.get()).map(|x| PageItem::Participant(Box::new(x)))
            }
        };
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                counts.pages[pc].items_rejected += 1;
                reject(errors, e);
                continue;
            }
        };
        let (known, n) = match &item {
            PageItem::Session(_) => (&mut s.session_ids, &mut s.sessions),
            PageItem::Participant(_) => (&mut s.participant_ids, &mut s.participants),
        };
        let h = item.id().map(|x| state::id_hash(x.as_str()));
        if h.is_some_and(|h| known.contains(&h)) {
            counts.pages[pc].items_duplicate += 1;
            continue;
        }
        // The item continues the call's ordinals.
        let page_path = Some(page_path.as_str());
        match &item {
            PageItem::Session(x) => {
                flatten::flatten_sessions(&ctx, std::slice::from_ref(x), *n, page_path, writer)
            }
            PageItem::Participant(x) => {
                flatten::flatten_participants(&ctx, std::slice::from_ref(x), *n, page_path, writer)
            }
        }
        *n += 1;
        known.extend(h);
        counts.pages[pc].items_added += 1;
        if let Some(e) = writer.take_error() {
            return Err(e);
        }
    }
    Ok(())
}
