//! The report tables, computed with polars over the dataset's lazy scans, a run of date
//! partitions at a time: each run is reduced to partial tables of counts per key, summed over
//! the runs, and the ratios, targets, order and limits are applied once at the end. Memory is
//! one run plus the partial tables, whatever the size of the dataset.

use crate::cache::{self, Cache};
use crate::load::{self, is, is_any, Table, NO_PROFILE, UNKNOWN};
use crate::targets::{self, TARGETS};
use anyhow::Result;
use polars::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// The classified modalities, in report order.
pub const MODALITIES: [&str; 3] = ["audio", "video", "vbss"];

/// Graph `userFeedback.rating` values that are a rating (not `notRated`).
const RATED: &[&str] = &["bad", "poor", "fair", "good", "excellent"];
/// Ratings CQD counts as poor (1 and 2 stars).
const POOR_RATINGS: &[&str] = &["bad", "poor"];

/// Settings of one report run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Fewest audio streams a subnet, building or user needs to enter a "worst" list, and a
    /// subnet to enter the missing-subnet report.
    pub min_streams: u32,
    /// Rows per "worst" list.
    pub top: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_streams: 10,
            top: 20,
        }
    }
}

/// One report table: written as `<name>.csv` and `<name>.parquet`.
pub struct NamedTable {
    pub name: &'static str,
    pub title: &'static str,
    /// The table; only its first rows when `streamed`.
    pub df: DataFrame,
    /// Rows of the whole table.
    pub rows: usize,
    /// Whether the table's files were written run by run while computing (the attendance
    /// table, which grows with the dataset), so `df` holds only its first rows.
    pub streamed: bool,
}

/// Every table of the report, plus the facts the summaries need.
pub struct Report {
    /// The classification profile(s) of the streams (`quality_profile`), joined by `, `.
    pub profile: String,
    pub settings: Settings,
    pub tables: Vec<NamedTable>,
    /// Caveats shown in summary.md and report.html (no quality columns, no building matched…).
    pub notes: Vec<String>,
    /// Runs of date partitions the report was computed in, and how many of them came from the
    /// report cache.
    pub runs: usize,
    pub runs_cached: usize,
}

impl Report {
    pub fn table(&self, name: &str) -> Option<&DataFrame> {
        self.tables.iter().find(|t| t.name == name).map(|t| &t.df)
    }
}

/// A breakdown: `by_<name>` over the per-stream frame, grouped by `dims`.
pub struct Breakdown {
    pub name: &'static str,
    pub title: &'static str,
    pub dims: &'static [&'static str],
}

/// The stream breakdowns besides `by_day` and `by_call_type` (which add call, reliability
/// and feedback measures). Every dimension is the user's (Second) endpoint unless it says pair.
pub const BREAKDOWNS: &[Breakdown] = &[
    Breakdown {
        name: "by_connection_pair",
        title: "By network connection type pair (First : Second/user)",
        dims: &["connection_pair"],
    },
    Breakdown {
        name: "by_connection_type",
        title: "By network connection type (user)",
        dims: &["connection_type"],
    },
    Breakdown {
        name: "by_wifi_band",
        title: "By Wi-Fi band (user)",
        dims: &["wifi_band"],
    },
    Breakdown {
        name: "by_platform",
        title: "By platform (user)",
        dims: &["platform"],
    },
    Breakdown {
        name: "by_product_family",
        title: "By product family (user)",
        dims: &["product_family"],
    },
    Breakdown {
        name: "by_client_version",
        title: "By client version (user)",
        dims: &["product_family", "platform", "client_version"],
    },
    Breakdown {
        name: "by_codec",
        title: "By codec",
        dims: &["modality", "codec"],
    },
    Breakdown {
        name: "by_building",
        title: "By building (user)",
        dims: &["building", "network_name", "city", "country"],
    },
    Breakdown {
        name: "by_city",
        title: "By city (user)",
        dims: &["city", "country"],
    },
    Breakdown {
        name: "by_country",
        title: "By country (user)",
        dims: &["country"],
    },
    Breakdown {
        name: "by_region",
        title: "By region (user)",
        dims: &["region"],
    },
    Breakdown {
        name: "by_subnet",
        title: "By subnet (user)",
        dims: &["subnet", "building"],
    },
    Breakdown {
        name: "by_inside_outside",
        title: "Inside / outside corp (user, from the building file)",
        dims: &["inside_outside"],
    },
    Breakdown {
        name: "by_server_pair",
        title: "By server pair (Client:Server = conferencing, Client:Client = P2P)",
        dims: &["is_server_pair"],
    },
    Breakdown {
        name: "by_direction",
        title: "By direction (inbound to / outbound from the user)",
        dims: &["direction"],
    },
];

fn count_if(e: Expr) -> Expr {
    e.fill_null(lit(false)).cast(DataType::Int64).sum()
}

