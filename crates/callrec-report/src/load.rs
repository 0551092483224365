//! Reading the dataset: one lazy Parquet scan per table over its Hive partitions, checks that
//! the columns the reports need are there, and the per-stream frame the quality measures are
//! computed from (modality, quality, the user side's dimensions).

use anyhow::{bail, Context, Result};
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// Shown in the profile column when the streams carry no `quality_profile` (a dataset written
/// before the quality columns existed): every stream then counts as unclassified.
pub const NO_PROFILE: &str = "none (streams not classified: run callrec flatten again)";

/// The Parquet part files of one table: `DIR/<table>/date=*/part-*.parquet`, in name order.
pub fn table_files(dataset: &Path, table: &str) -> Result<Vec<PathBuf>> {
    let dir = dataset.join(table);
    if !dir.is_dir() {
        bail!(
            "{} has no {table}/ folder: not a callrec dataset (run `callrec flatten … --out {}` first)",
            dataset.display(),
            dataset.display()
        );
    }
    let mut files = Vec::new();
    for part in entries(&dir, |p, n| p.is_dir() && n.starts_with("date="))? {
        files.extend(entries(&part, |p, n| {
            p.is_file() && !n.starts_with('.') && n.ends_with(".parquet")
        })?);
    }
    if files.is_empty() {
        bail!(
            "{} holds no Parquet files: not a complete callrec dataset",
            dir.display()
        );
    }
    Ok(files)
}

/// The `date=` partition values of a table in name order (the order of a scan over the whole
/// table), each with the bytes of its Parquet files.
pub fn partitions(dataset: &Path, table: &str) -> Result<Vec<(String, u64)>> {
    let dir = dataset.join(table);
    let mut out = Vec::new();
    for p in entries(&dir, |p, n| p.is_dir() && n.starts_with("date="))? {
        let Some(date) = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("date="))
        else {
            continue;
        };
        let files = entries(&p, |f, n| f.is_file() && n.ends_with(".parquet"))?;
        let bytes = files
            .iter()
            .filter_map(|f| f.metadata().ok())
            .map(|m| m.len())
            .sum();
        out.push((date.to_owned(), bytes));
    }
    Ok(out)
}

/// The entries of `dir` that `keep` (given the path and its UTF-8 file name) accepts, in name
/// order.
fn entries(dir: &Path, keep: impl Fn(&Path, &str) -> bool) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| keep(p, n))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// A table of the dataset: a lazy scan plus its schema, with a Hive `date` column (string,
/// null for `__HIVE_DEFAULT_PARTITION__`).
#[derive(Clone)]
pub struct Table {
    pub name: &'static str,
    pub lf: LazyFrame,
    pub schema: SchemaRef,
}

impl Table {
    pub fn scan(dataset: &Path, name: &'static str) -> Result<Table> {
        // Fails clearly when the table folder or its files are missing.
        table_files(dataset, name)?;
        // Scan the table folder itself: polars then reads Hive keys only below it, so a
        // `key=value` folder above the dataset cannot turn into a column.
        let dir = dataset.join(name);
        let dir = dir
            .to_str()
            .with_context(|| format!("path is not UTF-8: {}", dir.display()))?;
        let hive_schema = Schema::from_iter([Field::new("date".into(), DataType::String)]);
        let args = ScanArgsParquet {
            hive_options: HiveOptions {
                enabled: Some(true),
                hive_start_idx: 0,
                schema: Some(Arc::new(hive_schema)),
                try_parse_dates: false,
            },
            glob: false,
            allow_missing_columns: true,
            ..Default::default()
        };
        let mut lf = anyhow::Context::with_context(
            LazyFrame::scan_parquet(PlRefPath::new(dir), args),
            || format!("cannot scan the {name} table"),
        )?;
        let schema = anyhow::Context::with_context(lf.collect_schema(), || {
            format!("cannot read the schema of the {name} table")
        })?;
        let t = Table { name, lf, schema };
        Ok(t)
    }

    /// The rows of some Hive partitions (`date=<value>` folder names, as polars reads them):
    /// polars prunes the other partitions' files from the scan.
    pub fn partitions(&self, dates: &[String]) -> Table {
        let pick = dates
            .iter()
            .map(|d| col("date").eq(lit(d.as_str())))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false));
        Table {
            name: self.name,
            lf: self.lf.clone().filter(pick),
            schema: self.schema.clone(),
        }
    }

    pub fn has(&self, column: &str) -> bool {
        self.schema.contains(column)
    }

    /// Fails with the list of `columns` the table lacks.
    pub fn require(&self, columns: &[&str]) -> Result<()> {
        let missing: Vec<&str> = columns.iter().copied().filter(|c| !self.has(c)).collect();
        if !missing.is_empty() {
            bail!(
                "the {} table lacks column(s) {}: not a dataset this callrec version can report on",
                self.name,
                missing.join(", ")
            );
        }
        Ok(())
    }

    /// The scan with every column of `optional` the files lack added as nulls of its type, so
    /// a dataset from before a column existed still reports (with those measures empty).
    pub fn lazy_with(&self, optional: &[(&str, DataType)]) -> LazyFrame {
        let add: Vec<Expr> = optional
            .iter()
            .filter(|(c, _)| !self.has(c))
            .map(|(c, t)| lit(NULL).cast(t.clone()).alias(*c))
            .collect();
        let mut lf = self.lf.clone();
        if !add.is_empty() {
            lf = lf.with_columns(add);
        }
        // `__HIVE_DEFAULT_PARTITION__` is a null date.
        lf.with_column(
            when(col("date").eq(lit("__HIVE_DEFAULT_PARTITION__")))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col("date"))
                .alias("date"),
        )
    }
}

