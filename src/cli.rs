//! Command line: clap definitions (doc comments are the help text), resolved once into the
//! ready-to-use configs the rest of the code sees.

use crate::decode::Limits;
use crate::run::FlattenConfig;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Turn Microsoft Teams call records (Microsoft Graph callRecord exports) into Parquet tables.
#[derive(Debug, Parser)]
#[command(name = "callrec", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Flatten exported callRecord JSON (files and folders, any layout) into a Parquet dataset.
    ///
    /// Reads single records, Graph collection pages, NDJSON/JSON Lines, gzip of any of these, and
    /// sessions/participants_v2 pages exported apart from their call. Writes
    /// DIR/<table>/date=YYYY-MM-DD/*.parquet, DIR/_manifest.json and DIR/_errors.ndjson.
    /// Exit code 0: everything processed; 1: finished, but some input was rejected (see
    /// _errors.ndjson); 2: fatal error, nothing was published.
    Flatten(FlattenArgs),
    /// Write the call-quality reports of a dataset: CQD measures per day and dimension beside
    /// Microsoft's targets, as CSV + Parquet tables, summary.json, summary.md and report.html.
    ///
    /// Written to DATASET/reports/ (or --out), replacing an earlier report there. Exit code 0:
    /// written; 2: the dataset could not be read or the report not written.
    #[cfg(feature = "report")]
    Report(ReportArgs),
    /// Print every table's columns, types, units and source Graph property (Markdown).
    Schema,
    /// Write a deterministic synthetic archive (for benchmarks and soak tests).
    #[command(hide = true)]
    Gen(GenArgs),
    /// Read and parse inputs into the model without flattening or writing: the parse-only
    /// ceiling that `flatten` is measured against.
    #[command(hide = true)]
    ParseOnly(ParseOnlyArgs),
    /// Read a written dataset back and time only the Parquet encoding of its row groups, with
    /// the tables' writer properties, into a sink: the encoding ceiling beside `parse-only`.
    #[command(hide = true)]
    EncodeOnly(EncodeOnlyArgs),
}

#[derive(Debug, clap::Args)]
pub struct EncodeOnlyArgs {
    /// A dataset folder written by `callrec flatten`.
    pub dataset: PathBuf,
    /// Encoding threads (default: the number of CPU cores).
    #[arg(short = 'j', long)]
    pub threads: Option<usize>,
    /// Parquet compression codec.
    #[arg(long, value_enum, default_value_t)]
    pub compression: crate::sink::Codec,
    /// Arrow batches held and encoded per round, in MiB.
    #[arg(long, default_value_t = 2048)]
    pub round_mib: usize,
}

#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// Output folder for the archive.
    #[arg(short, long)]
    pub out: PathBuf,
    /// Uncompressed JSON size to generate, in MB.
    #[arg(long, default_value_t = 100)]
    pub size_mb: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, clap::Args)]
pub struct ParseOnlyArgs {
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Worker threads (default: the number of CPU cores).
    #[arg(short = 'j', long)]
    pub threads: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct FlattenArgs {
    /// Files and folders to read (folders are walked recursively, in name order).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Output folder (created if missing; an earlier callrec dataset there is replaced).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,

    /// Worker threads (default: the number of CPU cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Largest JSON document read into memory, in MiB (a whole file after gunzip, or one NDJSON
    /// line). Larger documents are rejected and reported.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_document_mb: u64,

    /// Do not write the call-quality reports to DIR/reports/ after the run (an earlier report
    /// there is removed, so it cannot be mistaken for this dataset's). Accepted, and implied, by
    /// builds without the `report` feature, so cron lines work with either build.
    #[arg(long)]
    pub no_report: bool,

    /// No progress bar and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,

    /// CQD building file (the one uploaded to the Call Quality Dashboard): CSV or TSV, no header,
    /// 14 or 15 columns (NetworkIP, NetworkName, NetworkRange, BuildingName, …, InsideCorp,
    /// ExpressRoute[, VPN]). Fills the streams' caller_building_* / callee_building_* columns from
    /// each side's subnet. Without it every endpoint is outside corp, as in CQD.
    #[arg(long, value_name = "FILE")]
    pub buildings: Option<PathBuf>,

    /// The CQD stream classification rules for streams.quality (recorded in each row and in
    /// _manifest.json).
    #[arg(long, value_name = "PROFILE", value_enum, default_value_t = crate::quality::Profile::CqdCurrent)]
    pub quality_profile: crate::quality::Profile,

    /// Parquet compression codec.
    #[arg(long, value_name = "CODEC", value_enum, default_value_t = crate::sink::Codec::Zstd)]
    pub compression: crate::sink::Codec,

    /// Columns that identify a person (user ids, UPNs, display names, phone numbers, IP and MAC
    /// addresses, BSSIDs, machine and device names, feedback text; `callrec schema` marks them):
    /// keep them, hash them (keyed with --pii-salt; equal values stay equal, so joins work), or
    /// drop them (null; the columns stay).
    #[arg(long, value_name = "MODE", value_enum, default_value_t = crate::pii::PiiMode::Keep)]
    pub pii: crate::pii::PiiMode,

    /// The secret key of --pii hash (default: the CALLREC_PII_SALT environment variable, which
    /// unlike an argument is not visible in the process list). Use the same salt on every run.
    #[arg(long, value_name = "SALT")]
    pub pii_salt: Option<String>,

    /// Rebuild the dataset from all inputs instead of reading only new and changed files (the
    /// incremental state is ignored and written anew). Needed after changing --quality-profile,
    /// --buildings or --pii, and when the state is reported damaged.
    #[arg(long)]
    pub full: bool,
}

impl FlattenArgs {
    pub fn resolve(self) -> anyhow::Result<(FlattenConfig, bool)> {
        let threads = match self.threads {
            Some(0) => anyhow::bail!("--threads must be at least 1"),
            Some(n) => n,
            None => crate::run::default_threads(),
        };
        if self.max_document_mb == 0 {
            anyhow::bail!("--max-document-mb must be at least 1");
        }
        let cfg = FlattenConfig {
            inputs: self.inputs,
            out: self.out,
            threads,
            limits: Limits {
                max_document_bytes: self.max_document_mb << 20,
            },
            progress: !self.quiet && std::io::stderr().is_terminal(),
            buildings: self.buildings,
            quality_profile: self.quality_profile,
            compression: self.compression,
            pii: crate::pii::PiiPolicy::new(
                self.pii,
                self.pii_salt
                    .or_else(|| std::env::var(crate::pii::SALT_ENV).ok())
                    .as_deref(),
            )?,
            full: self.full,
            index_budget: crate::run::INDEX_BUDGET,
        };
        Ok((cfg, self.quiet))
    }
}

#[cfg(feature = "report")]
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A dataset written by `callrec flatten` (the --out folder).
    #[arg(value_name = "DATASET")]
    pub dataset: PathBuf,

    /// Report folder (default: DATASET/reports). An earlier report folder there is replaced;
    /// any other non-empty folder is refused.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Fewest audio streams a subnet, building or user needs to enter a "worst" list or the
    /// missing-subnet report.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub min_streams: u32,

    /// Rows in each "worst" list.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,

    /// No summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}