fn ratio(num: &str, den: Expr) -> Expr {
    when(den.clone().gt(lit(0)))
        .then(col(num).cast(DataType::Float64) / den.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

fn n(c: &str) -> Expr {
    col(c).fill_null(lit(0i64))
}

fn f64_null() -> Expr {
    lit(NULL).cast(DataType::Float64)
}

/// A selector of the one column `c`.
fn by_name(c: &str) -> Selector {
    Selector::ByName {
        names: Arc::from([PlSmallStr::from(c)]),
        strict: true,
    }
}

/// `audio_target` and `audio_status` of a row, from its `target_scope` / `target_network`.
fn audio_target_columns() -> [Expr; 2] {
    let psr_t = targets::target_value(|t| t.poor_stream_rate);
    [
        psr_t.clone().alias("audio_target"),
        targets::status_expr(
            col("audio_poor_of_classified"),
            psr_t,
            col("audio_poor") + col("audio_good"),
        )
        .alias("audio_status"),
    ]
}

/// `setup_target`, `setup_status`, `drop_target` and `drop_status` of a row, from its
/// `target_scope` / `target_network`; `units` is the setup failure rate's denominator.
fn reliability_target_columns(units: Expr) -> [Expr; 4] {
    let setup_t = targets::target_value(|t| t.setup_failure_rate);
    let drop_t = targets::target_value(|t| t.drop_failure_rate);
    [
        setup_t.clone().alias("setup_target"),
        targets::status_expr(col("setup_failure_rate_approx"), setup_t, units)
            .alias("setup_status"),
        drop_t.clone().alias("drop_target"),
        targets::status_expr(
            col("drop_failure_rate_approx"),
            drop_t,
            col("setup_succeeded"),
        )
        .alias("drop_status"),
    ]
}

/// `target_scope / target_network`.
fn target_line() -> Expr {
    (col("target_scope") + lit(" / ") + col("target_network")).alias("target_line")
}

/// The stream-measure columns of a breakdown row, in output order (after the dimensions).
pub fn stream_columns() -> Vec<String> {
    let mut v: Vec<String> = vec!["calls".into(), "streams".into()];
    for m in MODALITIES {
        for c in [
            "streams",
            "poor",
            "good",
            "unclassified",
            "poor_of_classified",
            "poor_of_all",
        ] {
            v.push(format!("{m}_{c}"));
        }
        if m == "audio" {
            v.extend(["audio_target".into(), "audio_status".into()]);
        }
    }
    v.extend([
        "audio_calls".into(),
        "poor_calls".into(),
        "poor_call_rate".into(),
        "target_line".into(),
    ]);
    v
}

/// Poor and good stream counts per modality, calls, audio calls and poor calls (a call is
/// poor when any of its audio streams in the group is poor), per `dims`. Every column is a
/// count, so the counts of two runs of partitions add up: a call's streams are all in its
/// date partition, so no call is counted in two runs.
fn stream_counts(lf: LazyFrame, dims: &[&str]) -> LazyFrame {
    // One grouping by the dimensions, over the frame's integer per-stream counts and call
    // numbers (`load::streams_frame`): a group's calls are its distinct call numbers. (Grouping
    // by dimensions and call first, then by dimensions, cost twice the time: ~30,000 groups
    // per 64 MiB run, and string keys.)
    let calls_where = |c: &str| col("_call").filter(col(c).eq(lit(1i64))).n_unique();
    let mut aggs = vec![
        col("_call").n_unique().cast(DataType::Int64).alias("calls"),
        len().cast(DataType::Int64).alias("streams"),
    ];
    for m in MODALITIES {
        for c in ["streams", "poor", "good"] {
            aggs.push(col(format!("_{m}_{c}")).sum().alias(format!("{m}_{c}")));
        }
    }
    aggs.push(
        calls_where("_audio_streams")
            .cast(DataType::Int64)
            .alias("audio_calls"),
    );
    aggs.push(
        calls_where("_audio_poor")
            .cast(DataType::Int64)
            .alias("poor_calls"),
    );
    if dims.is_empty() {
        lf.select(aggs)
    } else {
        lf.group_by(dims.iter().map(|d| col(*d)).collect::<Vec<_>>())
            .agg(aggs)
    }
}

/// The measures of [`stream_counts`] rows: unclassified counts, both ratios per modality, the
/// poor call rate and the audio target, in output order (dimensions first).
fn stream_measures(counts: LazyFrame, dims: &[&str]) -> LazyFrame {
    let mut derived = Vec::new();
    for m in MODALITIES {
        let (s, p, g) = (
            format!("{m}_streams"),
            format!("{m}_poor"),
            format!("{m}_good"),
        );
        derived.push((col(&s) - col(&p) - col(&g)).alias(format!("{m}_unclassified")));
        derived.push(ratio(&p, col(&p) + col(&g)).alias(format!("{m}_poor_of_classified")));
        derived.push(ratio(&p, col(&s)).alias(format!("{m}_poor_of_all")));
    }
    derived.push(ratio("poor_calls", col("audio_calls")).alias("poor_call_rate"));
    let (scope, network) = targets::row_target(dims);
    let out = counts
        .with_columns(derived)
        .with_columns([scope.alias("target_scope"), network.alias("target_network")]);
    let [audio_target, audio_status] = audio_target_columns();
    let out = out.with_columns([audio_target, audio_status, target_line()]);
    let mut sel: Vec<Expr> = dims.iter().map(|d| col(*d)).collect();
    sel.extend(stream_columns().iter().map(|c| col(c.as_str())));
    out.select(sel)
}

/// The tables of the dataset, scanned once; [`Tables::inputs`] narrows them to a run of date
/// partitions.
struct Tables {
    streams: Table,
    calls: Table,
    sessions: Table,
    segments: Table,
    participants: Table,
    /// Whether the streams table carries part A's quality columns.
    classified: bool,
}

/// One run's inputs: the per-stream frame (collected), the other tables as lazy scans.
struct Inputs {
    streams: DataFrame,
    calls: LazyFrame,
    sessions: LazyFrame,
    segments: LazyFrame,
    participants: LazyFrame,
}

fn opt(cols: &[&'static str], t: DataType) -> Vec<(&'static str, DataType)> {
    cols.iter().map(|c| (*c, t.clone())).collect()
}

const SIDES: [&str; 2] = ["caller", "callee"];

impl Tables {
    fn open(dataset: &Path) -> Result<Tables> {
        let streams = Table::scan(dataset, "streams")?;
        streams.require(&["call_id"])?;
        let classified = streams.has("quality");
        let mut others = Vec::new();
        for name in ["calls", "sessions", "segments", "participants"] {
            let t = Table::scan(dataset, name)?;
            t.require(&["call_id"])?;
            others.push(t);
        }
        let [calls, sessions, segments, participants] =
            <[Table; 4]>::try_from(others).unwrap_or_else(|_| unreachable!("four tables"));
        Ok(Tables {
            streams,
            calls,
            sessions,
            segments,
            participants,
            classified,
        })
    }

    /// The classification profile(s) of the streams (`quality_profile`), joined by `, `: read
    /// before the runs, as every table carries it.
    fn profile(&self) -> Result<String> {
        if !self.classified {
            return Ok(NO_PROFILE.to_string());
        }
        let profiles = collect(
            self.streams
                .lf
                .clone()
                .select([col("quality_profile").drop_nulls().unique_stable()]),
            "profile",
        )?;
        let mut profile: Vec<String> = profiles
            .column("quality_profile")?
            .str()?
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        profile.sort();
        Ok(if profile.is_empty() {
            "unknown (no streams)".to_string()
        } else {
            profile.join(", ")
        })
    }

    /// The date partitions in name order (the order of a scan), grouped into runs: the days
    /// of one ISO week (Monday to Sunday) while they fit in `run_bytes` of Parquet over all
    /// five tables (a bigger day is a run of its own). Runs never cross a week, so a change to
    /// one day's partition moves the boundaries of its week's runs only, and the report cache
    /// keeps every other run. The null-date partition is a run of its own.
    fn runs(&self, dataset: &Path, run_bytes: u64) -> Result<Vec<Vec<String>>> {
        let mut bytes: std::collections::BTreeMap<String, u64> = Default::default();
        for t in [
            &self.streams,
            &self.calls,
            &self.sessions,
            &self.segments,
            &self.participants,
        ] {
            for (date, b) in load::partitions(dataset, t.name)? {
                *bytes.entry(date).or_default() += b;
            }
        }
        Ok(group_runs(bytes, run_bytes))
    }

    /// The inputs of the partitions `dates` (all of them for `None`).
    fn inputs(&self, dates: Option<&[String]>) -> Result<Inputs> {
        let narrow = |t: &Table| match dates {
            Some(d) => t.partitions(d),
            None => t.clone(),
        };
        let streams_t = narrow(&self.streams);
        let streams = load::with_call_number(anyhow::Context::with_context(
            load::streams_frame(&streams_t)?.collect(),
            || match dates {
                Some(d) => format!("cannot read the streams of date={}", d.join(", date=")),
                None => "cannot read the streams table".to_string(),
            },
        )?)?;

        let calls = narrow(&self.calls)
            .lazy_with(&[
                ("duration_ms", DataType::Float64),
                ("type", DataType::String),
            ])
            .select([
                col("call_id"),
                col("date").fill_null(lit(UNKNOWN)).alias("day"),
                col("type").fill_null(lit(UNKNOWN)).alias("call_type"),
                col("duration_ms"),
            ]);

        let sessions = session_columns(&narrow(&self.sessions));

        let segments = narrow(&self.segments)
            .lazy_with(&opt(
                &["call_type", "failure_info_stage", "failure_info_reason"],
                DataType::String,
            ))
            .select([
                col("call_id"),
                col("date").fill_null(lit(UNKNOWN)).alias("day"),
                col("call_type").fill_null(lit(UNKNOWN)),
                col("failure_info_stage"),
                col("failure_info_reason"),
            ]);

        let participants = narrow(&self.participants).lazy_with(&opt(
            &["source", "participant_id", "identity_id"],
            DataType::String,
        ));
        Ok(Inputs {
            streams,
            calls,
            sessions,
            segments,
            participants,
        })
    }
}

fn collect(lf: LazyFrame, what: &str) -> Result<DataFrame> {
    anyhow::Context::with_context(lf.collect(), || {
        format!("computing the {what} report failed")
    })
}

fn sorted(lf: LazyFrame, by: &[&str], descending: &[bool]) -> LazyFrame {
    let exprs: Vec<Expr> = by.iter().map(|c| col(*c)).collect();
    lf.sort_by_exprs(
        exprs,
        SortMultipleOptions::default()
            .with_order_descending_multi(descending.to_vec())
            .with_nulls_last(true)
            .with_maintain_order(true),
    )
}

/// Segments or sessions (`unit`), setup failures and drops, per `dims`: counts, which add up
/// over runs of partitions.
fn reliability_counts(lf: LazyFrame, unit: &str, dims: &[&str]) -> LazyFrame {
    let aggs = vec![
        len().cast(DataType::Int64).alias(unit.to_string()),
        count_if(is("failure_info_stage", "callSetup")).alias("setup_failures"),
        count_if(is("failure_info_stage", "midcall")).alias("drops"),
    ];
    if dims.is_empty() {
        lf.select(aggs)
    } else {
        lf.group_by(dims.iter().map(|d| col(*d)).collect::<Vec<_>>())
            .agg(aggs)
    }
}

/// The approximate setup-failure and drop rates of [`reliability_counts`] rows, with their
/// targets (`target_scope`/`target_network` from the dims, as for streams).
fn reliability_rates(g: LazyFrame, unit: &str, dims: &[&str]) -> LazyFrame {
    let (scope, network) = targets::row_target(dims);
    g.with_columns([
        (n(unit) - n("setup_failures")).alias("setup_succeeded"),
        scope.alias("target_scope"),
        network.alias("target_network"),
    ])
    .with_columns([
        ratio("setup_failures", n(unit)).alias("setup_failure_rate_approx"),
        ratio("drops", col("setup_succeeded")).alias("drop_failure_rate_approx"),
    ])
    .with_columns(reliability_target_columns(n(unit)))
}

const RELIABILITY_COLUMNS: &[&str] = &[
    "setup_failures",
    "setup_failure_rate_approx",
    "setup_target",
    "setup_status",
    "setup_succeeded",
    "drops",
    "drop_failure_rate_approx",
    "drop_target",
    "drop_status",
];

/// Both sides' feedback of every session, one row per side that has a rating.
fn feedback_rows(sessions: &LazyFrame) -> LazyFrame {
    let side = |s: &str| {
        sessions.clone().select([
            col("call_id"),
            col("day"),
            col("call_type"),
            col(format!("{s}_feedback_rating")).alias("rating"),
            col(format!("{s}_feedback_tokens")).alias("tokens"),
        ])
    };
    concat([side("caller"), side("callee")], UnionArgs::default())
        .expect("same schemas")
        .filter(col("rating").is_not_null())
}

fn feedback_aggs() -> Vec<Expr> {
    vec![
        count_if(is_any("rating", RATED)).alias("feedback_ratings"),
        count_if(is_any("rating", POOR_RATINGS)).alias("feedback_poor"),
    ]
}

fn feedback_share() -> Expr {
    ratio("feedback_poor", n("feedback_ratings")).alias("feedback_poor_share")
}

/// The participant sides of every session (service endpoints left out).
fn session_people(sessions: &LazyFrame) -> LazyFrame {
    let side = |s: &str| {
        sessions.clone().select([
            col("call_id"),
            col("day"),
            col("call_type"),
            col(format!("{s}_participant_id")).alias("participant_id"),
            col(format!("{s}_identity_display_name"))
                .fill_null(col(format!("{s}_associated_identity_display_name")))
                .alias("display_name"),
            col(format!("{s}_identity_user_principal_name"))
                .fill_null(col(format!("{s}_associated_identity_user_principal_name")))
                .alias("user_principal_name"),
            col(format!("{s}_kind")).alias("kind"),
            col("start_date_time"),
            col("end_date_time"),
        ])
    };
    concat([side("caller"), side("callee")], UnionArgs::default())
        .expect("same schemas")
        .filter(
            col("participant_id")
                .is_not_null()
                .and(is("kind", "service").not()),
        )
}

/// Date partitions (name and Parquet bytes, in name order) grouped into runs: consecutive days
/// of one ISO week while they fit in `run_bytes`; anything that is not a `YYYY-MM-DD` date
/// alone.
pub(crate) fn group_runs(
    dates: impl IntoIterator<Item = (String, u64)>,
    run_bytes: u64,
) -> Vec<Vec<String>> {
    let week = |date: &str| {
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .ok()
            .map(|d| chrono::Datelike::iso_week(&d))
    };
    let mut runs: Vec<(Vec<String>, u64, Option<chrono::IsoWeek>)> = Vec::new();
    for (date, b) in dates {
        let w = week(&date);
        match runs.last_mut() {
            Some((dates, sum, run_week))
                if w.is_some() && *run_week == w && *sum + b <= run_bytes =>
            {
                dates.push(date);
                *sum += b;
            }
            _ => runs.push((vec![date], b, w)),
        }
    }
    runs.into_iter().map(|(d, _, _)| d).collect()
}

/// The narrow per-session frame of `t` (a run's partitions or the whole table): the columns
/// the reports use.
fn session_columns(t: &Table) -> LazyFrame {
    let ts = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let mut o: Vec<(String, DataType)> = vec![
        ("call_type".into(), DataType::String),
        ("failure_info_stage".into(), DataType::String),
        ("failure_info_reason".into(), DataType::String),
        ("start_date_time".into(), ts.clone()),
        ("end_date_time".into(), ts),
    ];
    for s in SIDES {
        for c in [
            "kind",
            "participant_id",
            "feedback_rating",
            "identity_display_name",
            "identity_user_principal_name",
            "associated_identity_display_name",
            "associated_identity_user_principal_name",
            "user_agent_platform",
        ] {
            o.push((format!("{s}_{c}"), DataType::String));
        }
        o.push((
            format!("{s}_feedback_tokens"),
            DataType::List(Box::new(DataType::String)),
        ));
    }
    let o: Vec<(&str, DataType)> = o.iter().map(|(c, t)| (c.as_str(), t.clone())).collect();
    // Only the columns the reports use (`o` lists them all but the two keys): the run's
    // sessions are collected once and read by seven tables.
    let keep: Vec<Expr> = [col("call_id"), col("day")]
        .into_iter()
        .chain(o.iter().map(|(c, _)| col(*c)))
        .collect();
    t.lazy_with(&o)
        .with_columns([
            col("date").fill_null(lit(UNKNOWN)).alias("day"),
            col("call_type").fill_null(lit(UNKNOWN)),
        ])
        .select(keep)
}

/// Parquet bytes (all five tables together) of one run of date partitions: the most the
/// report reads into memory at once (a bigger day is a run of its own; runs also end with the
/// ISO week).
///
/// Chosen over the 10 GB benchmark dataset, with runs not yet kept to a week and no cache:
/// 64 MiB peaked at 0.93 GB in 21 s (128 MiB: 1.24 GB, 18 s; 32 MiB: 0.77 GB, 28 s).
pub const RUN_BYTES: u64 = 64 << 20;

/// Attendance rows kept in [`Report`] when the table is written run by run (report.html shows
/// the first 200).
const ATTENDANCE_PREVIEW: usize = 200;

/// The partial tables of the runs so far, by name: key columns plus count and sum columns.
/// A table's run parts are summed per key once they hold as many rows as its last sum (so
/// summing costs time in proportion to the rows added, not to runs × keys), and before a run is
/// read from the dataset ([`Partials::sum_all`]), so unsummed parts never wait beside a run's
/// frames. Memory follows the number of keys (days, subnets, users…), not of streams.
#[derive(Default)]
struct Partials {
    tables: HashMap<String, Partial>,
}

struct Partial {
    keys: Vec<String>,
    /// Frames with the same columns, in run order; one after [`Partial::sum`].
    parts: Vec<DataFrame>,
    /// Rows in `parts`, and in the first part when it was last summed.
    rows: usize,
    summed_rows: usize,
}

/// Rows a table's parts may add before they are summed, however small the last sum.
const PARTIAL_SLACK_ROWS: usize = 1 << 16;

impl Partial {
    /// Sums `parts` into one frame, one row per key.
    fn sum(&mut self, name: &str) -> Result<()> {
        if self.parts.len() > 1 {
            let keys = &self.keys;
            let aggs: Vec<Expr> = self.parts[0]
                .get_column_names()
                .into_iter()
                .filter(|c| !keys.iter().any(|k| k == c.as_str()))
                .map(|c| col(c.clone()).sum())
                .collect();
            let parts = std::mem::take(&mut self.parts);
            let all = concat(
                parts.into_iter().map(DataFrame::lazy).collect::<Vec<_>>(),
                UnionArgs::default(),
            )?;
            let summed = if keys.is_empty() {
                all.select(aggs)
            } else if aggs.is_empty() {
                all.unique_stable(None, UniqueKeepStrategy::First)
            } else {
                all.group_by_stable(keys.iter().map(|k| col(k.as_str())).collect::<Vec<_>>())
                    .agg(aggs)
            };
            self.parts = vec![collect(summed, name)?];
        }
        self.rows = self.parts.first().map_or(0, DataFrame::height);
        self.summed_rows = self.rows;
        Ok(())
    }
}

impl Partials {
    /// Adds a run's rows of the partial table `name` (at most one row per key).
    fn add(&mut self, name: &str, keys: &[String], df: DataFrame) -> Result<()> {
        let p = self
            .tables
            .entry(name.to_string())
            .or_insert_with(|| Partial {
                keys: keys.to_vec(),
                parts: Vec::new(),
                rows: 0,
                summed_rows: 0,
            });
        p.rows += df.height();
        p.parts.push(df);
        if p.rows > p.summed_rows + p.summed_rows.max(PARTIAL_SLACK_ROWS) {
            p.sum(name)?;
        }
        Ok(())
    }

    /// Sums every table's waiting parts.
    fn sum_all(&mut self) -> Result<()> {
        for (name, p) in &mut self.tables {
            p.sum(name)?;
        }
        Ok(())
    }

    /// A table after [`Partials::sum_all`].
    fn frame(&self, name: &str) -> &DataFrame {
        self.tables
            .get(name)
            .and_then(|p| p.parts.first())
            .unwrap_or_else(|| panic!("partial table {name} was never added"))
    }

    fn get(&self, name: &str) -> LazyFrame {
        self.frame(name).clone().lazy()
    }
}

/// One run's partial tables (name, key columns, rows) and attendance rows: what
/// [`Partials`] adds up and what the report cache keeps.
#[derive(Default)]
pub(crate) struct RunPartials {
    pub(crate) tables: Vec<(String, Vec<String>, DataFrame)>,
    pub(crate) attendance: DataFrame,
}

impl RunPartials {
    fn add(&mut self, name: &str, keys: &[&str], lf: LazyFrame) -> Result<()> {
        let df = collect(lf, name)?;
        self.tables.push((
            name.to_string(),
            keys.iter().map(|k| k.to_string()).collect(),
            df,
        ));
        Ok(())
    }
}

/// Computes every table over runs of date partitions of up to `run_bytes` of Parquet each: a
/// run's frames are collected, reduced to partial tables and dropped before the next run, so
/// memory is bounded by the run size and the number of distinct keys, whatever the size of
/// the dataset. Every count is exact: all rows of a call are in its date partition, hence in
/// one run. With a `cache` folder, runs whose part files are unchanged since an earlier report
/// are read from it instead ([`crate::cache`]). The attendance table (one row per call and
/// participant, growing with the dataset) is handed to `attendance` a run at a time; the
/// report keeps its first rows.
pub fn compute_in_runs(
    dataset: &Path,
    settings: &Settings,
    run_bytes: u64,
    cache: Option<&Path>,
    attendance: &mut dyn FnMut(&DataFrame) -> Result<()>,
) -> Result<Report> {
    let tables = Tables::open(dataset)?;
    let profile = tables.profile()?;
    let runs = tables.runs(dataset, run_bytes)?;
    let runs: Vec<Option<&[String]>> = if runs.is_empty() {
        vec![None]
    } else {
        runs.iter().map(|r| Some(r.as_slice())).collect()
    };
    let mut cache = cache.map(Cache::new);
    let (n_runs, mut runs_cached) = (runs.len(), 0);
    let mut acc = Partials::default();
    let mut preview: Option<DataFrame> = None;
    let mut attendance_rows = 0usize;
    for dates in runs {
        let key = match (&cache, dates) {
            (Some(_), Some(d)) => Some(cache::key_text(dataset, d)?),
            _ => None,
        };
        let cached = match (&mut cache, &key) {
            (Some(c), Some(k)) => c.load(k),
            _ => None,
        };
        let run = match cached {
            Some(run) => {
                runs_cached += 1;
                run
            }
            None => {
                acc.sum_all()?;
                let run = run_partials(&tables.inputs(dates)?)?;
                if let (Some(c), Some(k)) = (&mut cache, &key) {
                    c.store(k, &run);
                }
                run
            }
        };
        for (name, keys, df) in run.tables {
            acc.add(&name, &keys, df)?;
        }
        let att = with_profile_column(run.attendance, &profile)?;
        attendance(&att)?;
        attendance_rows += att.height();
        preview = match preview {
            None => Some(att.head(Some(ATTENDANCE_PREVIEW))),
            Some(mut p) => {
                if p.height() < ATTENDANCE_PREVIEW {
                    p.vstack_mut(&att.head(Some(ATTENDANCE_PREVIEW - p.height())))?;
                }
                Some(p)
            }
        };
    }
    let preview = preview.expect("at least one run");
    acc.sum_all()?;
    let mut report = finish(
        &acc,
        session_columns(&tables.sessions),
        settings,
        tables.classified,
        profile,
        preview,
        attendance_rows,
    )?;
    report.runs = n_runs;
    report.runs_cached = runs_cached;
    if let Some(c) = &cache {
        c.prune();
        if let Some(e) = &c.write_error {
            report.notes.push(format!(
                "The report cache could not be written ({e}): the next report reads every \
                 partition again."
            ));
        }
    }
    Ok(report)
}

/// One run's partial tables and attendance rows.
fn run_partials(inp: &Inputs) -> Result<RunPartials> {
    let mut acc = RunPartials::default();
    // The narrow per-stream frame (collected by `Tables::inputs`); every breakdown runs over it.
    let s = || inp.streams.clone().lazy();
    // The narrow per-segment frame too: the overview, targets, reliability, failures, by-day
    // and by-call-type tables all read it.
    let segments = collect(inp.segments.clone(), "segments")?;
    let seg = || segments.clone().lazy();
    // And the narrow per-session frame: seven tables read it.
    let sessions = collect(inp.sessions.clone(), "sessions")?;
    let ses = || sessions.clone().lazy();

    // Calls, per day and per call type (the overview sums the days).
    for (name, dim) in [("calls_by_day", "day"), ("calls_by_type", "call_type")] {
        acc.add(
            name,
            &[dim],
            inp.calls.clone().group_by([col(dim)]).agg([
                len().cast(DataType::Int64).alias("calls"),
                col("duration_ms").sum(),
            ]),
        )?;
    }
    acc.add(
        "participants",
        &[],
        inp.participants
            .clone()
            .group_by([col("call_id")])
            .agg([
                count_if(is("source", "participants_v2")).alias("v2"),
                count_if(is("source", "participants")).alias("legacy"),
            ])
            .select([when(col("v2").gt(lit(0)))
                .then(col("v2"))
                .otherwise(col("legacy"))
                .sum()
                .cast(DataType::Int64)
                .alias("participants")]),
    )?;
    acc.add(
        "identities",
        &["identity_id"],
        inp.participants
            .clone()
            .select([col("identity_id")])
            .filter(col("identity_id").is_not_null())
            .unique_stable(None, UniqueKeepStrategy::First),
    )?;

    // Streams.
    acc.add("streams", &[], stream_counts(s(), &[]))?;
    acc.add(
        "streams_with_building",
        &[],
        s().select([count_if(col("user_building").is_not_null()).alias("streams_with_building")]),
    )?;
    acc.add(
        "modalities",
        &["modality"],
        s().group_by([col("modality")]).agg([
            len().cast(DataType::Int64).alias("streams"),
            count_if(is("quality", "poor")).alias("poor"),
            count_if(is("quality", "good")).alias("good"),
        ]),
    )?;
    acc.add(
        "poor_reasons",
        &["modality", "reason"],
        s().filter(is("quality", "poor"))
            .select([col("modality"), col("poor_reasons").alias("reason")])
            .explode(
                by_name("reason"),
                ExplodeOptions {
                    empty_as_null: true,
                    keep_nulls: true,
                },
            )
            .with_column(col("reason").fill_null(lit(UNKNOWN)))
            .group_by([col("modality"), col("reason")])
            .agg([len().cast(DataType::Int64).alias("poor_streams")]),
    )?;

    // Targets.
    let mut aggs = Vec::new();
    for (i, t) in TARGETS.iter().enumerate() {
        let f = targets::stream_filter(t.scope, t.network).and(is("modality", "audio"));
        aggs.push(count_if(f.clone()).alias(format!("n{i}")));
        aggs.push(count_if(f.clone().and(is("quality", "poor"))).alias(format!("p{i}")));
        aggs.push(count_if(f.and(is("quality", "good"))).alias(format!("g{i}")));
    }
    acc.add("target_streams", &[], s().select(aggs))?;
    let mut seg_aggs = vec![];
    for (i, scope) in TARGET_SCOPES.iter().enumerate() {
        let f = targets::segment_filter(scope);
        seg_aggs.push(count_if(f.clone()).alias(format!("n{i}")));
        seg_aggs.push(
            count_if(f.clone().and(is("failure_info_stage", "callSetup"))).alias(format!("s{i}")),
        );
        seg_aggs.push(count_if(f.and(is("failure_info_stage", "midcall"))).alias(format!("d{i}")));
    }
    acc.add("target_segments", &[], seg().select(seg_aggs))?;

    // Reliability and failures.
    let mut fails = Vec::new();
    for (unit, lf) in [("segments", seg()), ("sessions", ses())] {
        acc.add(
            &format!("reliability_{unit}"),
            &[],
            reliability_counts(lf.clone(), unit, &[]),
        )?;
        fails.push(
            lf.filter(
                col("failure_info_stage")
                    .is_not_null()
                    .or(col("failure_info_reason").is_not_null()),
            )
            .group_by([
                col("failure_info_stage")
                    .fill_null(lit(UNKNOWN))
                    .alias("stage"),
                col("failure_info_reason")
                    .fill_null(lit(UNKNOWN))
                    .alias("reason"),
            ])
            .agg([len().cast(DataType::Int64).alias("count")])
            .select([
                lit(unit).alias("source"),
                col("stage"),
                col("reason"),
                col("count"),
            ]),
        );
    }
    acc.add(
        "failures",
        &["source", "stage", "reason"],
        concat(fails, UnionArgs::default())?,
    )?;

    // Feedback.
    let fb = feedback_rows(&ses());
    acc.add(
        "feedback",
        &[],
        fb.clone().select([
            count_if(is_any("rating", RATED)).alias("ratings"),
            count_if(is_any("rating", POOR_RATINGS)).alias("poor"),
            count_if(is("rating", "notRated")).alias("not_rated"),
        ]),
    )?;
    acc.add(
        "feedback_ratings",
        &["rating"],
        fb.clone()
            .group_by([col("rating")])
            .agg([len().cast(DataType::Int64).alias("count")]),
    )?;
    acc.add(
        "feedback_tokens",
        &["token"],
        fb.clone()
            .select([col("tokens").alias("token")])
            .explode(
                by_name("token"),
                ExplodeOptions {
                    empty_as_null: true,
                    keep_nulls: false,
                },
            )
            .filter(col("token").is_not_null())
            .group_by([col("token")])
            .agg([len().cast(DataType::Int64).alias("count")]),
    )?;

    // By day and by call type.
    for (name, dim) in [("by_day", "day"), ("by_call_type", "call_type")] {
        acc.add(
            &format!("{name}_streams"),
            &[dim],
            stream_counts(s(), &[dim]),
        )?;
        acc.add(
            &format!("{name}_segments"),
            &[dim],
            reliability_counts(seg(), "segments", &[dim]),
        )?;
        acc.add(
            &format!("{name}_feedback"),
            &[dim],
            fb.clone().group_by([col(dim)]).agg(feedback_aggs()),
        )?;
    }

    // Stream breakdowns and worst lists (unfiltered and unlimited until the end).
    for b in BREAKDOWNS {
        acc.add(b.name, b.dims, stream_counts(s(), b.dims))?;
    }
    for (name, filter, keys) in worst_lists() {
        acc.add(name, keys, stream_counts(s().filter(filter), keys))?;
    }
    // Missing subnets: distinct streams and calls per subnet (a stream and its call are in one
    // run, so the run's distinct counts add up).
    let side = |sd: &str| {
        s().filter(is("modality", "audio")).select([
            col("_stream_row"),
            col("_call"),
            col("quality"),
            col(format!("{sd}_network_subnet")).alias("subnet"),
            col(format!("{sd}_building_name")).alias("building"),
            col(format!("{sd}_kind")).alias("kind"),
        ])
    };
    acc.add(
        "missing_subnets",
        &["subnet"],
        concat([side("caller"), side("callee")], UnionArgs::default())?
            .filter(
                col("subnet")
                    .is_not_null()
                    .and(col("building").is_null())
                    .and(is("kind", "service").not()),
            )
            .group_by([col("subnet")])
            .agg([
                col("_stream_row")
                    .n_unique()
                    .cast(DataType::Int64)
                    .alias("audio_streams"),
                col("_call").n_unique().cast(DataType::Int64).alias("calls"),
                // A stream whose two ends share the subnet counts once.
                col("_stream_row")
                    .filter(is("quality", "poor"))
                    .n_unique()
                    .cast(DataType::Int64)
                    .alias("audio_poor"),
                col("_stream_row")
                    .filter(is("quality", "good"))
                    .n_unique()
                    .cast(DataType::Int64)
                    .alias("audio_good"),
            ]),
    )?;

    acc.attendance = attendance(&ses())?;
    Ok(acc)
}

/// Target scopes of the setup and drop rates.
const TARGET_SCOPES: [&str; 3] = ["All", "Conferencing", "P2P"];

/// The worst lists: name, the streams they consider, and their keys.
fn worst_lists() -> [(&'static str, Expr, &'static [&'static str]); 3] {
    [
        (
            "worst_subnets",
            col("user_subnet").is_not_null(),
            &["subnet", "building"],
        ),
        (
            "worst_buildings",
            col("user_building").is_not_null(),
            &["building", "city", "country"],
        ),
        (
            "worst_users",
            col("user_id")
                .is_not_null()
                .and(is("user_kind", "service").not()),
            &["user_id"],
        ),
    ]
}

/// A copy of `df` with the `quality_profile` column every table carries.
fn with_profile_column(df: DataFrame, profile: &str) -> Result<DataFrame> {
    let h = df.height();
    let mut df = df;
    df.with_column(Column::new("quality_profile".into(), vec![profile; h]))?;
    Ok(df)
}

/// Every table from the combined partial tables: ratios, targets, sorting and limits.
fn finish(
    acc: &Partials,
    sessions: LazyFrame,
    settings: &Settings,
    classified: bool,
    profile: String,
    attendance: DataFrame,
    attendance_rows: usize,
) -> Result<Report> {
    let mut notes = Vec::new();
    if !classified {
        notes.push(
            "The streams table has no quality columns (dataset written by an older callrec): \
             every stream counts as unclassified. Run callrec flatten again to classify them."
                .to_string(),
        );
    }

    let mut tables: Vec<NamedTable> = Vec::new();
    let mut push = |name: &'static str, title: &'static str, df: DataFrame| -> Result<()> {
        let rows = df.height();
        tables.push(NamedTable {
            name,
            title,
            df: with_profile_column(df, &profile)?,
            rows,
            streamed: false,
        });
        Ok(())
    };

    // --- overview --------------------------------------------------------------------------
    let known = col("day").neq(lit(UNKNOWN));
    // Days in order, so the float sum of minutes is the same in every run.
    let calls = collect(
        sorted(acc.get("calls_by_day"), &["day"], &[false]).select([
            col("calls").sum().alias("calls"),
            (col("duration_ms").sum() / lit(60_000.0)).alias("minutes"),
            col("day").filter(known.clone()).min().alias("first_day"),
            col("day").filter(known.clone()).max().alias("last_day"),
            count_if(known).alias("days"),
        ]),
        "calls",
    )?;
    let distinct_users = DataFrame::new_infer_height(vec![Column::new(
        "distinct_users".into(),
        [acc.frame("identities").height() as i64],
    )])?;
    let sessions_n = collect(
        acc.get("reliability_sessions").select([col("sessions")]),
        "sessions",
    )?;
    let segments_n = collect(
        acc.get("reliability_segments").select([col("segments")]),
        "segments",
    )?;
    let overall = collect(stream_measures(acc.get("streams"), &[]), "streams")?;
    let building_matched = acc.frame("streams_with_building");
    let mut overview = calls
        .hstack(acc.frame("participants").columns())?
        .hstack(distinct_users.columns())?
        .hstack(sessions_n.columns())?
        .hstack(segments_n.columns())?;
    let take = [
        "streams",
        "audio_streams",
        "video_streams",
        "vbss_streams",
        "audio_calls",
        "poor_calls",
        "poor_call_rate",
    ];
    for c in take {
        overview.with_column(overall.column(c)?.clone())?;
    }
    overview.with_column(building_matched.column("streams_with_building")?.clone())?;
    let matched = building_matched
        .column("streams_with_building")?
        .i64()?
        .get(0)
        .unwrap_or(0);
    let n_streams = overall.column("streams")?.i64()?.get(0).unwrap_or(0);
    if n_streams > 0 && matched == 0 {
        notes.push(
            "No user endpoint matched a building (no building file was given to callrec \
             flatten, or it covers none of the subnets): every endpoint counts as outside, \
             internal targets have no data and every subnet is in the missing-subnet report."
                .to_string(),
        );
    }
    push("overview", "Overview", overview)?;

    // --- streams by modality, poor reasons -------------------------------------------------
    let modalities = collect(
        acc.get("modalities")
            .with_columns([
                (col("streams") - col("poor") - col("good")).alias("unclassified"),
                ratio("poor", col("poor") + col("good")).alias("poor_of_classified"),
                ratio("poor", col("streams")).alias("poor_of_all"),
                when(is("modality", "audio"))
                    .then(lit(targets::target("All", "Overall").poor_stream_rate))
                    .otherwise(f64_null())
                    .alias("target"),
                when(is("modality", "audio"))
                    .then(lit(0i32))
                    .when(is("modality", "video"))
                    .then(lit(1i32))
                    .when(is("modality", "vbss"))
                    .then(lit(2i32))
                    .when(is("modality", "data"))
                    .then(lit(3i32))
                    .otherwise(lit(4i32))
                    .alias("_order"),
            ])
            .with_column(
                when(col("target").is_null())
                    .then(lit(NULL).cast(DataType::String))
                    .otherwise(targets::status_expr(
                        col("poor_of_classified"),
                        col("target"),
                        col("poor") + col("good"),
                    ))
                    .alias("status"),
            )
            .sort_by_exprs(
                [col("_order"), col("modality")],
                SortMultipleOptions::default(),
            )
            .select([
                col("modality"),
                col("streams"),
                col("poor"),
                col("good"),
                col("unclassified"),
                col("poor_of_classified"),
                col("poor_of_all"),
                col("target"),
                col("status"),
            ]),
        "modality",
    )?;
    push("modalities", "Streams by modality", modalities)?;

    let reasons = collect(
        sorted(
            acc.get("poor_reasons"),
            &["modality", "poor_streams", "reason"],
            &[false, true, false],
        ),
        "poor reasons",
    )?;
    push(
        "poor_reasons",
        "Poor streams by reason (a stream can have several)",
        reasons,
    )?;

    // --- targets ----------------------------------------------------------------------------
    let tcounts = acc.frame("target_streams");
    let rcounts = acc.frame("target_segments");
    let get = |df: &DataFrame, c: &str| -> Result<i64> {
        Ok(df
            .column(c)?
            .cast(&DataType::Int64)?
            .i64()?
            .get(0)
            .unwrap_or(0))
    };
    let mut rows = TargetRows::default();
    for (i, t) in TARGETS.iter().enumerate() {
        let (all, poor, good) = (
            get(tcounts, &format!("n{i}"))?,
            get(tcounts, &format!("p{i}"))?,
            get(tcounts, &format!("g{i}"))?,
        );
        rows.push(
            t.scope,
            t.network,
            "audio poor stream rate",
            poor,
            poor + good,
            t.poor_stream_rate,
            &format!(
                "audio streams: {poor} poor ÷ {} classified ({} unclassified; poor ÷ all = {})",
                poor + good,
                all - poor - good,
                fmt_pct(frac(poor, all))
            ),
        );
    }
    for (i, scope) in TARGET_SCOPES.iter().enumerate() {
        let t = targets::target(scope, "Overall");
        let (segs, setup, drops) = (
            get(rcounts, &format!("n{i}"))?,
            get(rcounts, &format!("s{i}"))?,
            get(rcounts, &format!("d{i}"))?,
        );
        rows.push(
            scope,
            "Overall",
            "setup failure rate (approximation)",
            setup,
            segs,
            t.setup_failure_rate,
            "segments with failureInfo.stage = callSetup ÷ segments; approximates CQD's \
             stream-level CDR measure",
        );
        rows.push(
            scope,
            "Overall",
            "drop failure rate (approximation)",
            drops,
            segs - setup,
            t.drop_failure_rate,
            "segments with failureInfo.stage = midcall ÷ segments without a setup failure; \
             approximates CQD's stream-level CDR measure",
        );
    }
    push(
        "targets",
        "Rates against Microsoft's suggested targets",
        rows.frame()?,
    )?;

    // --- reliability and failures ------------------------------------------------------------
    let mut rel = Vec::new();
    for unit in ["segments", "sessions"] {
        rel.push(
            reliability_rates(acc.get(&format!("reliability_{unit}")), unit, &[]).select(
                [lit(unit).alias("source"), col(unit).alias("units")]
                    .into_iter()
                    .chain(RELIABILITY_COLUMNS.iter().map(|c| col(*c)))
                    .collect::<Vec<_>>(),
            ),
        );
    }
    let rel = collect(
        concat(rel, UnionArgs::default())?.with_column(
            lit("approximation from Graph failureInfo; not comparable one-to-one with CQD")
                .alias("note"),
        ),
        "reliability",
    )?;
    push(
        "reliability",
        "Setup and drop failures (approximations from failureInfo)",
        rel,
    )?;

    let fails = collect(
        sorted(
            acc.get("failures"),
            &["source", "count", "stage", "reason"],
            &[false, true, false, false],
        ),
        "failures",
    )?;
    push(
        "failures",
        "Failures by stage and reason (failureInfo)",
        fails,
    )?;

    // --- feedback ----------------------------------------------------------------------------
    let feedback = collect(
        acc.get("feedback")
            .with_column(ratio("poor", col("ratings")).alias("poor_share")),
        "feedback",
    )?;
    push(
        "feedback",
        "Rate My Call feedback (ratings bad or poor count as poor)",
        feedback,
    )?;
    let ratings = collect(
        sorted(
            acc.get("feedback_ratings"),
            &["count", "rating"],
            &[true, false],
        ),
        "feedback",
    )?;
    push("feedback_ratings", "Feedback ratings", ratings)?;
    let tokens = collect(
        sorted(
            acc.get("feedback_tokens"),
            &["count", "token"],
            &[true, false],
        ),
        "feedback tokens",
    )?;
    push(
        "feedback_tokens",
        "Feedback tokens, most frequent first",
        tokens,
    )?;

    // --- by day and by call type ---------------------------------------------------------------
    for (name, title, dim, calls) in [
        (
            "by_day",
            "By UTC day (of the call's start)",
            "day",
            "calls_by_day",
        ),
        ("by_call_type", "By call type", "call_type", "calls_by_type"),
    ] {
        let base = acc.get(calls).select([
            col(dim),
            col("calls"),
            (col("duration_ms") / lit(60_000.0)).alias("minutes"),
        ]);
        let st =
            stream_measures(acc.get(&format!("{name}_streams")), &[dim]).drop(by_name("calls"));
        let rl = reliability_rates(acc.get(&format!("{name}_segments")), "segments", &[dim])
            .select(
                [col(dim), col("segments")]
                    .into_iter()
                    .chain(RELIABILITY_COLUMNS.iter().map(|c| col(*c)))
                    .collect::<Vec<_>>(),
            );
        let fbk = acc.get(&format!("{name}_feedback"));
        let joined = base
            .left_join(st, col(dim), col(dim))
            .left_join(rl, col(dim), col(dim))
            .left_join(fbk, col(dim), col(dim));
        // Days or call types without streams or segments: counts 0, rates null.
        let mut zero = vec![];
        for c in stream_columns() {
            if c.ends_with("_streams")
                || c.ends_with("_poor")
                || c.ends_with("_good")
                || c.ends_with("_unclassified")
                || c == "streams"
                || c == "audio_calls"
                || c == "poor_calls"
            {
                zero.push(col(c.as_str()).fill_null(lit(0i64)));
            }
        }
        for c in [
            "segments",
            "setup_failures",
            "drops",
            "setup_succeeded",
            "feedback_ratings",
            "feedback_poor",
        ] {
            zero.push(col(c).fill_null(lit(0i64)));
        }
        let (scope, network) = targets::row_target(&[dim]);
        let joined = joined.with_columns(zero).with_columns([
            feedback_share(),
            scope.alias("target_scope"),
            network.alias("target_network"),
        ]);
        // Recomputed after the joins: rows without streams or segments get them too.
        let joined = joined
            .with_columns(audio_target_columns())
            .with_columns(reliability_target_columns(col("segments")))
            .with_column(target_line());
        let mut sel = vec![col(dim), col("calls"), col("minutes")];
        sel.extend(
            stream_columns()
                .iter()
                .filter(|c| *c != "calls" && *c != "target_line")
                .map(|c| col(c.as_str())),
        );
        sel.push(col("segments"));
        sel.extend(RELIABILITY_COLUMNS.iter().map(|c| col(*c)));
        sel.extend([
            col("feedback_ratings"),
            col("feedback_poor"),
            col("feedback_poor_share"),
            col("target_line"),
        ]);
        let order: (&[&str], &[bool]) = if dim == "day" {
            (&["day"], &[false])
        } else {
            (&["calls", "call_type"], &[true, false])
        };
        let df = collect(sorted(joined.select(sel), order.0, order.1), name)?;
        push(name, title, df)?;
    }

    // --- stream breakdowns -------------------------------------------------------------------
    for b in BREAKDOWNS {
        let mut by: Vec<&str> = vec!["audio_streams", "streams"];
        by.extend(b.dims.iter());
        let mut desc = vec![true, true];
        desc.extend(b.dims.iter().map(|_| false));
        let df = collect(
            sorted(stream_measures(acc.get(b.name), b.dims), &by, &desc),
            b.name,
        )?;
        push(b.name, b.title, df)?;
    }

    // --- worst lists ---------------------------------------------------------------------------
    let min = settings.min_streams as i64;
    let top = settings.top as IdxSize;
    let worst = |name: &str, keys: &[&str]| -> LazyFrame {
        let mut by = vec!["audio_poor_of_classified", "audio_poor", "audio_streams"];
        by.extend(keys.iter());
        let mut desc = vec![true, true, true];
        desc.extend(keys.iter().map(|_| false));
        sorted(
            stream_measures(acc.get(name), keys).filter(col("audio_streams").gt_eq(lit(min))),
            &by,
            &desc,
        )
        .limit(top)
    };
    let [subnets, buildings, users] = worst_lists();
    push(
        "worst_subnets",
        "Worst subnets (user side, audio poor stream rate)",
        collect(worst(subnets.0, subnets.2), "worst subnets")?,
    )?;
    push(
        "worst_buildings",
        "Worst buildings (user side, audio poor stream rate)",
        collect(worst(buildings.0, buildings.2), "worst buildings")?,
    )?;
    // The listed users' names: the first non-null over the whole sessions table (caller sides
    // first), read for those users only, so no per-user names are held over the runs.
    let wu = collect(worst(users.0, users.2), "worst users")?;
    let ids: Vec<&str> = wu.column("user_id")?.str()?.iter().flatten().collect();
    let names = session_people(&sessions)
        .filter(is_any("participant_id", &ids))
        .group_by([col("participant_id")])
        .agg([
            col("display_name")
                .drop_nulls()
                .first()
                .alias("display_name"),
            col("user_principal_name")
                .drop_nulls()
                .first()
                .alias("user_principal_name"),
        ]);
    let mut left = JoinArgs::new(JoinType::Left);
    left.maintain_order = MaintainOrderJoin::Left;
    let wu = wu
        .lazy()
        .join(names, [col("user_id")], [col("participant_id")], left);
    let mut sel = vec![
        col("user_id"),
        col("display_name"),
        col("user_principal_name"),
    ];
    sel.extend(stream_columns().iter().map(|c| col(c.as_str())));
    let wu = collect(wu.select(sel), "worst users")?;
    push(
        "worst_users",
        "Worst users (client side of the stream, audio poor stream rate)",
        wu,
    )?;

    // --- missing subnets -----------------------------------------------------------------------
    let missing = sorted(
        acc.get("missing_subnets")
            .filter(col("audio_streams").gt_eq(lit(min)))
            .with_column(
                ratio("audio_poor", col("audio_poor") + col("audio_good"))
                    .alias("audio_poor_of_classified"),
            ),
        &["audio_streams", "subnet"],
        &[true, false],
    );
    push(
        "missing_subnets",
        "Missing subnets (not in the building file, at least the minimum audio streams)",
        collect(missing, "missing subnets")?,
    )?;

    // --- attendance ----------------------------------------------------------------------------
    tables.push(NamedTable {
        name: "attendance",
        title: "Attendance per participant and call (from sessions)",
        df: attendance,
        rows: attendance_rows,
        streamed: true,
    });

    // Stable notes for the profile.
    if settings.min_streams == 0 {
        notes.push("--min-streams 0: worst lists include every subnet, building and user.".into());
    }
    Ok(Report {
        profile,
        settings: settings.clone(),
        tables,
        notes,
        runs: 0,
        runs_cached: 0,
    })
}

/// Attendance: per call and participant, first join, last leave, sessions, and minutes
/// present (the union of the session intervals, so overlapping sessions from two devices
/// count once). Rows are in (day, call, participant) order, so the runs' rows follow each
/// other in that order too.
fn attendance(sessions: &LazyFrame) -> Result<DataFrame> {
    let rows = collect(
        sorted(
            session_people(sessions).select([
                col("call_id"),
                col("day"),
                col("call_type"),
                col("participant_id"),
                col("display_name"),
                col("user_principal_name"),
                col("start_date_time").cast(DataType::Int64).alias("start"),
                col("end_date_time").cast(DataType::Int64).alias("end"),
            ]),
            &["day", "call_id", "participant_id", "start"],
            &[false, false, false, false],
        ),
        "attendance",
    )?;
    let call = rows.column("call_id")?.str()?;
    let day = rows.column("day")?.str()?;
    let ctype = rows.column("call_type")?.str()?;
    let pid = rows.column("participant_id")?.str()?;
    let dname = rows.column("display_name")?.str()?;
    let upn = rows.column("user_principal_name")?.str()?;
    let start = rows.column("start")?.i64()?;
    let end = rows.column("end")?.i64()?;

    #[derive(Default)]
    struct Out {
        call: Vec<String>,
        day: Vec<String>,
        ctype: Vec<String>,
        pid: Vec<String>,
        dname: Vec<Option<String>>,
        upn: Vec<Option<String>>,
        first: Vec<Option<i64>>,
        last: Vec<Option<i64>>,
        sessions: Vec<i64>,
        minutes: Vec<f64>,
    }
    let mut o = Out::default();
    let mut i = 0;
    let h = rows.height();
    while i < h {
        let (c, p) = (call.get(i).unwrap_or(""), pid.get(i).unwrap_or(""));
        let mut j = i;
        let (mut first, mut last): (Option<i64>, Option<i64>) = (None, None);
        let (mut name, mut principal) = (None, None);
        let mut total: i64 = 0;
        let mut cur: Option<(i64, i64)> = None;
        while j < h && call.get(j).unwrap_or("") == c && pid.get(j).unwrap_or("") == p {
            name = name.or(dname.get(j).map(str::to_string));
            principal = principal.or(upn.get(j).map(str::to_string));
            let (st, en) = (start.get(j), end.get(j));
            if let Some(st) = st {
                first = Some(first.map_or(st, |f| f.min(st)));
            }
            if let Some(en) = en {
                last = Some(last.map_or(en, |l| l.max(en)));
            }
            if let (Some(st), Some(en)) = (st, en) {
                if en > st {
                    // Rows are sorted by start: merge overlapping intervals.
                    cur = match cur {
                        Some((cs, ce)) if st <= ce => Some((cs, ce.max(en))),
                        Some((cs, ce)) => {
                            total += ce - cs;
                            Some((st, en))
                        }
                        None => Some((st, en)),
                    };
                }
            }
            j += 1;
        }
        if let Some((cs, ce)) = cur {
            total += ce - cs;
        }
        o.call.push(c.to_string());
        o.day.push(day.get(i).unwrap_or(UNKNOWN).to_string());
        o.ctype.push(ctype.get(i).unwrap_or(UNKNOWN).to_string());
        o.pid.push(p.to_string());
        o.dname.push(name);
        o.upn.push(principal);
        o.first.push(first);
        o.last.push(last);
        o.sessions.push((j - i) as i64);
        o.minutes.push(total as f64 / 60_000_000.0);
        i = j;
    }
    // UTC instants without a time-zone tag: polars (without its `timezones` feature) drops a
    // tag given to a cast of non-empty integers but keeps it on an empty column, and the runs'
    // attendance batches must share one schema.
    let ts = DataType::Datetime(TimeUnit::Microseconds, None);
    let df = DataFrame::new_infer_height(vec![
        Column::new("call_id".into(), o.call),
        Column::new("day".into(), o.day),
        Column::new("call_type".into(), o.ctype),
        Column::new("participant_id".into(), o.pid),
        Column::new("display_name".into(), o.dname),
        Column::new("user_principal_name".into(), o.upn),
        Column::new("first_join".into(), o.first).cast(&ts)?,
        Column::new("last_leave".into(), o.last).cast(&ts)?,
        Column::new("sessions".into(), o.sessions),
        Column::new("minutes".into(), o.minutes),
    ])?;
    Ok(df)
}

pub fn frac(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// `3.25 %`, or `–` for no data.
pub fn fmt_pct(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{:.2} %", v * 100.0),
        _ => "–".to_string(),
    }
}

#[derive(Default)]
struct TargetRows {
    scope: Vec<&'static str>,
    network: Vec<&'static str>,
    measure: Vec<&'static str>,
    numerator: Vec<i64>,
    denominator: Vec<i64>,
    actual: Vec<Option<f64>>,
    target: Vec<f64>,
    status: Vec<&'static str>,
    basis: Vec<String>,
}

impl TargetRows {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        scope: &'static str,
        network: &'static str,
        measure: &'static str,
        num: i64,
        den: i64,
        target: f64,
        basis: &str,
    ) {
        let actual = frac(num, den);
        self.scope.push(scope);
        self.network.push(network);
        self.measure.push(measure);
        self.numerator.push(num);
        self.denominator.push(den);
        self.actual.push(actual);
        self.target.push(target);
        self.status.push(targets::status(actual, target));
        self.basis.push(basis.to_string());
    }

    fn frame(self) -> Result<DataFrame> {
        Ok(DataFrame::new_infer_height(vec![
            Column::new("scope".into(), self.scope),
            Column::new("network".into(), self.network),
            Column::new("measure".into(), self.measure),
            Column::new("numerator".into(), self.numerator),
            Column::new("denominator".into(), self.denominator),
            Column::new("actual".into(), self.actual),
            Column::new("target".into(), self.target),
            Column::new("status".into(), self.status),
            Column::new("basis".into(), self.basis),
        ])?)
    }
}
