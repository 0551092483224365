//! Call-quality reports over a callrec dataset (`DIR/<table>/date=YYYY-MM-DD/*.parquet`),
//! computed with polars: lazy scans of the Parquet files, group-bys, and the CQD measures
//! (poor stream rate, poor call rate, setup/drop approximations, feedback) per UTC day and per
//! dimension, beside Microsoft's suggested targets.
//!
//! This crate is the only place that links polars. It reads the dataset's Parquet files and
//! knows nothing of the callrec crate's Arrow types: the two meet only at the files.
//!
//! # The user side
//!
//! A stream has two endpoints. CQD calls the server end First and the client end Second and
//! slices by the Second endpoint. The reports do the same: platform, product family, client
//! version, connection type, Wi-Fi band, subnet, building, city, country, region and
//! inside/outside are the user's (Second) endpoint's, picked with the `first_side` column (the
//! user is the other side). Where `first_side` is null the callee is the user unless only the
//! callee is a service endpoint. The connection type pair is First : Second.
//!
//! # Output
//!
//! [`write_report`] writes, into a fresh folder that replaces the previous one only when
//! complete: every table as `<name>.csv` (formula-injection guarded) and `<name>.parquet`,
//! `summary.json`, `summary.md` and `report.html`.

mod cache;
mod compute;
mod html;
mod load;
mod markdown;
mod output;
mod targets;
#[cfg(test)]
mod tests;

pub use compute::{Report, Settings, BREAKDOWNS};
pub use html::esc as html_escape;
pub use output::{guard as csv_guard, needs_guard as csv_needs_guard};

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The report folder inside a dataset.
pub const REPORTS_DIR: &str = "reports";

/// A file every report folder has; a folder without it is never replaced or removed.
const MARKER: &str = "summary.json";

/// What [`write_report`] wrote.
#[derive(Debug)]
pub struct Written {
    /// The report folder.
    pub dir: PathBuf,
    /// File names inside it, in writing order.
    pub files: Vec<String>,
    /// The classification profile(s) the streams were judged with.
    pub profile: String,
    /// One line for stderr: poor stream rate, poor call rate, targets failed.
    pub headline: String,
    /// Runs of date partitions, and how many came from the report cache.
    pub runs: usize,
    pub runs_cached: usize,
}

impl Written {
    /// `DIR (N runs of partitions, M from the cache)`, for "written to …".
    pub fn place(&self) -> String {
        format!(
            "{} ({} run{} of partitions, {} from the cache)",
            self.dir.display(),
            self.runs,
            if self.runs == 1 { "" } else { "s" },
            self.runs_cached
        )
    }
}

/// `DATASET/reports`.
pub fn default_dir(dataset: &Path) -> PathBuf {
    dataset.join(REPORTS_DIR)
}

/// Tables shown whole in `summary.json` (the others only as CSV / Parquet).
const JSON_TABLES: &[&str] = &[
    "modalities",
    "targets",
    "reliability",
    "failures",
    "feedback_ratings",
    "feedback_tokens",
    "poor_reasons",
    "by_day",
    "by_call_type",
    "worst_subnets",
    "worst_buildings",
    "worst_users",
    "missing_subnets",
];

/// Computes the reports of the dataset at `dataset` and writes them to `out` (default
/// `DATASET/reports`). The folder is written beside its final place and renamed into it when
/// complete; an existing `out` is replaced only if it is an earlier report folder (or empty).
pub fn write_report(dataset: &Path, out: Option<&Path>, settings: &Settings) -> Result<Written> {
    if !dataset.is_dir() {
        bail!("{} is not a folder", dataset.display());
    }
    if !dataset.join("_manifest.json").is_file() {
        bail!(
            "{} is not a callrec dataset (no _manifest.json); run `callrec flatten … --out {}` first",
            dataset.display(),
            dataset.display()
        );
    }
    let dir = out.map_or_else(|| default_dir(dataset), Path::to_path_buf);
    if dir.exists() {
        if !dir.is_dir() {
            bail!("{} exists and is not a folder", dir.display());
        }
        let empty = std::fs::read_dir(&dir)?.next().is_none();
        if !empty && !dir.join(MARKER).is_file() {
            bail!(
                "{} exists and is not a callrec report folder (no {MARKER}); choose another --out",
                dir.display()
            );
        }
    }
    let generated_at = chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| REPORTS_DIR.to_string());
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{base}.callrec-tmp-{pid}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    // The attendance table grows with the dataset: its files are written run by run.
    let written = (|| -> Result<(Report, Vec<String>)> {
        let mut attendance = output::TableFiles::new(&tmp, "attendance");
        let report = compute::compute_in_runs(
            dataset,
            settings,
            compute::RUN_BYTES,
            Some(&dataset.join(cache::DIR)),
            &mut |df| attendance.write(df),
        )?;
        attendance.finish()?;
        let files = write_files(&report, dataset, &tmp, &generated_at)?;
        Ok((report, files))
    })();
    let (report, files) = match written {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let old = parent.join(format!(".{base}.callrec-old-{pid}"));
    if dir.exists() {
        std::fs::rename(&dir, &old).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    if let Err(e) = std::fs::rename(&tmp, &dir) {
        let _ = std::fs::rename(&old, &dir);
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", dir.display()));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(Written {
        dir,
        files,
        profile: report.profile.clone(),
        headline: headline(&report),
        runs: report.runs,
        runs_cached: report.runs_cached,
    })
}

