//! `callrec schema`: the declared schema as Markdown (the README's schema section is this text).

use super::{Table, SCHEMA_VERSION};
use std::fmt::Write;

pub fn schema_markdown() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Schema version {SCHEMA_VERSION}. Every table is partitioned by the call's UTC start date"
    );
    let _ = writeln!(out, "(`<table>/date=YYYY-MM-DD/part-*.parquet`); `date` comes from the folder name, not the file.");
    let _ = writeln!(out, "Types are Parquet/Arrow logical types; every column is nullable. `ms` columns are ISO 8601");
    let _ = writeln!(
        out,
        "durations converted to float milliseconds; timestamps are UTC with microsecond precision."
    );
    let _ = writeln!(
        out,
        "`pii` marks the columns that identify a person: `--pii hash` writes their keyed hash, `--pii drop` null."
    );
    for t in Table::ALL {
        let cols = t.columns();
        let _ = writeln!(
            out,
            "\n### `{}` ({} columns)\n\n{}.\n",
            t.name(),
            cols.len(),
            capitalize(t.grain())
        );
        let _ = writeln!(out, "| column | type | unit | pii | source |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for c in cols {
            let source = if c.path.is_empty()
                || c.source.starts_with("key:")
                || c.source.starts_with("derived:")
            {
                c.source.clone()
            } else {
                format!("{} → {}", c.path, c.source)
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                c.name,
                c.ty.doc_name(),
                c.unit,
                c.pii.map_or("", |k| k.label()),
                source.replace('|', "\\|")
            );
        }
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
