//! The report cache: each run's partial tables and attendance rows, kept in
//! `DATASET/.callrec-report-cache/<key>/` and reused while the run's part files are unchanged.
//!
//! A nightly `callrec flatten` adds a day or two to a dataset and then reports on all of it:
//! without a cache the report reads every run of partitions again, so its cost grows with the
//! dataset while the flatten run's does not. A run is identified by its key text: the cache
//! format, the callrec version, and every part file of its dates in the five tables the
//! report reads, with size and modification time (an incremental run writes changed
//! partitions under new file names and hard-links the others). The folder is named by a hash
//! of that text, and the text itself is stored and compared in full, so a hash collision can
//! only cost a recomputation. Anything unreadable is a miss; a cache that cannot be written
//! only costs the next report its time. Entries the last report did not use are removed.

use crate::compute::RunPartials;
use anyhow::{Context, Result};
use polars::prelude::*;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// The cache folder inside a dataset (a `.callrec` name: `callrec flatten` leaves it alone).
pub const DIR: &str = ".callrec-report-cache";

/// Age after which an entry still being written is taken as left by a report that stopped.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// Bumped when the partial tables change shape or meaning.
const FORMAT: u32 = 1;

/// The tables a run reads.
pub const TABLES: [&str; 5] = ["streams", "calls", "sessions", "segments", "participants"];

/// The key text of a run: format, version, and every part file of `dates` in [`TABLES`].
pub fn key_text(dataset: &Path, dates: &[String]) -> Result<String> {
    let mut text = format!(
        "callrec report cache {FORMAT}, callrec {}\n",
        env!("CARGO_PKG_VERSION")
    );
    for table in TABLES {
        for date in dates {
            let dir = dataset.join(table).join(format!("date={date}"));
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files = Vec::new();
            for e in entries {
                let e = e.with_context(|| format!("cannot list {}", dir.display()))?;
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || !name.ends_with(".parquet") {
                    continue;
                }
                let m = e
                    .path()
                    .metadata()
                    .with_context(|| format!("cannot read {}", e.path().display()))?;
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                files.push(format!("{table}/date={date}/{name} {} {mtime}\n", m.len()));
            }
            files.sort();
            text.extend(files);
        }
    }
    Ok(text)
}

/// The cache of one report: what it found, what it used, whether it could write.
pub struct Cache {
    dir: PathBuf,
    used: HashSet<String>,
    /// The first write error, for a note in the report.
    pub write_error: Option<String>,
}

fn folder(key: &str) -> String {
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    format!("{:016x}", h.finish())
}

impl Cache {
    pub fn new(dir: &Path) -> Cache {
        Cache {
            dir: dir.to_path_buf(),
            used: HashSet::new(),
            write_error: None,
        }
    }

    /// The run stored under `key`, or `None` (absent, another key text, unreadable).
    pub fn load(&mut self, key: &str) -> Option<RunPartials> {
        let name = folder(key);
        let dir = self.dir.join(&name);
        if std::fs::read_to_string(dir.join("key.txt")).ok()? != key {
            return None;
        }
        let run = read_run(&dir).ok()?;
        self.used.insert(name);
        Some(run)
    }

    /// Stores `run` under `key`; a failure is remembered, not returned.
    pub fn store(&mut self, key: &str, run: &RunPartials) {
        let name = folder(key);
        let tmp = self.dir.join(format!("{name}.tmp-{}", std::process::id()));
        let done = self.dir.join(&name);
        let written = (|| -> Result<()> {
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            write_run(&tmp, run)?;
            std::fs::write(tmp.join("key.txt"), key)?;
            let _ = std::fs::remove_dir_all(&done);
            std::fs::rename(&tmp, &done)
                .with_context(|| format!("cannot rename {}", tmp.display()))?;
            Ok(())
        })();
        match written {
            Ok(()) => {
                self.used.insert(name);
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                self.write_error.get_or_insert(format!("{e:#}"));
            }
        }
    }

    /// Removes the entries this report did not use (runs whose files changed or are gone),
    /// and entries being written for longer than [`STALE_TMP`].
    pub fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // Another report's entry being written, unless it was left by a report that
            // stopped (writing an entry takes well under a second).
            if name.contains(".tmp-") {
                let age = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok());
                if age.is_some_and(|a| a > STALE_TMP) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
                continue;
            }
            if !self.used.contains(&name) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// `tables.json` (names and keys, in order), `t<i>.parquet` per table, `attendance.parquet`.
fn write_run(dir: &Path, run: &RunPartials) -> Result<()> {
    let list: Vec<(&String, &Vec<String>)> = run.tables.iter().map(|(n, k, _)| (n, k)).collect();
    std::fs::write(dir.join("tables.json"), serde_json::to_string(&list)?)?;
    for (i, (_, _, df)) in run.tables.iter().enumerate() {
        write_frame(&dir.join(format!("t{i}.parquet")), df)?;
    }
    write_frame(&dir.join("attendance.parquet"), &run.attendance)
}

fn write_frame(path: &Path, df: &DataFrame) -> Result<()> {
    let f =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut d = df.clone();
    // LZ4: the cache is written on every cold run, read on every warm one, and never shipped.
    // No statistics: the cache is read whole, never filtered, and computing them took a third
    // of the writing time (~45 small files per run).
    ParquetWriter::new(f)
        .with_compression(ParquetCompression::Lz4Raw)
        .with_statistics(StatisticsOptions::empty())
        .finish(&mut d)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn read_run(dir: &Path) -> Result<RunPartials> {
    let list: Vec<(String, Vec<String>)> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tables.json"))?)?;
    let mut tables = Vec::with_capacity(list.len());
    for (i, (name, keys)) in list.into_iter().enumerate() {
        tables.push((name, keys, read_frame(&dir.join(format!("t{i}.parquet")))?));
    }
    Ok(RunPartials {
        tables,
        attendance: read_frame(&dir.join("attendance.parquet"))?,
    })
}

fn read_frame(path: &Path) -> Result<DataFrame> {
    let f = std::fs::File::open(path)?;
    Ok(ParquetReader::new(f).finish()?)
}
