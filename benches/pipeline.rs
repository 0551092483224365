//! Criterion benchmarks of each stage and of the whole job.
//!
//! Run: `cargo bench --no-default-features` (the report crate and polars are not needed).
//! Inputs come from the deterministic generator (`callrec::gen`), so numbers are comparable
//! across commits. See BENCHMARKS.md for the end-to-end measurements on a 1 GB archive.

use callrec::decode::{decode_document, Item};
use callrec::flatten::rows::CallCtx;
use callrec::flatten::{flatten_record, CountingSink, RowSink};
use callrec::schema::Table;
use callrec::sink::batch::BatchBuilder;
use callrec::sink::{Codec, SinkConfig};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

fn records() -> Vec<String> {
    callrec::gen::sample_records(64, 42)
}

/// Parse JSON text into the model (what `parse-only` measures), per byte.
fn decode(c: &mut Criterion) {
    let recs = records();
    let bytes: usize = recs.iter().map(|r| r.len()).sum();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("records_compact", |b| {
        b.iter(|| {
            let mut n = 0;
            for r in &recs {
                decode_document(r.as_bytes(), 1, |item, _| {
                    if let Item::Record(rec) = item {
                        n += rec.sessions.as_ref().map_or(0, |s| s.len());
                    }
                });
            }
            black_box(n)
        })
    });
    g.finish();
}

/// Arrow builders for every table, as a worker fills them.
struct Builders(Vec<BatchBuilder>);

impl Builders {
    fn new() -> Self {
        Builders(
            Table::ALL
                .iter()
                .map(|t| BatchBuilder::new(*t, 1024))
                .collect(),
        )
    }
}

impl RowSink for Builders {
    type W = BatchBuilder;
    fn row(&mut self, table: Table, emit: impl FnOnce(&mut BatchBuilder)) {
        self.0[table.index()].append(emit)
    }
}

/// Parses every record once; the flatten and encode benches then start from the model.
fn parsed(recs: &[String]) -> Vec<callrec::decode::model::CallRecord<'_>> {
    let mut out = Vec::new();
    for r in recs {
        decode_document(r.as_bytes(), 1, |item, _| {
            if let Item::Record(rec) = item {
                out.push(rec);
            }
        });
    }
    out
}

fn flatten_all(recs: &[callrec::decode::model::CallRecord], sink: &mut impl RowSink) {
    for rec in recs {
        let ctx = CallCtx {
            rec,
            source_path: "bench.json",
            source_position: "line 1",
            quality: &callrec::quality::DEFAULT_CONTEXT,
        };
        flatten_record(&ctx, sink);
    }
}

/// Records → rows: the walk alone (counting sink) and into Arrow builders, per row.
fn flatten(c: &mut Criterion) {
    let text = records();
    let recs = parsed(&text);
    let mut count = CountingSink::default();
    flatten_all(&recs, &mut count);
    let rows: u64 = count.rows.iter().sum();
    let mut g = c.benchmark_group("flatten");
    g.throughput(Throughput::Elements(rows));
    g.bench_function("walk_only", |b| {
        b.iter(|| {
            let mut s = CountingSink::default();
            flatten_all(&recs, &mut s);
            black_box(s)
        })
    });
    g.bench_function("into_arrow_builders", |b| {
        b.iter(|| {
            let mut s = Builders::new();
            flatten_all(&recs, &mut s);
            let batches: Vec<_> = s.0.iter_mut().map(|b| b.finish()).collect();
            black_box(batches)
        })
    });
    g.finish();
}

/// Arrow → Parquet for the widest table, written into `io::sink()`: 10 batches per file, so
/// column chunks have realistic sizes.
fn parquet_encode(c: &mut Criterion) {
    let text = records();
    let recs = parsed(&text);
    let mut s = Builders::new();
    flatten_all(&recs, &mut s);
    let streams = s.0[Table::Streams.index()].finish();
    let mut g = c.benchmark_group("parquet_encode");
    g.throughput(Throughput::Elements(10 * streams.num_rows() as u64));
    for codec in [Codec::Zstd, Codec::Lz4] {
        let props =
            SinkConfig::new(Default::default(), codec).props[Table::Streams.index()].clone();
        g.bench_function(format!("streams_{codec:?}").to_lowercase(), |b| {
            b.iter(|| {
                let mut w = parquet::arrow::ArrowWriter::try_new(
                    std::io::sink(),
                    Table::Streams.arrow_schema(),
                    Some(props.clone()),
                )
                .unwrap();
                for _ in 0..10 {
                    w.write(&streams).unwrap();
                }
                black_box(w.close().unwrap())
            })
        });
    }
    g.finish();
}

/// The whole `flatten` job over a generated 20 MB archive, 2 threads.
fn end_to_end(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let summary = callrec::gen::generate(&archive, 20_000_000, 9).unwrap();
    let mut g = c.benchmark_group("end_to_end");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(summary.bytes));
    g.bench_function("flatten_20mb_2_threads", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |out| {
                let mut cfg =
                    callrec::run::FlattenConfig::new(vec![archive.clone()], out.path().join("out"));
                cfg.threads = 2;
                black_box(callrec::run::flatten(&cfg).unwrap())
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, decode, flatten, parquet_encode, end_to_end);
criterion_main!(benches);
