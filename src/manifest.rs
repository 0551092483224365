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
    /// Human-readable position ("line 3, column 17, value\[2\]" or "file").
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
    /// Pages of earlier runs read again in this one: pages still waiting for their call, and
    /// pages merged into a call that a newer version replaced (merged into the new version).
    /// `read + retried = merged + rejected`.
    pub retried: u64,
}

/// How a run related to the dataset it found (see README, Nightly runs).
#[derive(Debug, Default, Clone, Serialize)]
pub struct IncrementalInfo {
    /// `incremental` (only new and changed files were read) or `full`.
    pub mode: &'static str,
    /// Why the run was full: `--full`, `no earlier dataset`, or an earlier dataset without state.
    pub full_reason: Option<&'static str>,
    /// Format version of the state in `_state/`.
    pub state_version: u32,
    /// The snapshot this run published, and the one it started from.
    pub generation: u64,
    pub previous_generation: Option<u64>,
    /// No file was new or changed: nothing was parsed, the rows are those of the previous
    /// snapshot.
    pub nothing_new: bool,
    pub files_new: u64,
    pub files_changed: u64,
    /// Same path, size and modification time: not read.
    pub files_unchanged: u64,
    /// Other modification time or size but the same content, or the content of another file
    /// processed before (a copy or a move): not parsed.
    pub files_same_content: u64,
    /// In the state but not found any more: their rows stay.
    pub files_gone: u64,
    /// Changed while they were read: read again by the next run.
    pub files_unstable: u64,
    /// Calls in the dataset after the run.
    pub calls: u64,
    /// Calls new to the dataset.
    pub calls_added: u64,
    /// Calls of the dataset replaced by a newer version (their rows rewritten, never doubled).
    pub calls_replaced: u64,
    /// Records of this run not newer than the version already in the dataset (also counted in
    /// `records.superseded`).
    pub records_older_than_dataset: u64,
    /// Part files of the previous snapshot kept as they were (hard links), rewritten without
    /// replaced calls, and written by this run.
    pub parts_kept: u64,
    pub parts_rewritten: u64,
    pub parts_new: u64,
    /// Lines of `_errors.ndjson` from this run's input, and kept from earlier runs (files not
    /// read again, pages still waiting for their call).
    pub errors_new: u64,
    pub errors_kept: u64,
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
    /// Incremental statistics and the snapshot published.
    pub incremental: IncrementalInfo,
    /// Things the user should know (a lock taken over, leftovers removed, …).
    pub notes: Vec<String>,
}

impl Manifest {
    /// True when this run rejected input (exit code 1). Rejections kept from earlier runs
    /// (files not read again) are still listed in `_errors.ndjson` but do not count.
    pub fn has_rejections(&self) -> bool {
        self.incremental.errors_new > 0
    }

    /// The summary printed to stderr at the end of a run.
    pub fn summary(&self) -> String {
        let r = &self.records;
        let inc = &self.incremental;
        let mut s = String::new();
        for n in &self.notes {
            s += &format!("callrec: note: {n}\n");
        }
        if inc.nothing_new {
            s += &format!(
                "callrec: nothing new: {} files unchanged since the last run, none parsed; \
                 snapshot {} has the same rows\n",
                inc.files_unchanged + inc.files_same_content,
                inc.generation
            );
        } else if inc.mode == "incremental" {
            s += &format!(
                "callrec: incremental: {} new, {} changed, {} unchanged, {} gone files; \
                 calls {} added, {} replaced by newer versions, {} records older than the dataset\n",
                inc.files_new,
                inc.files_changed,
                inc.files_unchanged + inc.files_same_content,
                inc.files_gone,
                inc.calls_added,
                inc.calls_replaced,
                inc.records_older_than_dataset
            );
        } else if let Some(why) = inc.full_reason {
            s += &format!("callrec: full build ({why})\n");
        }
        s += &format!(
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
            if p.read + p.retried > 0 {
                s += &format!(
                    "\n{name} pages: {} read, {} merged ({} added, {} already present), {} rejected",
                    p.read, p.merged, p.items_added, p.items_duplicate, p.rejected
                );
                if p.retried > 0 {
                    s += &format!(" ({} from earlier runs)", p.retried);
                }
            }
        }
        s += "\nrows:";
        for (name, t) in &self.tables {
            s += &format!(" {name} {}", t.rows);
        }
        s += &format!(
            "\nwritten to {} (snapshot {}, {} calls)",
            self.output, inc.generation, inc.calls
        );
        if inc.errors_new > 0 {
            s += &format!(
                "\n{} inputs rejected: see {}/{}",
                inc.errors_new, self.output, self.errors_file
            );
        }
        if inc.errors_kept > 0 {
            s += &format!(
                "\n{} rejections of earlier runs still listed in {}/{}",
                inc.errors_kept, self.output, self.errors_file
            );
        }
        s
    }
}
