//! The `callrec` binary: parse the command line, run, turn the outcome into an exit code.

use callrec::cli::{Cli, Command};
use callrec::exit::ExitCode;
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("callrec: error: {e:#}");
            ExitCode::Fatal.into()
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Gen(a) => {
            let s = callrec::gen::generate(&a.out, a.size_mb * 1_000_000, a.seed)?;
            eprintln!("{}", serde_json::to_string(&s)?);
            Ok(ExitCode::Success)
        }
        Command::ParseOnly(a) => {
            let threads = a.threads.unwrap_or_else(callrec::run::default_threads);
            let t = std::time::Instant::now();
            let (records, bytes) =
                callrec::run::parse_only(&a.inputs, threads, &Default::default())?;
            let s = t.elapsed().as_secs_f64();
            eprintln!(
                "parsed {records} records, {:.1} MB in {s:.3} s: {:.0} MB/s",
                bytes as f64 / 1e6,
                bytes as f64 / 1e6 / s
            );
            Ok(ExitCode::Success)
        }
        Command::EncodeOnly(a) => {
            let threads = a.threads.unwrap_or_else(callrec::run::default_threads);
            let e = callrec::sink::encode_only::encode_only(
                &a.dataset,
                threads,
                a.compression,
                a.round_mib << 20,
            )?;
            let s = e.wall.as_secs_f64();
            eprintln!(
                "encoded {} rows ({:.1} M cells, {} row groups, {:.0} MB of Arrow) in {s:.3} s: \
                 {:.0} k rows/s, {:.1} M cells/s",
                e.rows,
                e.cells as f64 / 1e6,
                e.row_groups,
                e.arrow_bytes as f64 / 1e6,
                e.rows as f64 / 1e3 / s,
                e.cells as f64 / 1e6 / s,
            );
            Ok(ExitCode::Success)
        }
        #[cfg(feature = "report")]
        Command::Report(args) => {
            let settings = callrec_report::Settings {
                min_streams: args.min_streams,
                top: args.top,
            };
            let w = callrec_report::write_report(&args.dataset, args.out.as_deref(), &settings)?;
            if !args.quiet {
                eprintln!("callrec: {}\nwritten to {}", w.headline, w.place());
            }
            Ok(ExitCode::Success)
        }
        Command::Schema => {
            print!("{}", callrec::schema::schema_markdown());
            Ok(ExitCode::Success)
        }
        Command::Flatten(args) => {
            #[cfg_attr(not(feature = "report"), allow(unused_variables))]
            let no_report = args.no_report;
            let (cfg, quiet) = args.resolve()?;
            let manifest = callrec::run::flatten(&cfg)?;
            if !quiet {
                eprintln!("{}", manifest.summary());
            }
            #[cfg(feature = "report")]
            report_after_flatten(&cfg.out, no_report, quiet)?;
            Ok(if manifest.has_rejections() {
                ExitCode::Rejected
            } else {
                ExitCode::Success
            })
        }
    }
}

/// The reports of a freshly published dataset (`flatten` without `--no-report`). A failure
/// here is fatal (exit 2) although the dataset itself is already published.
#[cfg(feature = "report")]
fn report_after_flatten(out: &std::path::Path, no_report: bool, quiet: bool) -> anyhow::Result<()> {
    use anyhow::Context;
    if no_report {
        if callrec_report::remove_stale(out)? && !quiet {
            eprintln!(
                "callrec: removed the earlier report in {}",
                callrec_report::default_dir(out).display()
            );
        }
        return Ok(());
    }
    let w = callrec_report::write_report(out, None, &Default::default()).with_context(|| {
        format!(
            "the dataset was published to {}, but its report could not be written",
            out.display()
        )
    })?;
    if !quiet {
        eprintln!("{}\nreport written to {}", w.headline, w.place());
    }
    Ok(())
}
