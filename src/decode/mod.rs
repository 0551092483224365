//! Decode: bytes of an input file → classified JSON documents → call records.
//!
//! A file is read as one JSON document or as NDJSON lines (gzip-inflated first when it starts
//! with the gzip magic). Each document is parsed once into [`model::CallRecord`], whose envelope
//! keys tell what it is: a single record, a collection page (`value`), a sessions or
//! participants_v2 page exported apart from its call, a Graph error body, a change notification,
//! or a PSTN/Direct Routing log page. Records inside a page are parsed one by one from their raw
//! text, so one bad record rejects only itself. Every rejection carries the position (line,
//! column, `value[i]`) and a reason.

pub mod model;
pub mod scalar;

use crate::discover::{InputFile, Layout};
use model::CallRecord;
use serde_json::value::RawValue;
use std::fmt;
use std::io::{BufRead, BufReader, Read};

/// Where in a file something is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// 1-based line (0 = the whole file).
    pub line: u64,
    pub column: Option<u64>,
    /// Index in a collection page's `value` array (or a top-level array).
    pub element: Option<u32>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.line == 0 {
            f.write_str("file")?;
        } else {
            write!(f, "line {}", self.line)?;
            if let Some(c) = self.column {
                write!(f, ", column {c}")?;
            }
        }
        if let Some(i) = self.element {
            write!(f, ", value[{i}]")?;
        }
        Ok(())
    }
}

/// Identifies one document in a file, so a later phase can read it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DocLoc {
    Whole,
    /// 1-based line of an NDJSON file.
    Line(u64),
}

/// Which child collection a page exported apart from its call holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageKind {
    Sessions,
    Participants,
}

impl PageKind {
    pub fn name(self) -> &'static str {
        match self {
            PageKind::Sessions => "sessions",
            PageKind::Participants => "participants_v2",
        }
    }
}

/// What a document (or one element of a page) turned out to be.
// A record is by far the common item and is handed straight to the caller: boxing it would
// cost an allocation per record to shrink the rare ones.
#[allow(clippy::large_enum_variant)]
pub enum Item<'a> {
    Record(CallRecord<'a>),
    /// A `…/callRecords('<id>')/sessions` or `/participants_v2` page; `items` is the raw `value`.
    ChildPage {
        kind: PageKind,
        call_id: String,
        items: Vec<&'a RawValue>,
    },
    Rejected(String),
}

/// Limits that keep one hostile file from taking the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest document (whole file after inflating, or one NDJSON line) read into memory.
    pub max_document_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 1 << 30,
        }
    }
}

/// Why a whole file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
    #[error("file is empty")]
    Empty,
    #[error("named .gz but is not gzip data")]
    NotGzip,
    #[error("document is larger than the limit of {0} bytes (raise --max-document-mb)")]
    TooLarge(u64),
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn open(file: &InputFile) -> Result<Box<dyn BufRead + Send>, FileError> {
    let f = fs_err::File::open(&*file.path)?;
    let mut r = BufReader::with_capacity(64 * 1024, f);
    let head = r.fill_buf()?;
    if head.is_empty() {
        return Err(FileError::Empty);
    }
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(r),
        )))
    } else if file.gzip_name {
        Err(FileError::NotGzip)
    } else {
        Ok(Box::new(r))
    }
}

