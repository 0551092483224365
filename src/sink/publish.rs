//! Staging folder, removal of superseded rows, and publishing a finished run.
//!
//! A run writes into `DIR/.callrec-staging-<pid>/`. Only when everything succeeded are the
//! table folders renamed into place (the previous run's folders are moved aside first and removed
//! after), with `_errors.ndjson` and `_manifest.json` last. On a fatal error the staging folder is
//! removed, so nothing half-written is ever visible under `DIR`.

use super::{PartFile, RowSpan};
use crate::schema::Table;
use anyhow::{bail, Context, Result};
use arrow_array::BooleanArray;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "_manifest.json";
pub const ERRORS: &str = "_errors.ndjson";

/// The staging folder of this run; removed on drop unless published.
pub struct Staging {
    pub out: PathBuf,
    pub dir: PathBuf,
    published: bool,
}

impl Staging {
    /// Checks that `out` may be written (absent, empty, or an earlier callrec dataset) and
    /// creates the staging folder inside it.
    pub fn create(out: &Path) -> Result<Staging> {
        if out.exists() {
            if !out.is_dir() {
                bail!("--out {} exists and is not a folder", out.display());
            }
            let mut foreign = Vec::new();
            for e in fs_err::read_dir(out)? {
                let name = e?.file_name().to_string_lossy().into_owned();
                let ours = name.starts_with('.') && name.starts_with(".callrec-")
                    || name == MANIFEST
                    || name == ERRORS
                    || Table::ALL.iter().any(|t| t.name() == name);
                if !ours {
                    foreign.push(name);
                }
            }
            if !foreign.is_empty() && !out.join(MANIFEST).exists() {
                bail!(
                    "--out {} is not empty and holds no callrec dataset ({} …); choose an empty or new folder",
                    out.display(),
                    foreign[0]
                );
            }
            // Leftovers of an interrupted earlier run.
            for e in fs_err::read_dir(out)? {
                let e = e?;
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(".callrec-staging-") || name.starts_with(".callrec-old-") {
                    let _ = fs_err::remove_dir_all(e.path());
                }
            }
        }
        let dir = out.join(format!(".callrec-staging-{}", std::process::id()));
        fs_err::create_dir_all(&dir)
            .with_context(|| format!("cannot create the output folder {}", out.display()))?;
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            published: false,
        })
    }

    /// Moves the staged tables, errors and manifest into `out`, replacing an earlier dataset.
    pub fn publish(mut self) -> Result<()> {
        let old = self
            .out
            .join(format!(".callrec-old-{}", std::process::id()));
        fs_err::create_dir_all(&old)?;
        for t in Table::ALL {
            let live = self.out.join(t.name());
            if live.exists() {
                fs_err::rename(&live, old.join(t.name()))?;
            }
            let staged = self.dir.join(t.name());
            if staged.exists() {
                fs_err::rename(&staged, &live)?;
            }
        }
        for f in [ERRORS, MANIFEST] {
            fs_err::rename(self.dir.join(f), self.out.join(f))?;
        }
        self.published = true;
        let _ = fs_err::remove_dir_all(&old);
        let _ = fs_err::remove_dir_all(&self.dir);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Rewrites `part` without the rows in `remove` (superseded record versions). Returns the new
/// row count; a part left empty is deleted.
pub fn remove_rows(
    part: &mut PartFile,
    remove: &[RowSpan],
    props: &WriterProperties,
) -> Result<()> {
    let mut keep = vec![true; part.rows as usize];
    for s in remove {
        for k in &mut keep[s.start as usize..(s.start + s.len) as usize] {
            *k = false;
        }
    }
    let left = keep.iter().filter(|k| **k).count() as u64;
    if left == 0 {
        fs_err::remove_file(&part.path)?;
        part.rows = 0;
        // Leave no empty partition folder behind (readers would see a partition without files).
        if let Some(dir) = part.path.parent() {
            let _ = std::fs::remove_dir(dir);
        }
        return Ok(());
    }
    let tmp = part.path.with_extension("parquet.tmp");
    {
        let reader = ParquetRecordBatchReaderBuilder::try_new(
            fs_err::File::open(&part.path)?.into_parts().0,
        )?
        .with_batch_size(8192)
        .build()?;
        let out = fs_err::File::create(&tmp)?.into_parts().0;
        let mut w = ArrowWriter::try_new(out, part.table.arrow_schema(), Some(props.clone()))?;
        let mut offset = 0usize;
        for batch in reader {
            let batch = batch?;
            let n = batch.num_rows();
            let mask = BooleanArray::from(keep[offset..offset + n].to_vec());
            offset += n;
            w.write(&arrow_select::filter::filter_record_batch(&batch, &mask)?)?;
        }
        w.close()?;
    }
    fs_err::rename(&tmp, &part.path)?;
    part.rows = left;
    Ok(())
}
