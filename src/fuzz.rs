//! Fuzzing harness: arbitrary bytes through every stage that reads untrusted input, in memory.
//!
//! [`decode_flatten`] does what a worker does with one file, without the file system: inflate
//! gzip (capped), strip a BOM, classify and parse the document with
//! [`decode_document`](crate::decode::decode_document), fall back to NDJSON lines when the
//! document has trailing documents, parse the items of sessions / participants_v2 pages, and
//! flatten every record twice: into a [`CountingSink`] and into the real Arrow batch builders
//! (with `--pii hash`, so the hashing runs too), whose batches are then finished. It must never
//! panic, whatever the bytes. The cargo-fuzz target `fuzz/fuzz_targets/decode_flatten.rs` and
//! the property test `tests/it/fuzz.rs` (run by CI) both call it.

use crate::decode::model::{Participant, Session};
use crate::decode::{self, Item, Position};
use crate::flatten::{self, rows::CallCtx, CountingSink, RowSink};
use crate::pii::PiiPolicy;
use crate::schema::Table;
use crate::sink::batch::BatchBuilder;
use std::io::Read;

/// The largest inflated input the harness holds (the pipeline's cap is `--max-document-mb`).
pub const MAX_INFLATED: u64 = 4 << 20;

/// What one input gave.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub records: u64,
    pub rejected: u64,
    pub pages: u64,
    pub page_items: u64,
    /// Rows per table ([`Table::index`]).
    pub rows: [u64; Table::ALL.len()],
}

/// Arrow builders of every table, as a [`RowSink`].
struct Builders(Vec<BatchBuilder>);

impl RowSink for Builders {
    type W = BatchBuilder;
    fn row(&mut self, table: Table, emit: impl FnOnce(&mut BatchBuilder)) {
        self.0[table.index()].append(emit);
    }
}

/// Runs `data` through decode and flatten (see the module docs). `quality` may hold a building
/// file, so that subnet and IP matching sees the input's addresses.
pub fn decode_flatten(data: &[u8], quality: &crate::quality::Context) -> Outcome {
    let mut out = Outcome::default();
    let inflated;
    let data = if data.starts_with(&[0x1f, 0x8b]) {
        let mut buf = Vec::new();
        let r = flate2::read::MultiGzDecoder::new(data)
            .take(MAX_INFLATED + 1)
            .read_to_end(&mut buf);
        if r.is_err() || buf.len() as u64 > MAX_INFLATED {
            out.rejected += 1;
            return out;
        }
        inflated = buf;
        &inflated[..]
    } else {
        data
    };
    let doc = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if doc.iter().all(u8::is_ascii_whitespace) {
        out.rejected += 1;
        return out;
    }
    let policy = PiiPolicy::new(crate::pii::PiiMode::Hash, Some("fuzz")).expect("a salt");
    let mut builders = Builders(
        Table::ALL
            .iter()
            .map(|t| BatchBuilder::new(*t, 16).with_pii(&policy))
            .collect(),
    );
    let mut counting = CountingSink::default();
    let mut handle = |item: Item, pos: Position| {
        let position = pos.to_string();
        match item {
            Item::Record(rec) => {
                out.records += 1;
                let _ = flatten::partition_date(&rec);
                let ctx = CallCtx {
                    rec: &rec,
                    source_path: "fuzz",
                    source_position: &position,
                    quality,
                };
                flatten::flatten_record(&ctx, &mut counting);
                flatten::flatten_record(&ctx, &mut builders);
            }
            Item::ChildPage { kind, items, .. } => {
                out.pages += 1;
                let rec = Default::default();
                let ctx = CallCtx {
                    rec: &rec,
                    source_path: "",
                    source_position: "",
                    quality,
                };
                for (i, raw) in items.iter().enumerate() {
                    match kind {
                        decode::PageKind::Sessions => {
                            if let Ok(s) = serde_json::from_str::<Session>(raw.get()) {
                                out.page_items += 1;
                                let one = std::slice::from_ref(&s);
                                let at = i as u32;
                                flatten::flatten_sessions(&ctx, one, at, Some("p"), &mut counting);
                                flatten::flatten_sessions(&ctx, one, at, Some("p"), &mut builders);
                            }
                        }
                        decode::PageKind::Participants => {
                            if let Ok(p) = serde_json::from_str::<Participant>(raw.get()) {
                                out.page_items += 1;
                                let one = std::slice::from_ref(&p);
                                let at = i as u32;
                                flatten::flatten_participants(&ctx, one, at, None, &mut counting);
                                flatten::flatten_participants(&ctx, one, at, None, &mut builders);
                            }
                        }
                    }
                }
            }
            Item::Rejected(reason) => {
                assert!(!reason.is_empty(), "a rejection without a reason");
                out.rejected += 1;
            }
        }
    };
    if decode::decode_document(doc, 1, &mut handle) {
        // Valid JSON followed by more JSON: read as NDJSON, as the pipeline does.
        for (n, line) in doc.split(|&b| b == b'\n').enumerate() {
            let line = line.trim_ascii();
            if !line.is_empty() {
                decode::decode_document(line, n as u64 + 1, &mut handle);
            }
        }
    }
    for b in &mut builders.0 {
        let rows = b.rows() as u64;
        let batch = b.finish();
        assert_eq!(batch.num_rows() as u64, rows);
    }
    out.rows = counting.rows;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_records_rows_and_rejections() {
        let q = &crate::quality::DEFAULT_CONTEXT;
        let o = decode_flatten(br#"{"id":"a","sessions":[{"id":"s"}]}"#, q);
        assert_eq!((o.records, o.rejected), (1, 0));
        assert_eq!(o.rows[Table::Sessions.index()], 1);
        let o = decode_flatten(b"{\"id\":\"a\"}\n{\"id\":\"b\"}\nnope\n", q);
        assert_eq!((o.records, o.rejected), (2, 1));
        assert_eq!(decode_flatten(b"\x1f\x8b\x08junk", q).rejected, 1);
        assert_eq!(decode_flatten(b"", q).rejected, 1);
        let page = br#"{"@odata.context":"x/callRecords('c')/sessions","value":[{"id":"s1"},7]}"#;
        let o = decode_flatten(page, q);
        assert_eq!((o.pages, o.page_items), (1, 1));
    }
}
