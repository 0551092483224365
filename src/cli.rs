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
    /// Print every table's columns, types, units and source Graph property (Markdown).
    Schema,
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
}

impl FlattenArgs {
    pub fn resolve(self) -> anyhow::Result<(FlattenConfig, bool)> {
        let threads = match self.threads {
            Some(0) => anyhow::bail!("--threads must be at least 1"),
            Some(n) => n,
            None => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
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
        };
        Ok((cfg, self.quiet))
    }
}
