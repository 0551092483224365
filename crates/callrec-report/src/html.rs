//! `report.html`: one self-contained page (inline CSS and SVG, no script, no network) with the
//! headline figures, charts and the report tables. Every text from the data is escaped.

use crate::compute::{fmt_pct, frac, Report, BREAKDOWNS};
use crate::markdown::{breakdown_columns, MODALITY_COLUMNS, WORST_LISTS};
use crate::output::{f64_at, i64_at, text};
use polars::prelude::*;
use std::fmt::Write;

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#1b1b1b}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.85em;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.pass{background:#e3f4e3}td.fail{background:#fbe0e0}td.nodata{color:#777}
.cards{display:flex;flex-wrap:wrap;gap:.75em}.card{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;min-width:8em}
.card b{display:block;font-size:1.4em}.note{background:#fff8e0;border-left:4px solid #e0b000;padding:.5em 1em}
.muted{color:#666;font-size:.85em}svg{display:block;margin:1em 0;max-width:100%;height:auto}
";

fn is_num(av: &AnyValue) -> bool {
    matches!(
        av,
        AnyValue::Int8(_)
            | AnyValue::Int16(_)
            | AnyValue::Int32(_)
            | AnyValue::Int64(_)
            | AnyValue::UInt8(_)
            | AnyValue::UInt16(_)
            | AnyValue::UInt32(_)
            | AnyValue::UInt64(_)
            | AnyValue::Float32(_)
            | AnyValue::Float64(_)
    )
}

/// An HTML table of `columns` (column, header) of `df`, at most `max` rows.
pub fn html_table(df: &DataFrame, columns: &[(&str, &str)], max: usize) -> String {
    html_table_of(df, df.height(), columns, max)
}

/// [`html_table`] of the first rows `df` of a table of `rows` rows.
pub fn html_table_of(df: &DataFrame, rows: usize, columns: &[(&str, &str)], max: usize) -> String {
    let cols: Vec<&(&str, &str)> = columns
        .iter()
        .filter(|(c, _)| df.column(c).is_ok())
        .collect();
    if df.height() == 0 {
        return "<p class=\"muted\">(none)</p>\n".to_string();
    }
    let mut o = String::from("<table>\n<thead><tr>");
    for (_, h) in &cols {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for i in 0..df.height().min(max) {
        o.push_str("<tr>");
        for (c, _) in &cols {
            let av = df
                .column(c)
                .and_then(|x| x.get(i))
                .unwrap_or(AnyValue::Null);
            let t = text(df, c, i);
            let class = if c.ends_with("status") {
                match t.as_str() {
                    "pass" => " class=\"pass\"",
                    "fail" => " class=\"fail\"",
                    _ => " class=\"nodata\"",
                }
            } else if is_num(&av) {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(o, "<td{class}>{}</td>", esc(&t));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
    let shown = df.height().min(max);
    if rows > shown {
        let _ = writeln!(
            o,
            "<p class=\"muted\">{} more rows in the CSV and Parquet files.</p>",
            rows - shown
        );
    }
    o
}

/// One bar: label, rate (fraction, None = no data), and the number of audio streams behind it.
pub struct Bar {
    pub label: String,
    pub rate: Option<f64>,
    pub n: i64,
}

fn bars_from(df: &DataFrame, label: &[&str], rate: &str, n: &str, max: usize) -> Vec<Bar> {
    (0..df.height().min(max))
        .map(|i| Bar {
            label: label
                .iter()
                .map(|c| text(df, c, i))
                .collect::<Vec<_>>()
                .join(" · "),
            rate: f64_at(df, rate, i),
            n: i64_at(df, n, i),
        })
        .collect()
}

fn scale_max(bars: &[Bar], target: Option<f64>) -> f64 {
    let m = bars
        .iter()
        .filter_map(|b| b.rate)
        .chain(target)
        .fold(0.0f64, f64::max);
    if m <= 0.0 {
        0.05
    } else {
        (m * 1.15).clamp(0.01, 1.0)
    }
}

fn bar_color(rate: f64, target: Option<f64>) -> &'static str {
    match target {
        Some(t) if rate > t + 1e-12 => "#d9534f",
        _ => "#4a90d9",
    }
}

/// The opening of a chart: the `<svg>` tag, its title, and the title shown at `title_x`.
fn svg_open(title: &str, width: f64, height: f64, title_x: f64) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\" font-size=\"11\" font-family=\"sans-serif\">"
    );
    let _ = writeln!(o, "<title>{}</title>", esc(title));
    let _ = writeln!(
        o,
        "<text x=\"{title_x}\" y=\"14\" font-weight=\"bold\">{}</text>",
        esc(title)
    );
    o
}

/// Vertical bars (one per day), with the target as a dashed line.
pub fn column_chart(title: &str, bars: &[Bar], target: Option<f64>) -> String {
    let (left, top, plot_h, bottom) = (48.0, 24.0, 160.0, 56.0);
    let bw = if bars.len() > 40 { 12.0 } else { 24.0 };
    let gap = bw / 3.0;
    let width = (left + 16.0 + bars.len() as f64 * (bw + gap)).max(360.0);
    let height = top + plot_h + bottom;
    let max = scale_max(bars, target);
    let y = |v: f64| top + plot_h - v / max * plot_h;
    let mut o = svg_open(title, width, height, left);
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let yy = y(v);
        let _ = writeln!(
            o,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e5e5e5\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.1} %</text>",
            width - 8.0,
            left - 4.0,
            yy + 4.0,
            v * 100.0
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let x = left + 8.0 + i as f64 * (bw + gap);
        if let Some(r) = b.rate {
            let _ = writeln!(
                o,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {} poor of classified, {} audio streams</title></rect>",
                y(r),
                (top + plot_h - y(r)).max(0.0),
                bar_color(r, target),
                esc(&b.label),
                fmt_pct(Some(r)),
                b.n
            );
        }
        let lx = x + bw / 2.0;
        let ly = top + plot_h + 8.0;
        let _ = writeln!(
            o,
            "<text x=\"{lx:.1}\" y=\"{ly:.1}\" transform=\"rotate(60 {lx:.1} {ly:.1})\">{}</text>",
            esc(&short(&b.label, 12))
        );
    }
    if let Some(t) = target {
        let _ = writeln!(
            o,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\" stroke-dasharray=\"4 3\"><title>target {}</title></line>",
            width - 8.0,
            y(t),
            y(t),
            fmt_pct(Some(t))
        );
    }
    o.push_str("</svg>\n");
    o
}

/// Horizontal bars (one per category), with the target as a dashed line.
pub fn bar_chart(title: &str, bars: &[Bar], target: Option<f64>) -> String {
    let (label_w, bar_w, row_h, top) = (260.0, 420.0, 20.0, 26.0);
    let width = label_w + bar_w + 140.0;
    let height = top + bars.len().max(1) as f64 * row_h + 10.0;
    let max = scale_max(bars, target);
    let x = |v: f64| label_w + v / max * bar_w;
    let mut o = svg_open(title, width, height, 0.0);
    if bars.is_empty() {
        let _ = writeln!(o, "<text x=\"0\" y=\"{:.0}\">no data</text>", top + 12.0);
    }
    for (i, b) in bars.iter().enumerate() {
        let yy = top + i as f64 * row_h;
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            label_w - 6.0,
            yy + 13.0,
            esc(&short(&b.label, 40))
        );
        let value = match b.rate {
            Some(r) => {
                let _ = writeln!(
                    o,
                    "<rect x=\"{label_w}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {} poor of classified, {} audio streams</title></rect>",
                    yy + 3.0,
                    (x(r) - label_w).max(0.0),
                    row_h - 6.0,
                    bar_color(r, target),
                    esc(&b.label),
                    fmt_pct(Some(r)),
                    b.n
                );
                format!("{} (n={})", fmt_pct(Some(r)), b.n)
            }
            None => "no classified streams".to_string(),
        };
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            b.rate.map_or(label_w, x) + 4.0,
            yy + 13.0,
            esc(&value)
        );
    }
    if let Some(t) = target {
        let _ = writeln!(
            o,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#333\" stroke-dasharray=\"4 3\"><title>target {}</title></line>",
            x(t),
            x(t),
            height - 6.0,
            fmt_pct(Some(t))
        );
    }
    o.push_str("</svg>\n");
    o
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn card(o: &mut String, label: &str, value: &str) {
    let _ = write!(
        o,
        "<div class=\"card\"><b>{}</b>{}</div>",
        esc(value),
        esc(label)
    );
}

pub fn render(report: &Report, dataset: &str, generated_at: &str, files: &[String]) -> String {
    let t = |n: &str| report.table(n).cloned().unwrap_or_default();
    let target = Some(crate::targets::target("All", "Overall").poor_stream_rate);
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        o,
        "<title>callrec call-quality report: {}</title>",
        esc(dataset)
    );
    let _ = writeln!(o, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(o, "<h1>Call-quality report</h1>");
    let _ = writeln!(
        o,
        "<p>Dataset <code>{}</code> · generated {} · quality profile: <b>{}</b></p>",
        esc(dataset),
        esc(generated_at),
        esc(&report.profile)
    );
    for n in &report.notes {
        let _ = writeln!(o, "<p class=\"note\">{}</p>", esc(n));
    }

    let ov = t("overview");
    if ov.height() > 0 {
        o.push_str("<div class=\"cards\">");
        for (c, l) in [
            ("calls", "calls"),
            ("minutes", "minutes"),
            ("participants", "participants"),
            ("sessions", "sessions"),
            ("streams", "streams"),
            ("audio_streams", "audio streams"),
            ("video_streams", "video streams"),
            ("vbss_streams", "VBSS streams"),
        ] {
            card(&mut o, l, &text(&ov, c, 0));
        }
        let audio_calls = i64_at(&ov, "audio_calls", 0);
        let poor_calls = i64_at(&ov, "poor_calls", 0);
        card(
            &mut o,
            &format!("poor calls ({poor_calls} of {audio_calls} with audio)"),
            &fmt_pct(frac(poor_calls, audio_calls)),
        );
        o.push_str("</div>\n");
        let days = if i64_at(&ov, "days", 0) > 0 {
            format!(
                "UTC days {} to {} ({} days).",
                text(&ov, "first_day", 0),
                text(&ov, "last_day", 0),
                text(&ov, "days", 0)
            )
        } else {
            "No calls.".to_string()
        };
        let _ = writeln!(
            o,
            "<p class=\"muted\">{} A call is poor when any of its audio streams is poor.</p>",
            esc(&days)
        );
    }

    o.push_str("<h2>Poor stream rate by modality</h2>\n");
    o.push_str(&html_table(&t("modalities"), MODALITY_COLUMNS, 20));

    o.push_str("<h2>Targets</h2>\n<p>Microsoft's suggested targets (Teams QoE review guide, Table 2). The audio poor stream rate compared is poor ÷ classified audio streams. Setup and drop failure rates are <b>approximations</b> from Graph failureInfo on segments, not CQD's stream-level CDR measures.</p>\n");
    o.push_str(&html_table(
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
            ("basis", "basis"),
        ],
        100,
    ));

    o.push_str("<h2>Charts</h2>\n");
    let day = t("by_day");
    o.push_str(&column_chart(
        "Audio poor stream rate per UTC day (poor ÷ classified)",
        &bars_from(
            &day,
            &["day"],
            "audio_poor_of_classified",
            "audio_streams",
            400,
        ),
        target,
    ));
    o.push_str(&bar_chart(
        "Audio poor stream rate per connection type (user)",
        &bars_from(
            &t("by_connection_type"),
            &["connection_type"],
            "audio_poor_of_classified",
            "audio_streams",
            20,
        ),
        target,
    ));
    o.push_str(&bar_chart(
        "Audio poor stream rate per platform (user)",
        &bars_from(
            &t("by_platform"),
            &["platform"],
            "audio_poor_of_classified",
            "audio_streams",
            20,
        ),
        target,
    ));
    o.push_str(&bar_chart(
        &format!(
            "Worst subnets (at least {} audio streams)",
            report.settings.min_streams
        ),
        &bars_from(
            &t("worst_subnets"),
            &["subnet", "building"],
            "audio_poor_of_classified",
            "audio_streams",
            report.settings.top,
        ),
        target,
    ));

    o.push_str("<h2>Reliability (approximations)</h2>\n");
    o.push_str(&html_table(
        &t("reliability"),
        &[
            ("source", "from"),
            ("units", "units"),
            ("setup_failures", "setup failures"),
            ("setup_failure_rate_approx", "setup failure rate ≈"),
            ("setup_target", "target"),
            ("setup_status", "status"),
            ("setup_succeeded", "set up"),
            ("drops", "drops"),
            ("drop_failure_rate_approx", "drop rate ≈"),
            ("drop_target", "target"),
            ("drop_status", "status"),
        ],
        10,
    ));
    o.push_str("<h3>Failures by stage and reason</h3>\n");
    o.push_str(&html_table(
        &t("failures"),
        &[
            ("source", "from"),
            ("stage", "stage"),
            ("reason", "reason"),
            ("count", "count"),
        ],
        100,
    ));

    o.push_str("<h2>Feedback</h2>\n");
    o.push_str(&html_table(
        &t("feedback"),
        &[
            ("ratings", "ratings"),
            ("poor", "poor or bad"),
            ("poor_share", "poor share"),
            ("not_rated", "not rated"),
        ],
        1,
    ));
    o.push_str(&html_table(
        &t("feedback_ratings"),
        &[("rating", "rating"), ("count", "count")],
        20,
    ));
    o.push_str(&html_table(
        &t("feedback_tokens"),
        &[("token", "token"), ("count", "count")],
        20,
    ));

    o.push_str("<h2>Poor streams by reason</h2>\n");
    o.push_str(&html_table(
        &t("poor_reasons"),
        &[
            ("modality", "modality"),
            ("reason", "reason"),
            ("poor_streams", "poor streams"),
        ],
        50,
    ));

    o.push_str("<h2>By UTC day</h2>\n");
    let mut day_cols = breakdown_columns(&["day"]);
    day_cols.insert(2, ("minutes", "minutes"));
    day_cols.extend([
        ("setup_failure_rate_approx", "setup failure ≈"),
        ("setup_status", "status"),
        ("drop_failure_rate_approx", "drop ≈"),
        ("drop_status", "status"),
        ("feedback_ratings", "ratings"),
        ("feedback_poor_share", "poor feedback"),
    ]);
    o.push_str(&html_table(&day, &day_cols, 400));
    o.push_str("<h2>By call type</h2>\n");
    let mut ct_cols = breakdown_columns(&["call_type"]);
    ct_cols.insert(2, ("minutes", "minutes"));
    ct_cols.extend([
        ("setup_failure_rate_approx", "setup failure ≈"),
        ("setup_status", "status"),
        ("drop_failure_rate_approx", "drop ≈"),
        ("drop_status", "status"),
        ("feedback_poor_share", "poor feedback"),
        ("target_line", "target line"),
    ]);
    o.push_str(&html_table(&t("by_call_type"), &ct_cols, 50));

    for b in BREAKDOWNS {
        let _ = writeln!(o, "<h2>{}</h2>", esc(b.title));
        let mut cols = breakdown_columns(b.dims);
        cols.push(("target_line", "target line"));
        o.push_str(&html_table(&t(b.name), &cols, 50));
    }

    let min = report.settings.min_streams;
    for &(name, title, keys) in WORST_LISTS {
        let _ = writeln!(
            o,
            "<h2>{} <span class=\"muted\">(at least {min} audio streams)</span></h2>",
            esc(title)
        );
        o.push_str(&html_table(&t(name), &breakdown_columns(keys), 100));
    }
    let _ = writeln!(
        o,
        "<h2>Missing subnets <span class=\"muted\">(not in the building file, at least {min} audio streams)</span></h2>"
    );
    o.push_str(&html_table(
        &t("missing_subnets"),
        &[
            ("subnet", "subnet"),
            ("audio_streams", "audio streams"),
            ("calls", "calls"),
            ("audio_poor", "poor"),
            ("audio_good", "good"),
            ("audio_poor_of_classified", "poor ÷ classified"),
        ],
        200,
    ));
    o.push_str("<h2>Attendance</h2>\n<p class=\"muted\">Per call and participant, from sessions: first join, last leave, and minutes present (overlapping sessions counted once).</p>\n");
    let attendance_rows = report
        .tables
        .iter()
        .find(|t| t.name == "attendance")
        .map_or(0, |t| t.rows);
    o.push_str(&html_table_of(
        &t("attendance"),
        attendance_rows,
        &[
            ("call_id", "call"),
            ("day", "day"),
            ("participant_id", "participant"),
            ("display_name", "name"),
            ("first_join", "first join"),
            ("last_leave", "last leave"),
            ("sessions", "sessions"),
            ("minutes", "minutes"),
        ],
        200,
    ));

    o.push_str("<h2>Files</h2>\n<ul>\n");
    for f in files {
        let _ = writeln!(o, "<li><code>{}</code></li>", esc(f));
    }
    o.push_str("</ul>\n</body>\n</html>\n");
    o
}
