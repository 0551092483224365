//! Sink: rows → Hive-partitioned Parquet part files in a staging folder.
//!
//! Each worker owns a [`PartitionedWriter`]: per (table, date) an Arrow batch builder feeding a
//! Parquet `ArrowWriter`, so workers never share a lock. Row groups are cut by encoded size, and
//! only a few dates are kept open per worker (exports are mostly date-ordered), which bounds
//! memory whatever the archive size. Part files land in a staging folder and are published by
//! renaming (see [`publish`]), so readers never see half a run. Everything arrow-rs stays here.

pub mod batch;
pub mod publish;

use crate::flatten::RowSink;
use crate::schema::{ColType, Table, SCHEMA_VERSION};
use batch::BatchBuilder;
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::EnabledStatistics;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

const TABLES: usize = Table::ALL.len();

/// Parquet compression codec (`--compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Codec {
    /// zstd level 1: the smallest files for little CPU; read by every Parquet reader.
    #[default]
    Zstd,
    /// Snappy: faster to write, files about a third larger.
    Snappy,
    /// LZ4 (raw): fastest to write and read, files about a third larger.
    Lz4,
    /// No compression.
    None,
}

impl Codec {
    fn parquet(self) -> Compression {
        match self {
            Codec::Zstd => Compression::ZSTD(ZstdLevel::try_new(1).expect("valid zstd level")),
            Codec::Snappy => Compression::SNAPPY,
            Codec::Lz4 => Compression::LZ4_RAW,
            Codec::None => Compression::UNCOMPRESSED,
        }
    }
}

/// Settings shared by all writers of a run.
pub struct SinkConfig {
    pub staging: PathBuf,
    pub batch_rows: usize,
    /// Cut a row group when its encoded size in memory passes this.
    pub row_group_bytes: usize,
    /// Dates a worker keeps open before closing the least recently used one.
    pub max_open_dates: usize,
    /// Writer properties per table (indexed by [`Table::index`]).
    pub props: Vec<WriterProperties>,
    /// What personal columns get (`--pii`).
    pub pii: crate::pii::PiiPolicy,
    next_part: AtomicU32,
}

impl SinkConfig {
    pub fn new(staging: PathBuf, codec: Codec) -> Self {
        let props = Table::ALL
            .iter()
            .map(|t| table_properties(*t, codec))
            .collect();
        SinkConfig {
            staging,
            batch_rows: 4096,
            row_group_bytes: 16 << 20,
            max_open_dates: 3,
            props,
            pii: Default::default(),
            next_part: AtomicU32::new(0),
        }
    }

    /// Hashes or drops personal columns as rows are appended.
    pub fn with_pii(mut self, pii: crate::pii::PiiPolicy) -> Self {
        self.pii = pii;
        self
    }

    /// Numbers part files from `first` on: an incremental run continues after the previous
    /// snapshot's numbers, so a part file name is never reused with other content.
    pub fn with_first_part(self, first: u32) -> Self {
        self.next_part.store(first, Ordering::Relaxed);
        self
    }

    /// The first part number not used yet.
    pub fn next_part_id(&self) -> u32 {
        self.next_part.load(Ordering::Relaxed)
    }

    /// A new part file path in `table`'s `date` partition (for files written outside a writer).
    pub fn new_part_path(&self, table: Table, date: Option<NaiveDate>) -> (u32, PathBuf) {
        let id = self.next_part.fetch_add(1, Ordering::Relaxed);
        (id, self.part_path(table, date, id))
    }

    fn part_path(&self, table: Table, date: Option<NaiveDate>, id: u32) -> PathBuf {
        self.staging
            .join(table.name())
            .join(partition_dir(date))
            .join(format!("part-{id:06}.parquet"))
    }
}

/// The codec; chunk-level statistics; dictionary encoding only where values repeat (strings and
/// lists of strings). Metrics are nearly unique floats: trying a dictionary for them cost a third
/// of the encoding time and then fell back to plain anyway.
fn table_properties(table: Table, codec: Codec) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(codec.parquet())
        .set_max_row_group_row_count(Some(1 << 20))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_created_by(format!("callrec {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "callrec.schema_version".to_owned(),
            SCHEMA_VERSION.to_string(),
        )]));
    for c in table.columns() {
        if !matches!(c.ty, ColType::Utf8 | ColType::ListUtf8) {
            b = b.set_column_dictionary_enabled(ColumnPath::from(c.name.as_str()), false);
        }
    }
    b.build()
}