/// Reads a file that [`whole_document`] can take from memory (a plain JSON document
/// within the size limit) into `raw`. Returns false, with `raw` left empty, for any other file
/// (NDJSON, gzip, too large, unreadable): those are read by [`read_documents_into`].
pub fn read_whole_plain(file: &InputFile, limits: &Limits, raw: &mut Vec<u8>) -> bool {
    raw.clear();
    if file.layout != Layout::Document || file.gzip_name || file.size > limits.max_document_bytes {
        return false;
    }
    let Ok(mut f) = std::fs::File::open(&file.path) else {
        return false;
    };
    raw.reserve(file.size as usize + 1);
    let ok = (&mut f)
        .take(limits.max_document_bytes + 1)
        .read_to_end(raw)
        .is_ok();
    if !ok || raw.len() as u64 > limits.max_document_bytes || raw.starts_with(&GZIP_MAGIC) {
        raw.clear();
        return false;
    }
    true
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

/// One document handed out by [`read_documents`].
#[derive(Debug, Clone, Copy)]
pub enum Doc<'a> {
    Json(&'a [u8]),
    /// An NDJSON line longer than the limit: skipped (never held in memory) and reported, and
    /// the lines after it are still read.
    TooLarge(u64),
}

/// Reads `file` and calls `on_doc` for every JSON document in it, in order.
///
/// `on_doc` returns true when a whole-file document turned out to be several JSON documents one
/// after another (NDJSON saved as `.json`); the file is then read again line by line. Checking
/// that up front would cost a full extra parse of every file.
pub fn read_documents(
    file: &InputFile,
    limits: &Limits,
    on_doc: impl FnMut(Doc, DocLoc) -> bool,
) -> Result<(), FileError> {
    read_documents_into(file, limits, &mut Vec::new(), on_doc)
}

/// [`read_documents`] with a caller-owned buffer, reused across files by a worker: a fresh
/// buffer per file cost an mmap, page faults and zeroing for every file above 128 KiB.
pub fn read_documents_into(
    file: &InputFile,
    limits: &Limits,
    buf: &mut Vec<u8>,
    mut on_doc: impl FnMut(Doc, DocLoc) -> bool,
) -> Result<(), FileError> {
    let mut r = open(file)?;
    match file.layout {
        Layout::Lines => read_lines(&mut r, limits, |doc, loc| {
            on_doc(doc, loc);
        }),
        Layout::Document => {
            buf.clear();
            buf.reserve(file.size.min(limits.max_document_bytes) as usize + 1);
            r.take(limits.max_document_bytes + 1).read_to_end(buf)?;
            whole_document(buf, limits, on_doc)
        }
    }
}

/// A whole file's text: one JSON document, or NDJSON saved as `.json` (when `on_doc` says so).
/// Takes a plain document read by [`read_whole_plain`] as well as one [`read_documents_into`]
/// read.
pub fn whole_document(
    buf: &[u8],
    limits: &Limits,
    mut on_doc: impl FnMut(Doc, DocLoc) -> bool,
) -> Result<(), FileError> {
    if buf.len() as u64 > limits.max_document_bytes {
        return Err(FileError::TooLarge(limits.max_document_bytes));
    }
    let doc = strip_bom(buf);
    if doc.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    if on_doc(Doc::Json(doc), DocLoc::Whole) {
        return read_lines(&mut &buf[..], limits, |doc, loc| {
            on_doc(doc, loc);
        });
    }
    Ok(())
}

fn read_lines(
    r: &mut dyn BufRead,
    limits: &Limits,
    mut on_line: impl FnMut(Doc, DocLoc),
) -> Result<(), FileError> {
    let mut buf = Vec::new();
    let mut n = 0u64;
    let mut any = false;
    loop {
        buf.clear();
        let read = r
            .take(limits.max_document_bytes + 1)
            .read_until(b'\n', &mut buf)?;
        if read == 0 {
            break;
        }
        n += 1;
        if buf.len() as u64 > limits.max_document_bytes && !buf.ends_with(b"\n") {
            any = true;
            // Skip the rest of the line without keeping it, then go on with the next one.
            loop {
                buf.clear();
                let more = r.take(64 * 1024).read_until(b'\n', &mut buf)?;
                if more == 0 || buf.ends_with(b"\n") {
                    break;
                }
            }
            on_line(Doc::TooLarge(limits.max_document_bytes), DocLoc::Line(n));
            continue;
        }
        let line = if n == 1 { strip_bom(&buf) } else { &buf[..] };
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        any = true;
        on_line(Doc::Json(line), DocLoc::Line(n));
    }
    if !any {
        return Err(FileError::Empty);
    }
    Ok(())
}

/// Finds the document `loc` in `file` again and hands it to `f`.
pub fn read_document_at(
    file: &InputFile,
    limits: &Limits,
    loc: DocLoc,
    mut f: impl FnMut(Doc),
) -> Result<(), FileError> {
    read_documents(file, limits, |doc, l| {
        if l == loc {
            f(doc);
            false
        } else {
            // The document sought was found on a line of a `.json` file holding NDJSON.
            l == DocLoc::Whole
        }
    })
}

/// 1-based line and column of byte `offset` in `buf`.
fn line_col(buf: &[u8], offset: usize) -> (u64, u64) {
    let before = &buf[..offset.min(buf.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
    (line, col)
}

fn serde_position(base_line: u64, e: &serde_json::Error, element: Option<u32>) -> Position {
    let (line, column) = if e.line() == 0 {
        (base_line.max(1), None)
    } else {
        (base_line + e.line() as u64 - 1, Some(e.column() as u64))
    };
    Position {
        line,
        column,
        element,
    }
}

/// The call id inside `…callRecords('<id>')/sessions…` or `…/participants_v2…`.
fn child_page(context: &str) -> Option<(PageKind, String)> {
    let start = context.find("callRecords('")? + "callRecords('".len();
    let rest = &context[start..];
    let end = rest.find("')")?;
    let tail = &rest[end + 2..];
    let kind = if tail.starts_with("/sessions") {
        PageKind::Sessions
    } else if tail.starts_with("/participants_v2") {
        PageKind::Participants
    } else {
        return None;
    };
    Some((kind, rest[..end].to_owned()))
}

fn is_notification(r: &CallRecord) -> bool {
    r.id.is_none()
        && (r.change_type.is_some() || r.subscription_id.is_some() || r.resource.is_some())
        || (r.change_type.is_some() && r.subscription_id.is_some())
}

fn graph_error_reason(raw: &RawValue) -> String {
    #[derive(serde::Deserialize)]
    struct E {
        code: Option<String>,
        message: Option<String>,
    }
    match serde_json::from_str::<E>(raw.get()) {
        Ok(E { code, message }) => format!(
            "a Microsoft Graph error response, not call records (code {:?}: {:?}); re-export the record",
            code.unwrap_or_default(),
            message.unwrap_or_default()
        ),
        Err(_) => "a Microsoft Graph error response, not call records".to_owned(),
    }
}

const NOTIFICATION: &str = "a change notification, not a call record: it carries only the call id; fetch the record with GET /communications/callRecords/{id}?$expand=sessions($expand=segments)";

/// [`decode_document`] for anything [`read_documents`] hands out: an oversized line becomes a
/// rejected item at its line.
pub fn decode_doc<'a>(doc: Doc<'a>, base_line: u64, mut f: impl FnMut(Item<'a>, Position)) -> bool {
    match doc {
        Doc::Json(bytes) => decode_document(bytes, base_line, f),
        Doc::TooLarge(limit) => {
            let reason = format!(
                "line is larger than the limit of {limit} bytes (raise --max-document-mb); it was skipped"
            );
            f(
                Item::Rejected(reason),
                Position {
                    line: base_line,
                    column: None,
                    element: None,
                },
            );
            false
        }
    }
}

/// Classifies one JSON document (`base_line` = the line it starts on) and reports its items.
///
/// Returns true, without reporting anything, when the document is valid JSON followed by more
/// JSON: the caller re-reads it as NDJSON.
pub fn decode_document<'a>(
    doc: &'a [u8],
    base_line: u64,
    mut f: impl FnMut(Item<'a>, Position),
) -> bool {
    let here = Position {
        line: base_line,
        column: None,
        element: None,
    };
    // Validating UTF-8 once for the document lets serde_json skip it for every string.
    let doc = match std::str::from_utf8(doc) {
        Ok(t) => t,
        Err(e) => {
            let (l, c) = line_col(doc, e.valid_up_to());
            let reason = format!("invalid UTF-8 at byte {} (not JSON text)", e.valid_up_to());
            f(
                Item::Rejected(reason),
                Position {
                    line: base_line + l - 1,
                    column: Some(c),
                    element: None,
                },
            );
            return false;
        }
    };
    let trimmed = doc.trim_ascii_start();
    if trimmed.starts_with('[') {
        // A bare JSON array: each element must be a call record.
        match serde_json::from_str::<Vec<&RawValue>>(doc) {
            Ok(items) => decode_elements(doc.as_bytes(), base_line, &items, &mut f),
            Err(e) => f(
                Item::Rejected(format!("invalid JSON: {e}")),
                serde_position(base_line, &e, None),
            ),
        }
        return false;
    }
    if !trimmed.starts_with('{') {
        let reason = match serde_json::from_str::<serde::de::IgnoredAny>(doc) {
            Ok(_) => "not a call record: the JSON is not an object".to_owned(),
            Err(e) if is_trailing(&e) => return true,
            Err(e) => format!("invalid JSON: {e}"),
        };
        f(Item::Rejected(reason), here);
        return false;
    }
    let rec: CallRecord<'a> = match serde_json::from_str(doc) {
        Ok(r) => r,
        Err(e) if is_trailing(&e) => return true,
        Err(e) => {
            f(
                Item::Rejected(json_reason(&e)),
                serde_position(base_line, &e, None),
            );
            return false;
        }
    };
    const LOG_PAGE: &str = "Collection(microsoft.graph.callRecords.";
    let context = rec.odata_context.as_ref().map_or("", |c| c.as_str());
    let item = if let Some(err) = rec.error {
        Item::Rejected(graph_error_reason(err))
    } else if let Some(value) = rec.value {
        if let Some(i) = context.find(LOG_PAGE) {
            let ty = context[i + LOG_PAGE.len()..].trim_end_matches(')');
            Item::Rejected(format!(
                "a page of {ty} rows (PSTN / Direct Routing / SMS logs are not call records and are not supported yet)"
            ))
        } else if let Some((kind, call_id)) = child_page(context) {
            Item::ChildPage {
                kind,
                call_id,
                items: value,
            }
        } else {
            decode_elements(doc.as_bytes(), base_line, &value, &mut f);
            return false;
        }
    } else if is_notification(&rec) {
        Item::Rejected(NOTIFICATION.to_owned())
    } else {
        Item::Record(rec)
    };
    f(item, here);
    false
}

fn is_trailing(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("trailing characters")
}

fn json_reason(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Syntax => format!("invalid JSON: {e}"),
        serde_json::error::Category::Eof => format!("truncated JSON: {e}"),
        serde_json::error::Category::Data => format!("not a valid call record: {e}"),
        serde_json::error::Category::Io => format!("read error: {e}"),
    }
}

/// Reports each element of a page. Positions carry the element index; an element's line and
/// column are computed only when it is rejected (counting lines for every record of every page
/// showed up in profiles).
fn decode_elements<'a>(
    doc: &'a [u8],
    base_line: u64,
    items: &[&'a RawValue],
    f: &mut impl FnMut(Item<'a>, Position),
) {
    let base = doc.as_ptr() as usize;
    for (i, raw) in items.iter().enumerate() {
        let located = || {
            let (l, c) = line_col(doc, raw.get().as_ptr() as usize - base);
            Position {
                line: base_line + l - 1,
                column: Some(c),
                element: Some(i as u32),
            }
        };
        let pos = Position {
            line: base_line,
            column: None,
            element: Some(i as u32),
        };
        match serde_json::from_str::<CallRecord<'a>>(raw.get()) {
            Ok(r) if r.value.is_some() || r.error.is_some() => f(
                Item::Rejected(
                    "not a call record: a nested collection or error inside `value`".to_owned(),
                ),
                located(),
            ),
            Ok(r) if is_notification(&r) => f(Item::Rejected(NOTIFICATION.to_owned()), located()),
            Ok(r) => f(Item::Record(r), pos),
            Err(e) => {
                let start = located();
                let mut p = serde_position(start.line, &e, Some(i as u32));
                if e.line() == 1 {
                    p.column = Some(start.column.unwrap_or(1) + e.column() as u64 - 1);
                }
                f(Item::Rejected(json_reason(&e)), p)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(doc: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        decode_document(doc.as_bytes(), 1, |item, pos| {
            let what = match item {
                Item::Record(r) => format!(
                    "record {}",
                    r.id.map(|s| s.0.into_owned()).unwrap_or_default()
                ),
                Item::ChildPage { kind, call_id, .. } => {
                    format!("{} page of {call_id}", kind.name())
                }
                Item::Rejected(r) => format!("rejected: {r}"),
            };
            out.push((what, pos.to_string()));
        });
        out
    }

    #[test]
    fn classifies_documents() {
        assert_eq!(
            classify(r#"{"id":"a","version":1}"#),
            vec![("record a".into(), "line 1".into())]
        );
        let page =
            "{\"value\":[\n {\"id\":\"a\"},\n {\"id\":\"b\",\"sessions\":7},\n {\"id\":\"c\"}]}";
        let got = classify(page);
        assert_eq!(got[0], ("record a".into(), "line 1, value[0]".into()));
        assert!(
            got[1]
                .0
                .starts_with("rejected: not a valid call record: invalid type: integer `7`"),
            "{:?}",
            got[1]
        );
        assert_eq!(got[1].1, "line 3, column 23, value[1]");
        assert_eq!(got[2], ("record c".into(), "line 1, value[2]".into()));
        let sessions = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#communications/callRecords('abc')/sessions","value":[]}"#;
        assert_eq!(classify(sessions)[0].0, "sessions page of abc");
        let err = r#"{"error":{"code":"NotFound","message":"gone"}}"#;
        assert!(classify(err)[0].0.contains("Graph error response"));
        let notif = r#"{"value":[{"changeType":"created","subscriptionId":"s","resource":"communications/callRecords/x"}]}"#;
        assert!(classify(notif)[0].0.contains("change notification"));
        let pstn = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.callRecords.pstnCallLogRow)","value":[{}]}"#;
        assert!(classify(pstn)[0].0.contains("pstnCallLogRow rows"));
        assert!(classify("[1,2]")[0].0.contains("rejected"));
        assert!(classify("42")[0].0.contains("not an object"));
        let trunc = classify("{\"id\":\"a\",\n\"version\":");
        assert!(
            trunc[0].0.starts_with("rejected: truncated JSON"),
            "{trunc:?}"
        );
        assert_eq!(trunc[0].1, "line 2, column 10");
    }
}
