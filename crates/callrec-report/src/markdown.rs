//! `summary.md`: the headline figures as Markdown, for the terminal and cron mail.

use crate::compute::{fmt_pct, frac, Report};
use crate::output::{i64_at, text};
use polars::prelude::*;
use std::fmt::Write;

/// Escapes text from the data for a Markdown table cell: `|`, `\`, `<`, `>`, backticks and
/// brackets are backslash-escaped and line breaks become spaces, so a value can neither break
/// the table nor turn into HTML, code or a link.
pub fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '|' | '\\' | '<' | '>' | '`' | '[' | ']' => {
                o.push('\\');
                o.push(ch);
            }
            '\n' | '\r' | '\t' => o.push(' '),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

/// A Markdown table of `columns` (column, header) of `df`, at most `max` rows.
pub fn md_table(df: &DataFrame, columns: &[(&str, &str)], max: usize) -> String {
    let cols: Vec<&(&str, &str)> = columns
        .iter()
        .filter(|(c, _)| df.column(c).is_ok())
        .collect();
    let mut o = String::new();
    if df.height() == 0 {
        o.push_str("(none)\n");
        return o;
    }
    o.push('|');
    for (_, h) in &cols {
        let _ = write!(o, " {h} |");
    }
    o.push_str("\n|");
    for _ in &cols {
        o.push_str("---|");
    }
    o.push('\n');
    for i in 0..df.height().min(max) {
        o.push('|');
        for (c, _) in &cols {
            let _ = write!(o, " {} |", md_escape(&text(df, c, i)));
        }
        o.push('\n');
    }
    if df.height() > max {
        let _ = writeln!(o, "\n… {} more rows in the CSV.", df.height() - max);
    }
    o
}

/// The "worst" report tables: name, title and the columns that name a row (shared with
/// the HTML report).
pub const WORST_LISTS: &[(&str, &str, &[&str])] = &[
    ("worst_subnets", "Worst subnets", &["subnet", "building"]),
    (
        "worst_buildings",
        "Worst buildings",
        &["building", "city", "country"],
    ),
    (
        "worst_users",
        "Worst users",
        &["display_name", "user_principal_name", "user_id"],
    ),
];

/// Columns shown for the streams-by-modality table.
pub const MODALITY_COLUMNS: &[(&str, &str)] = &[
    ("modality", "modality"),
    ("streams", "streams"),
    ("poor", "poor"),
    ("good", "good"),
    ("unclassified", "unclassified"),
    ("poor_of_classified", "poor ÷ classified"),
    ("poor_of_all", "poor ÷ all"),
    ("target", "target"),
    ("status", "status"),
];

/// Columns shown for a stream breakdown: its dimensions, then the audio measures.
pub fn breakdown_columns<'a>(dims: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut v: Vec<(&str, &str)> = dims.iter().map(|d| (*d, *d)).collect();
    v.extend([
        ("calls", "calls"),
        ("audio_streams", "audio streams"),
        ("audio_poor", "poor"),
        ("audio_good", "good"),
        ("audio_unclassified", "unclassified"),
        ("audio_poor_of_classified", "poor ÷ classified"),
        ("audio_poor_of_all", "poor ÷ all"),
        ("audio_target", "target"),
        ("audio_status", "status"),
        ("video_poor_of_classified", "video poor ÷ classified"),
        ("vbss_poor_of_classified", "VBSS poor ÷ classified"),
        ("poor_call_rate", "poor call rate"),
    ]);
    v
}