/// `date=YYYY-MM-DD`, or Hive's null partition for a record without any date.
pub fn partition_dir(date: Option<NaiveDate>) -> String {
    match date {
        Some(d) => format!("date={}", d.format("%Y-%m-%d")),
        None => "date=__HIVE_DEFAULT_PARTITION__".to_owned(),
    }
}

/// A finished part file.
#[derive(Debug, Clone)]
pub struct PartFile {
    pub id: u32,
    pub table: Table,
    pub date: Option<NaiveDate>,
    pub path: PathBuf,
    pub rows: u64,
}

/// Where one record's rows went: per table, the part and the row range in it.
pub type RecordSpans = [Option<RowSpan>; TABLES];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSpan {
    pub part: u32,
    pub start: u64,
    pub len: u64,
}

struct OpenPart {
    id: u32,
    path: PathBuf,
    writer: ArrowWriter<BufWriter<std::fs::File>>,
    batch: BatchBuilder,
    /// Rows handed to this part so far (written or buffered).
    rows: u64,
}

struct OpenDate {
    date: Option<NaiveDate>,
    parts: [Option<OpenPart>; TABLES],
    last_used: u64,
}

/// One worker's writer: rows in, part files out.
pub struct PartitionedWriter<'c> {
    cfg: &'c SinkConfig,
    open: Vec<OpenDate>,
    current: usize,
    tick: u64,
    closed: Vec<PartFile>,
    error: Option<anyhow::Error>,
}

impl<'c> PartitionedWriter<'c> {
    pub fn new(cfg: &'c SinkConfig) -> Self {
        PartitionedWriter {
            cfg,
            open: Vec::new(),
            current: usize::MAX,
            tick: 0,
            closed: Vec::new(),
            error: None,
        }
    }

    /// Directs the following rows to `date`'s partition.
    pub fn begin_record(&mut self, date: Option<NaiveDate>) {
        self.tick += 1;
        let idx = match self.open.iter().position(|o| o.date == date) {
            Some(i) => i,
            None => {
                if self.open.len() >= self.cfg.max_open_dates {
                    let lru = (0..self.open.len())
                        .min_by_key(|&i| self.open[i].last_used)
                        .expect("non-empty");
                    let old = self.open.swap_remove(lru);
                    self.close_date(old);
                }
                self.open.push(OpenDate {
                    date,
                    parts: Default::default(),
                    last_used: 0,
                });
                self.open.len() - 1
            }
        };
        self.open[idx].last_used = self.tick;
        self.current = idx;
    }

    /// Per table, the part and row count so far in the current date (for [`RecordSpans`]).
    pub fn position(&self) -> [Option<(u32, u64)>; TABLES] {
        let mut out = [None; TABLES];
        if let Some(d) = self.open.get(self.current) {
            for (o, p) in out.iter_mut().zip(&d.parts) {
                *o = p.as_ref().map(|p| (p.id, p.rows));
            }
        }
        out
    }

    /// The spans written since `before` (a [`Self::position`] taken at the record's start).
    pub fn spans_since(&self, before: [Option<(u32, u64)>; TABLES]) -> RecordSpans {
        let after = self.position();
        let mut spans = [None; TABLES];
        for t in 0..TABLES {
            if let Some((part, end)) = after[t] {
                let start = match before[t] {
                    Some((p, s)) if p == part => s,
                    _ => 0,
                };
                if end > start {
                    spans[t] = Some(RowSpan {
                        part,
                        start,
                        len: end - start,
                    });
                }
            }
        }
        spans
    }

    /// The first write error, if any (the run stops at the next record boundary).
    pub fn take_error(&mut self) -> Option<anyhow::Error> {
        self.error.take()
    }