/// `col(c) == v`, false (never null) where `c` is null.
pub fn is(c: &str, v: &str) -> Expr {
    col(c).eq(lit(v)).fill_null(lit(false))
}

/// Any of `vs`.
pub fn is_any(c: &str, vs: &[&str]) -> Expr {
    vs.iter()
        .map(|v| is(c, v))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false))
}

/// Shown for a null dimension value.
pub const UNKNOWN: &str = "(unknown)";

/// Shown as the building of an endpoint whose subnet the building file does not cover.
pub const NOT_IN_BUILDING_FILE: &str = "(not in building file)";

/// The streams columns the reports read, by part A of issue 3 (quality, endpoints, buildings).
const SIDE_STRINGS: &[&str] = &[
    "kind",
    "participant_id",
    "user_agent_platform",
    "user_agent_product_family",
    "user_agent_application_version",
    "network_connection_type",
    "network_wifi_band",
    "network_subnet",
    "building_name",
    "building_network_name",
    "building_city",
    "building_country",
    "building_region",
];
const SIDE_BOOLS: &[&str] = &[
    "building_inside_corp",
    "building_express_route",
    "building_vpn",
];

fn stream_optional() -> Vec<(String, DataType)> {
    let mut v: Vec<(String, DataType)> = vec![
        ("modality".into(), DataType::String),
        ("quality".into(), DataType::String),
        (
            "poor_reasons".into(),
            DataType::List(Box::new(DataType::String)),
        ),
        ("quality_profile".into(), DataType::String),
        ("first_side".into(), DataType::String),
        ("is_server_pair".into(), DataType::String),
        ("is_inbound".into(), DataType::Boolean),
        ("media_label".into(), DataType::String),
        ("audio_codec".into(), DataType::String),
        ("video_codec".into(), DataType::String),
        ("call_type".into(), DataType::String),
    ];
    for side in ["caller", "callee"] {
        for c in SIDE_STRINGS {
            v.push((format!("{side}_{c}"), DataType::String));
        }
        for c in SIDE_BOOLS {
            v.push((format!("{side}_{c}"), DataType::Boolean));
        }
    }
    v
}