pub fn render(report: &Report, dataset: &str, generated_at: &str) -> String {
    let mut o = String::new();
    let t = |n: &str| report.table(n).cloned().unwrap_or_default();
    let ov = t("overview");
    let _ = writeln!(o, "# callrec call-quality report\n");
    let _ = writeln!(
        o,
        "Dataset `{}` · generated {generated_at} · quality profile: **{}**\n",
        md_escape(dataset),
        md_escape(&report.profile)
    );
    if ov.height() > 0 {
        let days = if i64_at(&ov, "days", 0) > 0 {
            format!(
                "UTC days {} to {} ({})",
                md_escape(&text(&ov, "first_day", 0)),
                md_escape(&text(&ov, "last_day", 0)),
                text(&ov, "days", 0)
            )
        } else {
            "no calls".to_string()
        };
        let _ = writeln!(
            o,
            "{} calls, {} minutes, {} participants, {} sessions, {} segments, {} streams; {days}.\n",
            text(&ov, "calls", 0),
            text(&ov, "minutes", 0),
            text(&ov, "participants", 0),
            text(&ov, "sessions", 0),
            text(&ov, "segments", 0),
            text(&ov, "streams", 0),
        );
        let audio_calls = i64_at(&ov, "audio_calls", 0);
        let poor_calls = i64_at(&ov, "poor_calls", 0);
        let _ = writeln!(
            o,
            "Poor calls: {poor_calls} of {audio_calls} calls with audio ({}); a call is poor when any of its audio streams is.\n",
            fmt_pct(frac(poor_calls, audio_calls))
        );
    }
    for n in &report.notes {
        let _ = writeln!(o, "> **Note:** {}\n", md_escape(n));
    }

    let _ = writeln!(o, "## Poor stream rate by modality\n");
    o.push_str(&md_table(&t("modalities"), MODALITY_COLUMNS, 20));

    let _ = writeln!(
        o,
        "\n## Targets\n\nMicrosoft's suggested targets (Teams QoE review guide, Table 2). Setup and drop rates are approximations from Graph failureInfo.\n"
    );
    o.push_str(&md_table(
        &t("targets"),
        &[
            ("scope", "scope"),
            ("network", "network"),
            ("measure", "measure"),
            ("numerator", "n"),
            ("denominator", "of"),
            ("actual", "actual"),
            ("target", "target"),
            ("status", "status"),
        ],
        100,
    ));

    let _ = writeln!(o, "\n## Reliability (approximations)\n");
    o.push_str(&md_table(
        &t("reliability"),
        &[
            ("source", "from"),
            ("units", "units"),
            ("setup_failures", "setup failures"),
            ("setup_failure_rate_approx", "setup failure rate ≈"),
            ("setup_status", "vs target"),
            ("drops", "drops"),
            ("drop_failure_rate_approx", "drop rate ≈"),
            ("drop_status", "vs target"),
        ],
        10,
    ));
    let _ = writeln!(o, "\n## Failures by stage and reason\n");
    o.push_str(&md_table(
        &t("failures"),
        &[
            ("source", "from"),
            ("stage", "stage"),
            ("reason", "reason"),
            ("count", "count"),
        ],
        20,
    ));

    let fb = t("feedback");
    let _ = writeln!(o, "\n## Feedback\n");
    if fb.height() > 0 {
        let _ = writeln!(
            o,
            "{} ratings, {} poor or bad ({}); {} not rated.\n",
            text(&fb, "ratings", 0),
            text(&fb, "poor", 0),
            text(&fb, "poor_share", 0),
            text(&fb, "not_rated", 0)
        );
    }
    o.push_str(&md_table(
        &t("feedback_tokens"),
        &[("token", "top tokens"), ("count", "count")],
        10,
    ));

    let _ = writeln!(o, "\n## Poor streams by reason\n");
    o.push_str(&md_table(
        &t("poor_reasons"),
        &[
            ("modality", "modality"),
            ("reason", "reason"),
            ("poor_streams", "poor streams"),
        ],
        20,
    ));

    let _ = writeln!(o, "\n## By UTC day\n");
    o.push_str(&md_table(
        &t("by_day"),
        &[
            ("day", "day"),
            ("calls", "calls"),
            ("minutes", "minutes"),
            ("audio_streams", "audio streams"),
            ("audio_poor_of_classified", "audio poor ÷ classified"),
            ("audio_status", "vs target"),
            ("poor_call_rate", "poor call rate"),
            ("setup_failure_rate_approx", "setup failure ≈"),
            ("drop_failure_rate_approx", "drop ≈"),
            ("feedback_poor_share", "poor feedback"),
        ],
        62,
    ));
    let _ = writeln!(o, "\n## By call type\n");
    o.push_str(&md_table(
        &t("by_call_type"),
        &[
            ("call_type", "call type"),
            ("calls", "calls"),
            ("minutes", "minutes"),
            ("audio_streams", "audio streams"),
            ("audio_poor_of_classified", "audio poor ÷ classified"),
            ("audio_target", "target"),
            ("audio_status", "vs target"),
            ("poor_call_rate", "poor call rate"),
        ],
        20,
    ));

    let min = report.settings.min_streams;
    for &(name, title, keys) in WORST_LISTS {
        let _ = writeln!(o, "\n## {title} (at least {min} audio streams)\n");
        // The text summary leaves out the principal name to keep its tables narrow.
        let mut cols: Vec<(&str, &str)> = keys
            .iter()
            .filter(|k| **k != "user_principal_name")
            .map(|k| (*k, *k))
            .collect();
        cols.extend([
            ("audio_streams", "audio streams"),
            ("audio_poor", "poor"),
            ("audio_poor_of_classified", "poor ÷ classified"),
            ("audio_status", "vs target"),
        ]);
        o.push_str(&md_table(&t(name), &cols, 10));
    }
    let ms = t("missing_subnets");
    let _ = writeln!(
        o,
        "\n## Missing subnets\n\n{} subnets with at least {min} audio streams are not in the building file.\n",
        ms.height()
    );
    o.push_str(&md_table(
        &ms,
        &[
            ("subnet", "subnet"),
            ("audio_streams", "audio streams"),
            ("calls", "calls"),
            ("audio_poor_of_classified", "poor ÷ classified"),
        ],
        10,
    ));

    let tables: Vec<&str> = report.tables.iter().map(|t| t.name).collect();
    let _ = writeln!(
        o,
        "\n## Files\n\nEach table as `<name>.csv` and `<name>.parquet`: {}. Also `summary.json` (headline tables for scripts) and `report.html` (charts and tables; open it in a browser).",
        tables.join(", ")
    );
    o
}
