//! The run's accounting: `_manifest.json` (what was read, written, superseded and rejected) and
//! `_errors.ndjson` (one line per rejected file, document, line or record, with its position).
//!
//! The manifest balances exactly: `records.read = records.written + records.superseded +
//! records.rejected`, where a "record" is one unit of input: a record that parsed, or a file,
//! document, NDJSON line or `value[i]` element that was rejected as a whole.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct ErrorEntry {
    pub path: String,
    /// Human-readable position ("line 3, column 17, value[2]" or "file").
    pub position: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub element: Option<u32>,
    /// `file`, `record`, `sessions_page` or `participants_v2_page`.
    pub kind: &'static str,
    pub call_id: Option<String>,
    pub reason: String,
    #[serde(skip)]
    pub sort_key: (u32, u64, u32),
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct FileCounts {
    pub discovered: u64,
    pub read: u64,
    pub rejected: u64,
    /// Files inside input folders whose names are not JSON (`*.json`, `*.ndjson`, `*.jsonl`, `.gz`).
    pub skipped_not_json: u64,
    pub skipped_paths: Vec<String>,
    pub bytes_read: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct RecordCounts {
    pub read: u64,
    pub written: u64,
    pub superseded: u64,
    pub rejected: u64,
    /// Written records that still carry `sessions@odata.nextLink`.
    pub incomplete_sessions: u64,
    /// Written records that still carry `participants_v2@odata.nextLink`.
    pub incomplete_participants_v2: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct PageCounts {
    pub read: u64,
    /// Pages whose call is in this run (their new items were added to it).
    pub merged: u64,
    /// Pages whose call is not in this run, or that could not be read again.
    pub rejected: u64,
    pub items_added: u64,
    /// Items whose id the call already had (inline or from an earlier page): not added twice.
    pub items_duplicate: u64,
    pub items_rejected: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct TableCounts {
    pub rows: u64,
    pub files: u64,
}

/// The building file of a run: as given on the command line, and its number of rows.
#[derive(Debug, Clone, Serialize)]
pub struct BuildingsInfo {
    pub path: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub schema_version: u32,
    pub started_at: String,
    pub finished_at: String,
    pub duration_s: f64,
    pub threads: usize,
    pub inputs: Vec<String>,
    pub output: String,
    /// The rule profile of `streams.quality` (`--quality-profile`).
    pub quality_profile: &'static str,
    /// What columns that identify a person got (`--pii`): `keep`, `hash` or `drop`.
    pub pii: &'static str,
    /// In `hash` mode, a fingerprint of the salt (never the salt): datasets with equal key ids
    /// were hashed with the same salt, so their pseudonyms join. Null otherwise.
    pub pii_key_id: Option<String>,
    /// The CQD building file used (`--buildings`); null without one.
    pub buildings: Option<BuildingsInfo>,
    pub files: FileCounts,
    pub records: RecordCounts,
    pub child_pages: BTreeMap<&'static str, PageCounts>,
    pub tables: BTreeMap<&'static str, TableCounts>,
    pub errors: u64,
    pub errors_file: &'static str,
}

impl Manifest {
    /// True when any input was rejected (exit code 1).
    pub fn has_rejections(&self) -> bool {
        self.errors > 0
    }

    /// The summary printed to stderr at the end of a run.
    pub fn summary(&self) -> String {
        let r = &self.records;
        let mut s = format!(
            "callrec: {} files read ({} rejected, {} skipped as not JSON), {:.1} MB in {:.2} s\n\
             records: {} read = {} written + {} superseded + {} rejected",
            self.files.read,
            self.files.rejected,
            self.files.skipped_not_json,
            self.files.bytes_read as f64 / 1e6,
            self.duration_s,
            r.read,
            r.written,
            r.superseded,
            r.rejected
        );
        if r.incomplete_sessions + r.incomplete_participants_v2 > 0 {
            s += &format!(
                "\nincomplete records kept and marked: {} with more sessions, {} with more participants",
                r.incomplete_sessions, r.incomplete_participants_v2
            );
        }
        for (name, p) in &self.child_pages {
            if p.read > 0 {
                s += &format!(
                    "\n{name} pages: {} read, {} merged ({} added, {} already present), {} rejected",
                    p.read, p.merged, p.items_added, p.items_duplicate, p.rejected
                );
            }
        }
        s += "\nrows:";
        for (name, t) in &self.tables {
            s += &format!(" {name} {}", t.rows);
        }
        s += &format!("\nwritten to {}", self.output);
        if self.errors > 0 {
            s += &format!(
                "\n{} inputs rejected: see {}/{}",
                self.errors, self.output, self.errors_file
            );
        }
        s
    }
}
