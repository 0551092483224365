//! Sink: rows → Hive-partitioned Parquet part files in a staging folder.
//!
//! Each worker owns a [`PartitionedWriter`]: per (table, date) an Arrow batch builder and a
//! Parquet file writer, so workers never share a lock. Rows wait in the builders and are
//! encoded a whole row group at a time, and a row group a column at a time: a Parquet column
//! writer (with its codec contexts and page buffers, ~200 KB) lives only while its column is
//! encoded, not for every column of every open (table, date). The files are the bytes
//! parquet-rs' `ArrowWriter` writes. A worker's waiting rows share one memory budget: a part
//! whose rows pass the row-group size is encoded, and when the budget is exceeded the largest
//! is, so memory stays bounded however many dates are open and in whatever order the archive
//! lists them.
//! Part files land in a staging folder and are published by renaming (see [`publish`]), so
//! readers never see half a run. Everything arrow-rs stays here.

pub mod batch;
pub mod encode_only;
pub mod publish;

use crate::flatten::RowSink;
use crate::schema::{ColType, Table, SCHEMA_VERSION};
use arrow_array::RecordBatch;
use arrow_schema::{FieldRef, Schema, SchemaRef};
use batch::BatchBuilder;
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::arrow_writer::{compute_leaves, ArrowRowGroupWriterFactory};
use parquet::arrow::{add_encoded_arrow_schema_to_metadata, ArrowSchemaConverter};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::EnabledStatistics;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use parquet::schema::types::TypePtr;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

pub(crate) const TABLES: usize = Table::ALL.len();

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

/// Memory for rows waiting to be encoded, all workers together.
/// Rows wait as Arrow arrays, about ten times their encoded size (a `streams` row takes 2–3 KB):
/// 128 MiB gives `streams` row groups of up to ~15,000 rows on two workers, ~30,000 on one.
/// Smaller budgets cut more row groups, and every row group creates a column writer (with two
/// zstd contexts) per column: at 96 MiB that cost 10 % more CPU on two workers.
const BUFFER_BYTES_TOTAL: usize = 128 << 20;

/// Part files open at once, all workers together (each holds a file descriptor).
const OPEN_FILES_TOTAL: usize = 384;

/// Settings shared by all writers of a run.
pub struct SinkConfig {
    pub staging: PathBuf,
    /// Encode a part's waiting rows as one row group when their Arrow size passes this.
    pub row_group_bytes: usize,
    /// A worker's waiting rows, all tables and dates: past this the largest part is encoded.
    pub worker_buffer_bytes: usize,
    /// Dates a worker keeps open before closing the least recently used one.
    pub max_open_dates: usize,
    /// Writer properties per table (indexed by [`Table::index`]).
    pub props: Vec<WriterProperties>,
    /// How each table's part files are written (indexed by [`Table::index`]).
    encoders: Vec<TableEncoder>,
    /// What personal columns get (`--pii`).
    pub pii: crate::pii::PiiPolicy,
    next_part: AtomicU32,
}

impl SinkConfig {
    pub fn new(staging: PathBuf, codec: Codec) -> Self {
        let props: Vec<WriterProperties> = Table::ALL
            .iter()
            .map(|t| table_properties(*t, codec))
            .collect();
        let encoders = Table::ALL
            .iter()
            .zip(&props)
            .map(|(t, p)| TableEncoder::new(t.arrow_schema(), p))
            .collect();
        let mut cfg = SinkConfig {
            staging,
            row_group_bytes: 0,
            worker_buffer_bytes: 0,
            max_open_dates: 0,
            props,
            encoders,
            pii: Default::default(),
            next_part: AtomicU32::new(0),
        };
        cfg.set_workers(1);
        cfg
    }

