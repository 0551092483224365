//! The encoding ceiling (`callrec encode-only`, hidden): how long the sink's Parquet encoding
//! alone takes for a dataset's rows. The rows are read back from a written dataset, a row group
//! per batch (so the batches are the row groups `flatten` encoded), and encoded again with the
//! tables' writer properties into `io::sink()`. Only the encoding is timed, so `parse-only`
//! plus this is a floor under any `flatten` that parses the same files and writes the same
//! rows, whatever happens between the two.

use super::{Codec, PartReader, SinkConfig, TableEncoder};
use crate::schema::Table;
use anyhow::{Context, Result};
use arrow_array::RecordBatch;
use parquet::file::writer::SerializedFileWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What `encode_only` encoded and how long it took.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Encoded {
    pub row_groups: usize,
    pub rows: usize,
    /// Rows × columns, summed over the tables.
    pub cells: usize,
    /// The batches' Arrow memory.
    pub arrow_bytes: usize,
    /// Wall time of the encoding phases only (reading the dataset back is not counted).
    pub wall: Duration,
}

/// Re-encodes every part file of `dataset` on `threads` threads, in rounds of at most
/// `round_bytes` of Arrow batches held in memory (read, then encoded in parallel and timed).
pub fn encode_only(
    dataset: &Path,
    threads: usize,
    codec: Codec,
    round_bytes: usize,
) -> Result<Encoded> {
    // The sink's own encoders, as `flatten` makes them (no part file is staged).
    let sink = SinkConfig::new(PathBuf::new(), codec);
    let encoders = &sink.encoders;
    let mut files = Vec::new();
    for t in Table::ALL {
        let dir = dataset.join(t.name());
        if !dir.exists() {
            continue;
        }
        for e in walkdir::WalkDir::new(dir)
            .follow_links(true)
            .sort_by_file_name()
        {
            let e = e.with_context(|| format!("cannot list {}", dataset.display()))?;
            if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "parquet") {
                files.push((t, e.into_path()));
            }
        }
    }
    anyhow::ensure!(
        !files.is_empty(),
        "{} holds no Parquet part files: give a dataset folder written by `callrec flatten`",
        dataset.display()
    );
    let mut total = Encoded::default();
    let mut round: Vec<(Table, RecordBatch)> = Vec::new();
    let mut held = 0;
    for (t, path) in &files {
        for b in read_row_groups(path)? {
            held += b.get_array_memory_size();
            total.rows += b.num_rows();
            total.cells += b.num_rows() * b.num_columns();
            total.row_groups += 1;
            round.push((*t, b));
            if held >= round_bytes {
                total.wall += encode_round(&round, encoders, threads)?;
                total.arrow_bytes += held;
                (round, held) = (Vec::new(), 0);
            }
        }
    }
    total.wall += encode_round(&round, encoders, threads)?;
    total.arrow_bytes += held;
    Ok(total)
}

/// A part file's row groups, one batch each.
fn read_row_groups(path: &Path) -> Result<Vec<RecordBatch>> {
    let read = || -> Result<Vec<RecordBatch>> {
        let part = PartReader::open(path)?;
        let mut out = Vec::new();
        for g in 0..part.group_rows().len() {
            out.extend(part.read_group(g)?);
        }
        Ok(out)
    };
    read().with_context(|| format!("cannot read {}", path.display()))
}

/// Encodes the batches on `threads` threads (each takes the next batch), each batch into its
/// own writer over `io::sink()` as a part file holding one row group. Returns the wall time.
fn encode_round(
    round: &[(Table, RecordBatch)],
    encoders: &[TableEncoder],
    threads: usize,
) -> Result<Duration> {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    while let Some((t, b)) = round.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let e = &encoders[t.index()];
                        let mut w = SerializedFileWriter::new(
                            std::io::sink(),
                            e.root.clone(),
                            e.file_props.clone(),
                        )?;
                        e.write(&mut w, b)?;
                        w.close()?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().expect("an encoding thread panicked"))
    })?;
    Ok(start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_a_flattened_dataset_is_encoded_again() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        crate::gen::generate(&dir.path().join("in"), 400_000, 5).unwrap();
        let cfg = crate::run::FlattenConfig::new(vec![dir.path().join("in")], out.clone());
        let m = crate::run::flatten(&cfg).unwrap();
        let rows_of = |t: Table| m.tables[t.name()].rows;
        let rows: u64 = Table::ALL.iter().map(|t| rows_of(*t)).sum();
        assert!(rows_of(Table::Streams) > 0);
        // Rounds of 1 byte: every row group is its own round.
        let e = encode_only(&out, 2, Codec::Zstd, 1).unwrap();
        assert_eq!(e.rows as u64, rows);
        assert!(e.row_groups >= Table::ALL.len());
        let cells: usize = Table::ALL
            .iter()
            .map(|t| rows_of(*t) as usize * t.columns().len())
            .sum();
        assert_eq!(e.cells, cells);
        let empty = tempfile::tempdir().unwrap();
        let err = encode_only(empty.path(), 1, Codec::Zstd, 1).unwrap_err();
        assert!(
            err.to_string().contains("holds no Parquet part files"),
            "{err}"
        );
    }
}