/// Removes `DATASET/reports` if it is a report folder (after a run that wrote no report, so
/// no report of an earlier dataset is left beside the new one). Returns whether it did.
pub fn remove_stale(dataset: &Path) -> Result<bool> {
    let dir = default_dir(dataset);
    if dir.is_dir() && dir.join(MARKER).is_file() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove the earlier report {}", dir.display()))?;
        return Ok(true);
    }
    Ok(false)
}

fn headline(r: &Report) -> String {
    let mut parts = Vec::new();
    if let Some(m) = r.table("modalities") {
        for i in 0..m.height() {
            if output::text(m, "modality", i) == "audio" {
                parts.push(format!(
                    "audio poor stream rate {} ({} poor of {} classified)",
                    output::text(m, "poor_of_classified", i),
                    output::text(m, "poor", i),
                    output::i64_at(m, "poor", i) + output::i64_at(m, "good", i)
                ));
            }
        }
    }
    if let Some(o) = r.table("overview") {
        if o.height() > 0 {
            parts.push(format!(
                "poor call rate {}",
                output::text(o, "poor_call_rate", 0)
            ));
        }
    }
    if let Some(t) = r.table("targets") {
        let failed = (0..t.height())
            .filter(|i| output::text(t, "status", *i) == "fail")
            .count();
        parts.push(format!("{failed} of {} targets failed", t.height()));
    }
    format!("report ({}): {}", r.profile, parts.join(", "))
}

fn write_files(
    report: &Report,
    dataset: &Path,
    dir: &Path,
    generated_at: &str,
) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for t in &report.tables {
        // A streamed table's files were written while computing.
        if !t.streamed {
            let mut f = output::TableFiles::new(dir, t.name);
            f.write(&t.df)?;
            f.finish()?;
        }
        files.extend(["csv", "parquet"].map(|ext| format!("{}.{ext}", t.name)));
    }
    let all_files = {
        let mut f = files.clone();
        f.extend(["summary.json", "summary.md", "report.html"].map(String::from));
        f
    };
    let dataset_s = dataset.display().to_string();

    let mut json = serde_json::Map::new();
    json.insert("tool".into(), "callrec".into());
    json.insert("report_version".into(), 1.into());
    json.insert("generated_at".into(), generated_at.into());
    json.insert("dataset".into(), dataset_s.clone().into());
    json.insert("quality_profile".into(), report.profile.clone().into());
    json.insert(
        "settings".into(),
        serde_json::json!({
            "min_streams": report.settings.min_streams,
            "top": report.settings.top,
        }),
    );
    json.insert("notes".into(), report.notes.clone().into());
    json.insert(
        "runs".into(),
        serde_json::json!({ "total": report.runs, "from_cache": report.runs_cached }),
    );
    for single in ["overview", "feedback"] {
        if let Some(df) = report.table(single) {
            let rows = output::json_rows(df)?;
            let first = rows
                .as_array()
                .and_then(|a| a.first().cloned())
                .unwrap_or(serde_json::Value::Null);
            json.insert(single.into(), first);
        }
    }
    for name in JSON_TABLES {
        if let Some(df) = report.table(name) {
            json.insert((*name).into(), output::json_rows(df)?);
        }
    }
    json.insert("files".into(), all_files.clone().into());
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(json))?;
    std::fs::write(dir.join("summary.json"), text + "\n")?;
    files.push("summary.json".into());

    std::fs::write(
        dir.join("summary.md"),
        markdown::render(report, &dataset_s, generated_at),
    )?;
    files.push("summary.md".into());
    std::fs::write(
        dir.join("report.html"),
        html::render(report, &dataset_s, generated_at, &all_files),
    )?;
    files.push("report.html".into());
    Ok(files)
}