    fn part(&mut self, table: Table) -> Option<&mut OpenPart> {
        let date = self.open[self.current].date;
        if self.open[self.current].parts[table.index()].is_none() {
            let (id, path) = self.cfg.new_part_path(table, date);
            match open_writer(&path, table, &self.cfg.props[table.index()]) {
                Ok(writer) => {
                    self.open[self.current].parts[table.index()] = Some(OpenPart {
                        id,
                        path,
                        writer,
                        batch: BatchBuilder::new(table, self.cfg.batch_rows)
                            .with_pii(&self.cfg.pii),
                        rows: 0,
                    })
                }
                Err(e) => {
                    self.error.get_or_insert(e);
                    return None;
                }
            }
        }
        self.open[self.current].parts[table.index()].as_mut()
    }

    fn close_date(&mut self, d: OpenDate) {
        for p in d.parts.into_iter().flatten() {
            match finish_part(p, d.date, self.cfg) {
                Ok(pf) => self.closed.push(pf),
                Err(e) => {
                    self.error.get_or_insert(e);
                }
            }
        }
    }

    /// Flushes and closes every part; returns all part files this writer produced.
    pub fn finish(mut self) -> anyhow::Result<Vec<PartFile>> {
        for d in std::mem::take(&mut self.open) {
            self.close_date(d);
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.closed),
        }
    }
}

/// Writes a 0-row part for a table that got no rows, so readers still find the table and its
/// schema (a glob over a missing folder fails in DuckDB and polars). It goes to Hive's null
/// partition because no date applies.
pub fn write_empty_part(cfg: &SinkConfig, table: Table) -> anyhow::Result<PartFile> {
    let (id, path) = cfg.new_part_path(table, None);
    let w = open_writer(&path, table, &cfg.props[table.index()])?;
    close_writer(w, &path)?;
    Ok(PartFile {
        id,
        table,
        date: None,
        path,
        rows: 0,
    })
}

fn open_writer(
    path: &Path,
    table: Table,
    props: &WriterProperties,
) -> anyhow::Result<ArrowWriter<BufWriter<std::fs::File>>> {
    use anyhow::Context;
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let file = fs_err::File::create(path)?.into_parts().0;
    ArrowWriter::try_new(
        BufWriter::with_capacity(1 << 20, file),
        table.arrow_schema(),
        Some(props.clone()),
    )
    .with_context(|| format!("cannot start Parquet file {}", path.display()))
}

fn flush_batch(p: &mut OpenPart, cfg: &SinkConfig) -> anyhow::Result<()> {
    use anyhow::Context;
    if p.batch.rows() == 0 {
        return Ok(());
    }
    let batch = p.batch.finish();
    p.writer
        .write(&batch)
        .with_context(|| format!("cannot write {}", p.path.display()))?;
    if p.writer.in_progress_size() > cfg.row_group_bytes {
        p.writer
            .flush()
            .with_context(|| format!("cannot write {}", p.path.display()))?;
    }
    Ok(())
}

fn finish_part(
    mut p: OpenPart,
    date: Option<NaiveDate>,
    cfg: &SinkConfig,
) -> anyhow::Result<PartFile> {
    flush_batch(&mut p, cfg)?;
    close_writer(p.writer, &p.path)?;
    Ok(PartFile {
        id: p.id,
        table: p.batch.table(),
        date,
        path: p.path,
        rows: p.rows,
    })
}

/// Writes the footer, flushes and fsyncs: a published snapshot must survive a power cut.
fn close_writer(w: ArrowWriter<BufWriter<std::fs::File>>, path: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let mut inner = w
        .into_inner()
        .with_context(|| format!("cannot finish {}", path.display()))?;
    inner
        .flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    inner
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

impl RowSink for PartitionedWriter<'_> {
    type W = BatchBuilder;
    fn row(&mut self, table: Table, emit: impl FnOnce(&mut BatchBuilder)) {
        let cfg = self.cfg;
        let Some(p) = self.part(table) else { return };
        p.batch.append(emit);
        p.rows += 1;
        if p.batch.rows() >= cfg.batch_rows {
            if let Err(e) = flush_batch(p, cfg) {
                self.error.get_or_insert(e);
            }
        }
    }
}