    /// Splits the memory budget and the open-file allowance between `workers` writers.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.set_workers(workers);
        self
    }

    fn set_workers(&mut self, workers: usize) {
        let workers = workers.max(1);
        self.worker_buffer_bytes = (BUFFER_BYTES_TOTAL / workers).max(32 << 20);
        self.row_group_bytes = (self.worker_buffer_bytes / 2).min(64 << 20);
        self.max_open_dates = (OPEN_FILES_TOTAL / TABLES / workers).clamp(2, 32);
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

/// The codec; chunk-level statistics for numbers, booleans and times; dictionary encoding only
/// where values repeat.
///
/// - Metrics are nearly unique floats: trying a dictionary for them cost a third of the encoding
///   time and then fell back to plain anyway.
/// - An entity's id (a call, session, segment, stream, participant or person) repeats little
///   within a row group: its dictionary held nearly every value, so hashing each one into it
///   bought nothing. Without it the files are 3 % smaller (zstd still catches a call id repeated
///   over the call's rows).
/// - Strings get no min/max statistics: comparing every value cost 5 % of a run's instructions,
///   and a row group's min/max of unsorted GUIDs, names and enum values prunes nothing.
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
        // A list's values are the leaf `<name>.list.item` (Arrow's list field name).
        let path = || match c.ty {
            ColType::ListUtf8 => {
                ColumnPath::new(vec![c.name.clone(), "list".into(), "item".into()])
            }
            _ => ColumnPath::from(c.name.as_str()),
        };
        let string = matches!(c.ty, ColType::Utf8 | ColType::ListUtf8);
        if string {
            b = b.set_column_statistics_enabled(path(), EnabledStatistics::None);
        }
        if !string || is_entity_id(&c.name) {
            b = b.set_column_dictionary_enabled(path(), false);
        }
    }
    b.build()
}

