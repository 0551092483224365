//! Helpers: run a flatten job in a temp folder and read a table back into plain values.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, RecordBatch};
use callrec::manifest::Manifest;
use callrec::run::{flatten, FlattenConfig};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `callrec` binary under test.
pub fn callrec() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("callrec").unwrap()
}

/// What a finished `callrec` command wrote to stderr.
pub fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

pub fn fixture(p: &str) -> PathBuf {
    root().join("tests/fixtures").join(p)
}

pub struct Run {
    pub dir: tempfile::TempDir,
    pub manifest: Manifest,
}

impl Run {
    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }
    pub fn table(&self, name: &str) -> Table {
        read_table(&self.out().join(name))
    }
    pub fn errors(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.out().join("_errors.ndjson"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

pub fn run_with(inputs: &[PathBuf], threads: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = FlattenConfig::new(inputs.to_vec(), dir.path().join("out"));
    cfg.threads = threads;
    let manifest = flatten(&cfg).expect("flatten runs");
    let r = &manifest.records;
    assert_eq!(
        r.read,
        r.written + r.superseded + r.rejected,
        "manifest must balance: {r:?}"
    );
    Run { dir, manifest }
}

pub fn run(inputs: &[PathBuf]) -> Run {
    run_with(inputs, 2)
}

/// A table read back from its part files, as one batch.
pub struct Table {
    pub batch: Option<RecordBatch>,
    /// `date` partition of every row (from the folder name).
    pub dates: Vec<String>,
}

pub fn read_table(dir: &Path) -> Table {
    let mut files = Vec::new();
    if dir.exists() {
        for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let e = e.unwrap();
            if e.path().extension().is_some_and(|x| x == "parquet") {
                files.push(e.into_path());
            }
        }
    }
    let mut batches = Vec::new();
    let mut dates = Vec::new();
    for f in files {
        let date = f
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("date=")
            .to_owned();
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for b in reader {
            let b = b.unwrap();
            dates.extend(std::iter::repeat_n(date.clone(), b.num_rows()));
            batches.push(b);
        }
    }
    let batch = batches
        .first()
        .map(|b| arrow_select::concat::concat_batches(&b.schema(), &batches).unwrap());
    Table { batch, dates }
}

impl Table {
    pub fn rows(&self) -> usize {
        self.batch.as_ref().map_or(0, |b| b.num_rows())
    }
    fn col(&self, name: &str) -> &dyn Array {
        let b = self.batch.as_ref().expect("table has rows");
        b.column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .as_ref()
    }
    pub fn str(&self, name: &str) -> Vec<Option<String>> {
        let a = self.col(name).as_string::<i32>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i).to_owned()))
            .collect()
    }
    pub fn f64(&self, name: &str) -> Vec<Option<f64>> {
        let a = self.col(name).as_primitive::<Float64Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }
    pub fn i64(&self, name: &str) -> Vec<Option<i64>> {
        let a = self.col(name).as_primitive::<Int64Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }
    pub fn i32(&self, name: &str) -> Vec<Option<i32>> {
        let a = self.col(name).as_primitive::<Int32Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }
    pub fn bool(&self, name: &str) -> Vec<Option<bool>> {
        let a = self.col(name).as_boolean();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }
    pub fn ts(&self, name: &str) -> Vec<Option<i64>> {
        let a = self.col(name).as_primitive::<TimestampMicrosecondType>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }
    pub fn list(&self, name: &str) -> Vec<Option<Vec<String>>> {
        let a = self.col(name).as_list::<i32>();
        (0..a.len())
            .map(|i| {
                a.is_valid(i).then(|| {
                    let v = a.value(i);
                    let s = v.as_string::<i32>();
                    (0..s.len()).map(|j| s.value(j).to_owned()).collect()
                })
            })
            .collect()
    }

    /// Index of the single row where `column` equals `value` (string columns).
    pub fn find(&self, column: &str, value: &str) -> usize {
        let hits: Vec<usize> = self
            .str(column)
            .iter()
            .enumerate()
            .filter(|(_, v)| v.as_deref() == Some(value))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "expected one row with {column} = {value}, got {hits:?}"
        );
        hits[0]
    }

    /// Every row rendered as text, sorted: equal for equal row sets whatever the file layout.
    pub fn canonical_rows(&self) -> Vec<String> {
        let Some(b) = &self.batch else {
            return Vec::new();
        };
        let mut rows: Vec<String> = (0..b.num_rows())
            .map(|i| {
                let mut s = self.dates[i].clone();
                for c in b.columns() {
                    s.push('|');
                    s.push_str(&cell(c.as_ref(), i));
                }
                s
            })
            .collect();
        rows.sort();
        rows
    }
}

fn cell(a: &dyn Array, i: usize) -> String {
    use arrow_schema::DataType::*;
    if a.is_null(i) {
        return "∅".into();
    }
    match a.data_type() {
        Utf8 => a.as_string::<i32>().value(i).to_owned(),
        Int32 => a.as_primitive::<Int32Type>().value(i).to_string(),
        Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
        Float64 => format!("{:?}", a.as_primitive::<Float64Type>().value(i)),
        Boolean => a.as_boolean().value(i).to_string(),
        Timestamp(_, _) => a
            .as_primitive::<TimestampMicrosecondType>()
            .value(i)
            .to_string(),
        List(_) => {
            let v = a.as_list::<i32>().value(i);
            (0..v.len())
                .map(|j| cell(v.as_ref(), j))
                .collect::<Vec<_>>()
                .join(",")
        }
        t => panic!("unexpected type {t:?}"),
    }
}

/// Microseconds since the epoch of an RFC 3339 timestamp.
pub fn us(ts: &str) -> i64 {
    callrec::decode::scalar::parse_timestamp_us(ts).unwrap()
}
