//! Writing the tables (CSV, Parquet) and turning cells into text and JSON.

use anyhow::{Context, Result};
use polars::prelude::*;
use std::path::Path;

/// Whether a CSV cell would be read as a formula by a spreadsheet (OWASP "CSV injection"):
/// it starts with `=`, `+`, `-`, `@`, a tab or a carriage return.
pub fn needs_guard(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// `s` with a leading `'` when a spreadsheet would read it as a formula.
pub fn guard(s: &str) -> std::borrow::Cow<'_, str> {
    if needs_guard(s) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// A copy of `df` with every string cell guarded against formula injection, for CSV only
/// (the Parquet files keep the values as they are).
pub fn csv_guarded(df: &DataFrame) -> Result<DataFrame> {
    let mut cols = Vec::with_capacity(df.width());
    for c in df.columns() {
        if c.dtype() == &DataType::String {
            let ca = c.str()?;
            let out: StringChunked = ca.iter().map(|v| v.map(guard)).collect();
            cols.push(out.with_name(c.name().clone()).into_column());
        } else {
            cols.push(c.clone());
        }
    }
    Ok(DataFrame::new(df.height(), cols)?)
}

/// A table written as `<name>.csv` (cells guarded by [`csv_guarded`]) and `<name>.parquet`, a
/// batch at a time, so a table too big to hold whole can be written as it is computed. The
/// files are created with the first batch.
pub struct TableFiles {
    dir: std::path::PathBuf,
    name: &'static str,
    writers: Option<(
        polars::io::csv::write::BatchedWriter<std::fs::File>,
        polars::io::parquet::write::BatchedWriter<std::fs::File>,
    )>,
}

impl TableFiles {
    pub fn new(dir: &Path, name: &'static str) -> TableFiles {
        TableFiles {
            dir: dir.to_path_buf(),
            name,
            writers: None,
        }
    }

    fn path(&self, ext: &str) -> std::path::PathBuf {
        self.dir.join(format!("{}.{ext}", self.name))
    }

    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        if self.writers.is_none() {
            let create = |p: &Path| {
                std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))
            };
            let csv = CsvWriter::new(create(&self.path("csv"))?)
                .include_header(true)
                .batched(df.schema())?;
            let parquet =
                ParquetWriter::new(create(&self.path("parquet"))?).batched(df.schema())?;
            self.writers = Some((csv, parquet));
        }
        let (csv_path, parquet_path) = (self.path("csv"), self.path("parquet"));
        let (csv, parquet) = self.writers.as_mut().expect("created above");
        let mut g = csv_guarded(df)?;
        g.align_chunks();
        csv.write_batch(&g)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot write {}", csv_path.display()))?;
        let mut d = df.clone();
        d.align_chunks();
        parquet
            .write_batch(&d)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot write {}", parquet_path.display()))?;
        Ok(())
    }

    /// Completes both files (a table that got no batch has no files: the caller writes at
    /// least one, possibly empty, batch).
    pub fn finish(self) -> Result<()> {
        let csv_path = self.path("csv");
        let parquet_path = self.path("parquet");
        if let Some((mut csv, parquet)) = self.writers {
            csv.finish()
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot write {}", csv_path.display()))?;
            parquet
                .finish()
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot write {}", parquet_path.display()))?;
        }
        Ok(())
    }
}

fn datetime_text(v: i64, tu: TimeUnit) -> String {
    let micros = match tu {
        TimeUnit::Nanoseconds => v / 1000,
        TimeUnit::Microseconds => v,
        TimeUnit::Milliseconds => v.saturating_mul(1000),
    };
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => v.to_string(),
    }
}

/// A cell as JSON: numbers stay numbers (NaN and infinities become null), timestamps are
/// ISO 8601 UTC strings.
pub fn json_value(av: &AnyValue) -> serde_json::Value {
    use serde_json::Value;
    match av {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int8(v) => (*v).into(),
        AnyValue::Int16(v) => (*v).into(),
        AnyValue::Int32(v) => (*v).into(),
        AnyValue::Int64(v) => (*v).into(),
        AnyValue::UInt8(v) => (*v).into(),
        AnyValue::UInt16(v) => (*v).into(),
        AnyValue::UInt32(v) => (*v).into(),
        AnyValue::UInt64(v) => (*v).into(),
        AnyValue::Float32(v) => serde_json::Number::from_f64(*v as f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        AnyValue::Float64(v) => serde_json::Number::from_f64(*v)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        AnyValue::Datetime(v, tu, _) => Value::String(datetime_text(*v, *tu)),
        AnyValue::DatetimeOwned(v, tu, _) => Value::String(datetime_text(*v, *tu)),
        other => Value::String(other.to_string()),
    }
}

/// Rows of `df` as JSON objects.
pub fn json_rows(df: &DataFrame) -> Result<serde_json::Value> {
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut m = serde_json::Map::new();
        for c in df.columns() {
            m.insert(c.name().to_string(), json_value(&c.get(i)?));
        }
        rows.push(serde_json::Value::Object(m));
    }
    Ok(serde_json::Value::Array(rows))
}

/// Whether a column holds a fraction shown as a percentage.
pub fn is_rate(column: &str) -> bool {
    column.ends_with("_of_classified")
        || column.ends_with("_of_all")
        || column.ends_with("_rate")
        || column.ends_with("_share")
        || column.ends_with("_target")
        || column.ends_with("_approx")
        || column == "actual"
        || column == "target"
}

/// A cell as display text for summary.md and report.html (not escaped): rates as
/// percentages, minutes with one decimal, timestamps as UTC, null as empty.
pub fn cell_text(column: &str, av: &AnyValue) -> String {
    let f = match av {
        AnyValue::Float64(v) => Some(*v),
        AnyValue::Float32(v) => Some(*v as f64),
        _ => None,
    };
    if let Some(v) = f {
        if is_rate(column) {
            return crate::compute::fmt_pct(Some(v));
        }
        if !v.is_finite() {
            return String::new();
        }
        return format!("{v:.1}");
    }
    match av {
        AnyValue::Null if is_rate(column) => "–".to_string(),
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Datetime(v, tu, _) | AnyValue::DatetimeOwned(v, tu, _) => datetime_text(*v, *tu)
            .replace('T', " ")
            .replace('Z', " UTC"),
        other => other.to_string(),
    }
}

/// The value of `column` in row `i` as display text ("" when the column is absent).
pub fn text(df: &DataFrame, column: &str, i: usize) -> String {
    match df.column(column).and_then(|c| c.get(i)) {
        Ok(av) => cell_text(column, &av),
        Err(_) => String::new(),
    }
}

pub fn f64_at(df: &DataFrame, column: &str, i: usize) -> Option<f64> {
    let c = df.column(column).ok()?;
    match c.get(i).ok()? {
        AnyValue::Float64(v) if v.is_finite() => Some(v),
        AnyValue::Float32(v) if v.is_finite() => Some(v as f64),
        AnyValue::Int64(v) => Some(v as f64),
        AnyValue::Int32(v) => Some(v as f64),
        AnyValue::UInt32(v) => Some(v as f64),
        _ => None,
    }
}

pub fn i64_at(df: &DataFrame, column: &str, i: usize) -> i64 {
    f64_at(df, column, i).map_or(0, |v| v as i64)
}