/// Whether a column holds the id of one call, session, segment, stream, participant or person
/// (not of a tenant or an application, which repeat across the whole dataset).
fn is_entity_id(name: &str) -> bool {
    name.ends_with("_id")
        && !["tenant_id", "app_id", "service_id"]
            .iter()
            .any(|s| name.ends_with(s))
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

/// Rows of one part file at most: row positions in a part are `u32` (compact row spans for
/// each call in the duplicate index); a (table, date) with more rows gets more parts.
/// The margin below `u32::MAX` is for the rows of the record being written when it is reached.
const MAX_PART_ROWS: u64 = u32::MAX as u64 - (1 << 24);

/// Rows a new part's builders have room for: small, because a worker may hold parts of dozens
/// of dates at once; builders grow as rows come.
const INITIAL_ROWS: usize = 64;

/// A date that got no record for this many records is closed (see `close_stale_dates`).
const STALE_RECORDS: u64 = 1024;

/// Bytes per row are learnt only from batches of at least this many rows.
const LEARN_MIN_ROWS: usize = 1024;

/// Where one record's rows went: per table, the part and the row range in it.
pub type RecordSpans = [Option<RowSpan>; TABLES];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSpan {
    pub part: u32,
    pub start: u32,
    pub len: u32,
}

struct OpenPart {
    id: u32,
    path: PathBuf,
    writer: PartWriter,
    batch: BatchBuilder,
    /// Rows handed to this part so far (written or waiting).
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
    /// Per table, the Arrow bytes a waiting row takes (learnt from encoded batches of at least
    /// [`LEARN_MIN_ROWS`] rows).
    row_bytes: [usize; TABLES],
    /// Estimated bytes of all waiting rows (the sum over parts of rows × `row_bytes`).
    waiting: usize,
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
            row_bytes: Table::ALL.map(initial_row_bytes),
            waiting: 0,
        }
    }

    /// Directs the following rows to `date`'s partition.
    pub fn begin_record(&mut self, date: Option<NaiveDate>) {
        self.tick += 1;
        if self.tick % 256 == 0 {
            self.close_stale_dates();
        }
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
        // A full part is closed between records, so a record's rows never straddle two parts.
        for t in 0..TABLES {
            if self.open[idx].parts[t]
                .as_ref()
                .is_some_and(|p| p.rows >= MAX_PART_ROWS)
            {
                let full = self.open[idx].parts[t].take().expect("checked");
                self.retire(full, date);
            }
        }
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
                    // A part takes at most `MAX_PART_ROWS` rows (see `open_part`).
                    spans[t] = Some(RowSpan {
                        part,
                        start: start as u32,
                        len: (end - start) as u32,
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

    fn open_part(&mut self, table: Table) -> bool {
        let d = &mut self.open[self.current];
        if d.parts[table.index()].is_some() {
            return true;
        }
        let (id, path) = self.cfg.new_part_path(table, d.date);
        match open_writer(&path, &self.cfg.encoders[table.index()]) {
            Ok(writer) => {
                d.parts[table.index()] = Some(OpenPart {
                    id,
                    path,
                    writer,
                    batch: BatchBuilder::new(table, INITIAL_ROWS).with_pii(&self.cfg.pii),
                    rows: 0,
                });
                true
            }
            Err(e) => {
                self.error.get_or_insert(e);
                false
            }
        }
    }

    /// Encodes the waiting rows of `table` in open date `date` as a row group.
    fn encode(&mut self, date: usize, table: Table) {
        let Some(p) = self.open[date].parts[table.index()].as_mut() else {
            return;
        };
        match write_row_group(p, &self.cfg.encoders[table.index()]) {
            Ok(Some((rows, bytes))) => {
                // A small batch is mostly the builders' first allocation: it would overstate
                // the size of a row, and the budget would then cut tiny row groups.
                if rows >= LEARN_MIN_ROWS {
                    self.row_bytes[table.index()] = (bytes / rows).max(1);
                }
            }
            Ok(None) => {}
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self.waiting = self.recount();
    }

    /// (open date, table, estimated bytes) of every part with waiting rows.
    fn waiting_parts(&self) -> impl Iterator<Item = (usize, Table, usize)> + '_ {
        self.open.iter().enumerate().flat_map(move |(di, d)| {
            d.parts.iter().enumerate().filter_map(move |(t, p)| {
                p.as_ref()
                    .map(|p| (di, Table::ALL[t], p.batch.rows() * self.row_bytes[t]))
            })
        })
    }

    fn recount(&self) -> usize {
        self.waiting_parts().map(|(_, _, bytes)| bytes).sum()
    }

    /// Over budget: encodes the part with the most waiting bytes.
    fn encode_largest(&mut self) {
        let largest = self
            .waiting_parts()
            .filter(|&(_, _, bytes)| bytes > 0)
            .max_by_key(|&(di, t, bytes)| (bytes, std::cmp::Reverse((di, t.index()))));
        if let Some((di, t, _)) = largest {
            self.encode(di, t);
        }
    }

    /// Closes the dates no record went to in the last [`STALE_RECORDS`] records. In a
    /// date-ordered archive those are done; their leftover rows would otherwise sit in the
    /// budget, and the current date's parts would be cut into small row groups.
    fn close_stale_dates(&mut self) {
        let mut i = 0;
        while i < self.open.len() {
            if self.open[i].last_used + STALE_RECORDS < self.tick {
                let old = self.open.swap_remove(i);
                self.close_date(old);
            } else {
                i += 1;
            }
        }
        self.current = usize::MAX;
    }

    fn close_date(&mut self, d: OpenDate) {
        for p in d.parts.into_iter().flatten() {
            self.retire(p, d.date);
        }
        self.waiting = self.recount();
    }

    /// Writes a part's last rows and footer and lists it as finished (or keeps the error).
    fn retire(&mut self, p: OpenPart, date: Option<NaiveDate>) {
        let encoder = &self.cfg.encoders[p.batch.table().index()];
        match finish_part(p, date, encoder) {
            Ok(pf) => self.closed.push(pf),
            Err(e) => {
                self.error.get_or_insert(e);
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

/// A first guess of a table's Arrow bytes per row, before any batch was measured: 8 bytes per
/// column plus room for strings.
fn initial_row_bytes(table: Table) -> usize {
    table
        .columns()
        .iter()
        .map(|c| match c.ty {
            ColType::Utf8 | ColType::ListUtf8 => 40,
            _ => 9,
        })
        .sum()
}

/// Writes a 0-row part for a table that got no rows, so readers still find the table and its
/// schema (a glob over a missing folder fails in DuckDB and polars). It goes to Hive's null
/// partition because no date applies.
pub fn write_empty_part(cfg: &SinkConfig, table: Table) -> anyhow::Result<PartFile> {
    let (id, path) = cfg.new_part_path(table, None);
    let w = open_writer(&path, &cfg.encoders[table.index()])?;
    close_writer(w, &path)?;
    Ok(PartFile {
        id,
        table,
        date: None,
        path,
        rows: 0,
    })
}

/// A part file read back a row group at a time (to rewrite it without some rows, or to encode
/// its row groups again), its footer read once and shared by the readers of each row group.
struct PartReader {
    file: std::fs::File,
    meta: ArrowReaderMetadata,
}

impl PartReader {
    fn open(path: &Path) -> anyhow::Result<PartReader> {
        let file = fs_err::File::open(path)?.into_parts().0;
        let meta = ArrowReaderMetadata::load(&file, Default::default())?;
        Ok(PartReader { file, meta })
    }

    /// The number of rows of each row group.
    fn group_rows(&self) -> Vec<usize> {
        let groups = self.meta.metadata().row_groups();
        groups.iter().map(|g| g.num_rows() as usize).collect()
    }

    /// Row group `g`'s rows, in batches (one, unless arrow-rs splits it).
    fn read_group(&self, g: usize) -> anyhow::Result<Vec<RecordBatch>> {
        let rows = self.meta.metadata().row_group(g).num_rows() as usize;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.file.try_clone()?,
            self.meta.clone(),
        )
        .with_row_groups(vec![g])
        .with_batch_size(rows.max(1))
        .build()?;
        Ok(reader.collect::<Result<_, _>>()?)
    }
}

fn open_writer(path: &Path, encoder: &TableEncoder) -> anyhow::Result<PartWriter> {
    use anyhow::Context;
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let file = fs_err::File::create(path)?.into_parts().0;
    SerializedFileWriter::new(
        BufWriter::with_capacity(64 << 10, file),
        encoder.root.clone(),
        encoder.file_props.clone(),
    )
    .with_context(|| format!("cannot start Parquet file {}", path.display()))
}

type PartWriter = SerializedFileWriter<BufWriter<std::fs::File>>;

/// How one table's part files are written: the file's Parquet schema and properties (with the
/// Arrow schema in its metadata, as parquet-rs' `ArrowWriter` writes it), and a column writer
/// factory per top-level field. A row group is encoded a column at a time, so only one
/// column's writers, with their two zstd contexts (~200 KB), live at once: `ArrowWriter` made
/// all of them first, some 35 MB for the 176 columns of `streams`, per worker.
struct TableEncoder {
    root: TypePtr,
    file_props: Arc<WriterProperties>,
    fields: Vec<(FieldRef, ArrowRowGroupWriterFactory)>,
}

impl TableEncoder {
    fn new(schema: SchemaRef, props: &WriterProperties) -> Self {
        const DECLARED: &str = "the declared schema converts to Parquet";
        let column_props = Arc::new(props.clone());
        let fields = schema
            .fields()
            .iter()
            .map(|f| {
                // A field's leaves in a one-field schema have the same descriptors (path,
                // type, levels) as in the table's, which is what a row group checks when a
                // column chunk is appended. The file writer over nothing only makes the factory.
                let one = Arc::new(Schema::new(vec![f.clone()]));
                let pq = ArrowSchemaConverter::new().convert(&one).expect(DECLARED);
                let w = SerializedFileWriter::new(
                    std::io::sink(),
                    pq.root_schema_ptr(),
                    column_props.clone(),
                )
                .expect("a writer into io::sink");
                (f.clone(), ArrowRowGroupWriterFactory::new(&w, one))
            })
            .collect();
        let mut file_props = props.clone();
        add_encoded_arrow_schema_to_metadata(&schema, &mut file_props);
        let pq = ArrowSchemaConverter::new()
            .convert(&schema)
            .expect(DECLARED);
        TableEncoder {
            root: pq.root_schema_ptr(),
            file_props: Arc::new(file_props),
            fields,
        }
    }

    /// Writes `batch` as row groups of at most the properties' row count, a column at a time.
    fn write<W: std::io::Write + Send>(
        &self,
        w: &mut SerializedFileWriter<W>,
        batch: &RecordBatch,
    ) -> parquet::errors::Result<()> {
        let max = self
            .file_props
            .max_row_group_row_count()
            .unwrap_or(usize::MAX)
            .max(1);
        let mut start = 0;
        while start < batch.num_rows() {
            let len = max.min(batch.num_rows() - start);
            let part = batch.slice(start, len);
            let index = w.flushed_row_groups().len();
            let mut rg = w.next_row_group()?;
            for ((field, factory), array) in self.fields.iter().zip(part.columns()) {
                let mut writers = factory.create_column_writers(index)?;
                for (cw, leaf) in writers.iter_mut().zip(compute_leaves(field, array)?) {
                    cw.write(&leaf)?;
                }
                for cw in writers {
                    cw.close()?.append_to_row_group(&mut rg)?;
                }
            }
            rg.close()?;
            start += len;
        }
        Ok(())
    }
}

/// Encodes a part's waiting rows as one row group and writes it. Returns the number of rows and
/// their Arrow bytes, or `None` when no row was waiting.
fn write_row_group(
    p: &mut OpenPart,
    encoder: &TableEncoder,
) -> anyhow::Result<Option<(usize, usize)>> {
    use anyhow::Context;
    let rows = p.batch.rows();
    if rows == 0 {
        return Ok(None);
    }
    let batch = p.batch.finish();
    let bytes = batch.get_array_memory_size();
    encoder
        .write(&mut p.writer, &batch)
        .with_context(|| format!("cannot write {}", p.path.display()))?;
    Ok(Some((rows, bytes)))
}

fn finish_part(
    mut p: OpenPart,
    date: Option<NaiveDate>,
    encoder: &TableEncoder,
) -> anyhow::Result<PartFile> {
    write_row_group(&mut p, encoder)?;
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
fn close_writer(w: PartWriter, path: &Path) -> anyhow::Result<()> {
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
        if !self.open_part(table) {
            return;
        }
        let t = table.index();
        let cur = self.current;
        let p = self.open[cur].parts[t].as_mut().expect("opened above");
        p.batch.append(emit);
        p.rows += 1;
        let part_bytes = p.batch.rows() * self.row_bytes[t];
        self.waiting += self.row_bytes[t];
        if part_bytes >= self.cfg.row_group_bytes {
            self.encode(cur, table);
        } else if self.waiting > self.cfg.worker_buffer_bytes {
            self.encode_largest();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_document, Item};
    use crate::flatten::{flatten_record, rows::CallCtx};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    /// Flattens `records` into `w`, the i-th record into date `dates[i % dates.len()]`.
    fn write_records(w: &mut PartitionedWriter, records: &[String], dates: &[NaiveDate]) {
        for (i, text) in records.iter().enumerate() {
            decode_document(text.as_bytes(), 1, |item, _| {
                let Item::Record(rec) = item else {
                    panic!("generated text is a record")
                };
                w.begin_record(Some(dates[i % dates.len()]));
                let ctx = CallCtx {
                    rec: &rec,
                    source_path: "test.json",
                    source_position: "line 1",
                    quality: &crate::quality::DEFAULT_CONTEXT,
                };
                flatten_record(&ctx, w);
            });
        }
    }

    /// Writes `n` generated records (from `seed`) round robin over `dates`; the finished parts.
    fn write_generated(
        cfg: &SinkConfig,
        n: usize,
        seed: u64,
        dates: &[NaiveDate],
    ) -> Vec<PartFile> {
        let mut w = PartitionedWriter::new(cfg);
        write_records(&mut w, &crate::gen::sample_records(n, seed), dates);
        w.finish().unwrap()
    }

    /// (row groups, rows) of a Parquet file.
    fn shape(path: &Path) -> (usize, i64) {
        let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
        let md = r.metadata();
        (md.num_row_groups(), md.file_metadata().num_rows())
    }

    fn days(n: u32) -> Vec<NaiveDate> {
        (0..n)
            .map(|i| NaiveDate::from_ymd_opt(2026, 10, 1 + i).unwrap())
            .collect()
    }

    #[test]
    fn statistics_for_numbers_only_and_no_dictionary_for_entity_ids() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SinkConfig::new(dir.path().to_owned(), Codec::Zstd);
        let parts = write_generated(&cfg, 20, 9, &days(1));
        let part = parts.iter().find(|p| p.table == Table::Streams).unwrap();
        let r = SerializedFileReader::new(std::fs::File::open(&part.path).unwrap()).unwrap();
        let rg = r.metadata().row_group(0);
        let chunk = |name: &str| {
            (0..rg.num_columns())
                .map(|i| rg.column(i))
                .find(|c| c.column_path().string() == name)
                .unwrap_or_else(|| panic!("no column {name}"))
        };
        let dictionary = |name: &str| chunk(name).dictionary_page_offset().is_some();
        for name in [
            "call_id",
            "session_id",
            "stream_id",
            "caller_participant_id",
        ] {
            assert!(!dictionary(name), "{name} is dictionary-encoded");
        }
        for name in ["media_label", "caller_network_subnet"] {
            assert!(dictionary(name), "{name} is not dictionary-encoded");
        }
        for name in ["call_id", "media_label", "poor_reasons.list.item"] {
            assert!(chunk(name).statistics().is_none(), "{name} has statistics");
        }
        for name in ["average_jitter_ms", "call_start_date_time", "is_inbound"] {
            let stats = chunk(name).statistics();
            assert!(stats.is_some_and(|s| s.min_bytes_opt().is_some()), "{name}");
        }
        assert!(is_entity_id("organizer_v2_identity_id"));
        assert!(!is_entity_id("caller_identity_tenant_id"));
        assert!(!is_entity_id("callee_user_agent_azure_ad_app_id"));
        assert!(!is_entity_id("caller_user_agent_communication_service_id"));
    }

    #[test]
    fn interleaved_dates_still_give_one_part_per_table_and_date() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SinkConfig::new(dir.path().to_owned(), Codec::Zstd).with_workers(2);
        assert!(cfg.max_open_dates >= 10, "{}", cfg.max_open_dates);
        // Records of ten dates, round robin: the worst order for a date-partitioned writer.
        let parts = write_generated(&cfg, 60, 3, &days(10));
        let calls: Vec<_> = parts.iter().filter(|p| p.table == Table::Calls).collect();
        assert_eq!(calls.len(), 10);
        for p in &calls {
            assert_eq!(p.rows, 6);
            assert_eq!(shape(&p.path), (1, 6));
        }
    }

    #[test]
    fn closing_the_least_recently_used_date_keeps_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = SinkConfig::new(dir.path().to_owned(), Codec::Zstd);
        cfg.max_open_dates = 2;
        let parts = write_generated(&cfg, 30, 5, &days(3));
        let calls: Vec<_> = parts.iter().filter(|p| p.table == Table::Calls).collect();
        // Every record after the first two opens a date that is not open: a new part each.
        assert_eq!(calls.len(), 30);
        let rows: u64 = calls.iter().map(|p| p.rows).sum();
        assert_eq!(rows, 30);
        for p in &calls {
            assert_eq!(shape(&p.path), (1, 1));
        }
    }

    #[test]
    fn a_date_without_records_for_a_while_is_closed() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SinkConfig::new(dir.path().to_owned(), Codec::Zstd);
        let records = crate::gen::sample_records(1, 4);
        let d = days(2);
        let mut w = PartitionedWriter::new(&cfg);
        write_records(&mut w, &records, &d[..1]);
        for _ in 0..STALE_RECORDS {
            w.begin_record(Some(d[1]));
        }
        assert_eq!(w.open.len(), 2, "not stale yet");
        for _ in 0..256 {
            w.begin_record(Some(d[1]));
        }
        assert_eq!(w.open.len(), 1);
        assert_eq!(w.open[0].date, Some(d[1]));
        assert!(w
            .closed
            .iter()
            .any(|p| p.table == Table::Calls && p.date == Some(d[0])));
        // The open date still takes rows after the close.
        write_records(&mut w, &records, &d[1..]);
        let parts = w.finish().unwrap();
        assert_eq!(parts.iter().filter(|p| p.table == Table::Calls).count(), 2);
    }

    /// The rows of a Parquet file, as Arrow batches.
    fn read_batches(path: &Path) -> Vec<RecordBatch> {
        let f = std::fs::File::open(path).unwrap();
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn parts_written_a_column_at_a_time_are_the_bytes_arrow_writer_writes() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SinkConfig::new(dir.path().join("a"), Codec::Zstd);
        let parts = write_generated(&cfg, 20, 9, &days(1));
        assert_eq!(parts.len(), TABLES);
        for part in &parts {
            let batches = read_batches(&part.path);
            assert_eq!(batches.len(), 1, "{:?}", part.table);
            // The same rows through parquet-rs' ArrowWriter, all columns at once.
            let t = part.table;
            let mut buf = Vec::new();
            let mut w = parquet::arrow::ArrowWriter::try_new(
                &mut buf,
                t.arrow_schema(),
                Some(cfg.props[t.index()].clone()),
            )
            .unwrap();
            w.write(&batches[0]).unwrap();
            w.close().unwrap();
            assert_eq!(std::fs::read(&part.path).unwrap(), buf, "{:?}", t);
        }
    }

    #[test]
    fn a_batch_over_the_row_count_limit_is_split_into_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SinkConfig::new(dir.path().join("a"), Codec::Zstd);
        let parts = write_generated(&cfg, 20, 9, &days(1));
        let part = parts.iter().find(|p| p.table == Table::Streams).unwrap();
        let batch = read_batches(&part.path).remove(0);
        assert!(batch.num_rows() > 5);
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .build();
        let encoder = TableEncoder::new(Table::Streams.arrow_schema(), &props);
        let path = dir.path().join("split.parquet");
        let mut w = open_writer(&path, &encoder).unwrap();
        encoder.write(&mut w, &batch).unwrap();
        close_writer(w, &path).unwrap();
        let (groups, rows) = shape(&path);
        assert_eq!(groups, batch.num_rows().div_ceil(2));
        assert_eq!(rows as usize, batch.num_rows());
        let back = read_batches(&path);
        let back = arrow_select::concat::concat_batches(&back[0].schema(), &back).unwrap();
        assert_eq!(back, batch);
    }

    #[test]
    fn removing_rows_keeps_the_row_groups_of_the_part() {
        let dir = tempfile::tempdir().unwrap();
        let mut tight = SinkConfig::new(dir.path().join("a"), Codec::Zstd);
        tight.worker_buffer_bytes = 64 << 10;
        tight.row_group_bytes = 256 << 10;
        let parts = write_generated(&tight, 20, 9, &days(1));
        let mut part = parts
            .into_iter()
            .find(|p| p.table == Table::Streams)
            .unwrap();
        let before = read_batches(&part.path);
        let all = arrow_select::concat::concat_batches(&before[0].schema(), &before).unwrap();
        let (groups, rows) = shape(&part.path);
        assert!(groups >= 3, "{groups} row groups");
        let first_group = SerializedFileReader::new(std::fs::File::open(&part.path).unwrap())
            .unwrap()
            .metadata()
            .row_group(0)
            .num_rows() as u32;
        // The whole first row group and three rows of the second go.
        let gone = [
            RowSpan {
                part: part.id,
                start: 0,
                len: first_group,
            },
            RowSpan {
                part: part.id,
                start: first_group + 1,
                len: 3,
            },
        ];
        publish::remove_rows(&mut part, &gone, &tight).unwrap();
        assert_eq!(part.rows, rows as u64 - first_group as u64 - 3);
        assert_eq!(shape(&part.path), (groups - 1, part.rows as i64));
        let after = read_batches(&part.path);
        let after = arrow_select::concat::concat_batches(&after[0].schema(), &after).unwrap();
        let keep: Vec<bool> = (0..rows as u32)
            .map(|i| i >= first_group && !(first_group + 1..first_group + 4).contains(&i))
            .collect();
        let expected = arrow_select::filter::filter_record_batch(&all, &keep.into()).unwrap();
        assert_eq!(after, expected);
    }

    #[test]
    fn the_memory_budget_cuts_row_groups_and_loses_no_row() {
        let records = crate::gen::sample_records(40, 9);
        let streams_of = |cfg: &SinkConfig| {
            let mut w = PartitionedWriter::new(cfg);
            write_records(&mut w, &records, &days(1));
            let parts = w.finish().unwrap();
            let s: Vec<_> = parts
                .into_iter()
                .filter(|p| p.table == Table::Streams)
                .collect();
            assert_eq!(s.len(), 1);
            let (groups, rows) = shape(&s[0].path);
            assert_eq!(rows as u64, s[0].rows);
            (groups, rows)
        };
        let dir = tempfile::tempdir().unwrap();
        let roomy = SinkConfig::new(dir.path().join("a"), Codec::Zstd);
        let (groups, rows) = streams_of(&roomy);
        assert_eq!(groups, 1);
        assert!(rows > 100, "{rows}");

        let mut tight = SinkConfig::new(dir.path().join("b"), Codec::Zstd);
        tight.worker_buffer_bytes = 64 << 10;
        tight.row_group_bytes = 256 << 10;
        let (tight_groups, tight_rows) = streams_of(&tight);
        assert_eq!(tight_rows, rows);
        assert!(tight_groups > 3, "{tight_groups} row groups");
    }
}