/// The per-stream frame every quality measure is computed from. One row per `streams` row:
///
/// - `call_id`, `day` (the Hive partition date: UTC date of the call's start), `call_type`;
/// - `modality` (from part A's column; for older datasets derived from `media_label` with the
///   same mapping), `quality` (good / poor / unclassified; null counts as unclassified),
///   `poor_reasons`, `quality_profile`;
/// - `scope`: conferencing (Client:Server), p2p (Client:Client), server (Server:Server), from
///   `is_server_pair`, else from the call type;
/// - the user side's dimensions (`platform`, `product_family`, `client_version`,
///   `connection_type`, `wifi_band`, `subnet`, `building`, `network_name`, `city`, `country`,
///   `region`, `inside_outside`, `user_id`): the user is the Second endpoint in CQD terms, the
///   client end. `first_side` names the First side (server first); the user is the other one.
///   Where `first_side` is null the same rule is applied here: the callee is the user unless
///   only the callee is a service endpoint (between two clients the caller is First);
/// - `connection_pair` = First connection type ` : ` Second (user) connection type;
/// - both sides' subnet, kind and building name for the missing-subnet report.
///
/// `_stream_row` numbers the streams of the frame (a stream's id for distinct counts: a stream
/// and its call are in one run). `_<modality>_streams`, `_<modality>_poor` and
/// `_<modality>_good` (Int64, 0 or 1) are the stream's counts for [`crate::compute`]'s
/// breakdowns: computed here once per run instead of as string comparisons in each of their
/// ~25 queries.
pub fn streams_frame(t: &Table) -> Result<LazyFrame> {
    t.require(&["call_id"])?;
    let opt = stream_optional();
    let opt_ref: Vec<(&str, DataType)> = opt.iter().map(|(c, d)| (c.as_str(), d.clone())).collect();
    let lf = t.lazy_with(&opt_ref).with_row_index("_stream_row", None);

    let first_is_callee = when(col("first_side").is_not_null())
        .then(is("first_side", "callee"))
        .otherwise(is("callee_kind", "service").and(is("caller_kind", "service").not()));
    let lf = lf.with_column(first_is_callee.alias("_user_is_caller"));
    let user = |c: &str| {
        when(col("_user_is_caller"))
            .then(col(format!("caller_{c}")))
            .otherwise(col(format!("callee_{c}")))
    };
    let first = |c: &str| {
        when(col("_user_is_caller"))
            .then(col(format!("callee_{c}")))
            .otherwise(col(format!("caller_{c}")))
    };
    let label_modality = when(is("media_label", "main-audio"))
        .then(lit("audio"))
        .when(is_any("media_label", &["main-video", "panoramic-video"]))
        .then(lit("video"))
        .when(is_any(
            "media_label",
            &["applicationsharing-video", "video-based-screen-sharing"],
        ))
        .then(lit("vbss"))
        .when(is("media_label", "data"))
        .then(lit("data"))
        .otherwise(lit("other"));
    let scope = when(is("is_server_pair", "client:server"))
        .then(lit("conferencing"))
        .when(is("is_server_pair", "client:client"))
        .then(lit("p2p"))
        .when(is("is_server_pair", "server:server"))
        .then(lit("server"))
        .when(is("call_type", "groupCall"))
        .then(lit("conferencing"))
        .when(is("call_type", "peerToPeer"))
        .then(lit("p2p"))
        .otherwise(lit("other"));
    let dim = |e: Expr, name: &str| e.fill_null(lit(UNKNOWN)).alias(name);
    let inside = user("building_inside_corp").fill_null(lit(false));
    let profile = if t.has("quality_profile") {
        col("quality_profile")
    } else {
        lit(NO_PROFILE)
    };

    let mut exprs = vec![
        col("call_id"),
        col("_stream_row"),
        col("date").fill_null(lit(UNKNOWN)).alias("day"),
        dim(col("call_type"), "call_type"),
        col("modality").fill_null(label_modality).alias("modality"),
        col("quality")
            .fill_null(lit("unclassified"))
            .alias("quality"),
        col("poor_reasons"),
        profile.alias("quality_profile"),
        scope.alias("scope"),
        dim(col("is_server_pair"), "is_server_pair"),
        dim(
            when(col("is_inbound"))
                .then(lit("inbound"))
                .when(col("is_inbound").not())
                .then(lit("outbound"))
                .otherwise(lit(NULL).cast(DataType::String)),
            "direction",
        ),
        dim(col("audio_codec").fill_null(col("video_codec")), "codec"),
        when(col("_user_is_caller"))
            .then(lit("caller"))
            .otherwise(lit("callee"))
            .alias("user_side"),
        user("participant_id").alias("user_id"),
        dim(user("kind"), "user_kind"),
        dim(user("user_agent_platform"), "platform"),
        dim(user("user_agent_product_family"), "product_family"),
        dim(user("user_agent_application_version"), "client_version"),
        dim(user("network_connection_type"), "connection_type"),
        (first("network_connection_type").fill_null(lit(UNKNOWN))
            + lit(" : ")
            + user("network_connection_type").fill_null(lit(UNKNOWN)))
        .alias("connection_pair"),
        dim(user("network_wifi_band"), "wifi_band"),
        user("network_subnet").alias("user_subnet"),
        dim(user("network_subnet"), "subnet"),
        user("building_name").alias("user_building"),
        user("building_name")
            .fill_null(lit(NOT_IN_BUILDING_FILE))
            .alias("building"),
        dim(user("building_network_name"), "network_name"),
        dim(user("building_city"), "city"),
        dim(user("building_country"), "country"),
        dim(user("building_region"), "region"),
        inside.clone().alias("user_inside"),
        when(inside)
            .then(lit("inside"))
            .otherwise(lit("outside"))
            .alias("inside_outside"),
        user("building_vpn").fill_null(lit(false)).alias("user_vpn"),
        user("network_connection_type").alias("user_connection_type"),
        user("network_wifi_band").alias("user_wifi_band"),
    ];
    for side in ["caller", "callee"] {
        for c in ["kind", "network_subnet", "building_name"] {
            exprs.push(col(format!("{side}_{c}")));
        }
    }
    let mut counts = Vec::new();
    for m in crate::compute::MODALITIES {
        let is_m = is("modality", m);
        let one = |e: Expr, c: &str| e.cast(DataType::Int64).alias(format!("_{m}_{c}"));
        counts.push(one(is_m.clone(), "streams"));
        counts.push(one(is_m.clone().and(is("quality", "poor")), "poor"));
        counts.push(one(is_m.and(is("quality", "good")), "good"));
    }
    Ok(lf.select(exprs).with_columns(counts))
}

/// `df` (a collected [`streams_frame`]) with `_call`: a UInt32 number per distinct `call_id`
/// (null ids share one), so that the breakdowns group streams by call on an integer instead
/// of hashing the 36-character id in every query.
pub fn with_call_number(mut df: DataFrame) -> Result<DataFrame> {
    let ids = df.column("call_id")?.str()?;
    let mut numbers: std::collections::HashMap<&str, u32> =
        std::collections::HashMap::with_capacity(df.height() / 4);
    let call: Vec<u32> = ids
        .iter()
        .map(|id| match id {
            Some(id) => {
                let next = u32::try_from(numbers.len()).expect("fewer than 2^32 calls in a run");
                *numbers.entry(id).or_insert(next)
            }
            None => u32::MAX,
        })
        .collect();
    df.with_column(Column::new("_call".into(), call))?;
    Ok(df)
}
