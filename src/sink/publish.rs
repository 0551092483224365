//! The output folder: snapshots, staging, crash recovery, atomic publishing, and rewriting part
//! files without superseded rows.
//!
//! Layout of `DIR`:
//!
//! ```text
//! _current -> _snapshots/00000042        the one pointer readers follow, replaced atomically
//! _snapshots/00000042/                    the published snapshot (immutable once published)
//!     calls/date=…/part-000123.parquet …  every table
//!     _state/                             the incremental state (see crate::state)
//!     _errors.ndjson, _SUCCESS, _manifest.json
//! _snapshots/00000041/                    the previous snapshot, kept for readers still on it
//! calls -> _current/calls                 stable names for readers (one per table), and
//! _manifest.json, _errors.ndjson, _SUCCESS -> _current/…
//! .callrec.lock                           while a run holds it
//! ```
//!
//! A run builds its whole snapshot in `DIR/.callrec-staging-<pid>/`: new part files, part files
//! of the previous snapshot rewritten without the rows of calls replaced by newer versions, and
//! hard links to the unchanged part files (a copy where hard links are not supported). Every file
//! and folder is fsynced, the folder is renamed to `_snapshots/<generation>`, and `_current` is
//! switched to it by renaming a new symlink over it: one atomic step publishes the whole run.
//! Part file names are never reused with other content. After the switch, snapshots other than
//! the new and the previous one are removed. A run that dies leaves `_current` on the last good
//! snapshot; the next run removes its leftovers (see [`recover`]).

use super::{PartFile, RowSpan};
use crate::crashpoint::crash_point;
use crate::schema::Table;
use anyhow::{bail, Context, Result};
use arrow_array::cast::AsArray;
use arrow_array::{Array, BooleanArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "_manifest.json";
pub const ERRORS: &str = "_errors.ndjson";
pub const SUCCESS: &str = "_SUCCESS";
pub const CURRENT: &str = "_current";
pub const SNAPSHOTS: &str = "_snapshots";
const STAGING_PREFIX: &str = ".callrec-staging-";
const OLD_PREFIX: &str = ".callrec-old-";
const LINK_PREFIX: &str = ".callrec-link-";

/// What the output folder held when the run started (after [`recover`]).
#[derive(Debug)]
pub enum Existing {
    /// Nothing yet.
    Empty,
    /// A dataset of a callrec without snapshots: table folders directly in `DIR`, no state.
    Legacy,
    /// A published snapshot.
    Snapshot { generation: u64, dir: PathBuf },
    /// `_current` does not lead to a complete snapshot.
    Broken(String),
}

impl Existing {
    pub fn generation(&self) -> Option<u64> {
        match self {
            Existing::Snapshot { generation, .. } => Some(*generation),
            _ => None,
        }
    }
}

fn ours(name: &str) -> bool {
    name.starts_with(".callrec")
        || [MANIFEST, ERRORS, SUCCESS, CURRENT, SNAPSHOTS, "reports"].contains(&name)
        || Table::ALL.iter().any(|t| t.name() == name)
}

/// Checks that `out` may be written (absent, empty, or a callrec dataset) and creates it.
/// Writes nothing else.
pub fn prepare_output(out: &Path) -> Result<()> {
    if out.exists() {
        if !out.is_dir() {
            bail!("--out {} exists and is not a folder", out.display());
        }
        let mut foreign = Vec::new();
        for e in fs_err::read_dir(out)? {
            let name = e?.file_name().to_string_lossy().into_owned();
            if !ours(&name) {
                foreign.push(name);
            }
        }
        let dataset = out.join(MANIFEST).exists() || out.join(CURRENT).symlink_metadata().is_ok();
        if !foreign.is_empty() && !dataset {
            bail!(
                "--out {} is not empty and holds no callrec dataset ({} …); choose an empty or new folder",
                out.display(),
                foreign[0]
            );
        }
        return Ok(());
    }
    fs_err::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))
}

fn snapshot_name(generation: u64) -> String {
    format!("{generation:08}")
}

fn pointer_target(generation: u64) -> PathBuf {
    Path::new(SNAPSHOTS).join(snapshot_name(generation))
}

/// The generation `_current` points to, if it is a symlink of ours.
fn read_pointer(out: &Path) -> Option<Result<u64, String>> {
    let target = match std::fs::read_link(out.join(CURRENT)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("{CURRENT} is not a symlink: {e}"))),
    };
    let parsed = target
        .strip_prefix(SNAPSHOTS)
        .ok()
        .and_then(|r| r.to_str())
        .and_then(|r| r.parse::<u64>().ok());
    Some(parsed.ok_or_else(|| {
        format!(
            "{CURRENT} points to {}, not to a snapshot",
            target.display()
        )
    }))
}

/// Removes what interrupted runs left behind, repairs the stable names, and says what `out`
/// holds. Runs under the lock. Notes for the user are appended to `notes`.
pub fn recover(out: &Path, notes: &mut Vec<String>) -> Result<Existing> {
    let mut removed = Vec::new();
    for e in fs_err::read_dir(out)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(STAGING_PREFIX) || name.starts_with(OLD_PREFIX) {
            fs_err::remove_dir_all(e.path())?;
            removed.push(name);
        } else if name.starts_with(LINK_PREFIX) {
            fs_err::remove_file(e.path())?;
            removed.push(name);
        }
    }
    let current = match read_pointer(out) {
        None => None,
        Some(Ok(g)) => {
            let dir = out.join(pointer_target(g));
            if dir.join(SUCCESS).is_file() && dir.join(MANIFEST).is_file() {
                Some(g)
            } else {
                return Ok(Existing::Broken(format!(
                    "{CURRENT} points to {}, which is not a complete snapshot",
                    dir.display()
                )));
            }
        }
        Some(Err(why)) => return Ok(Existing::Broken(why)),
    };
    let previous = current.and_then(|c| {
        snapshot_generations(out)
            .ok()?
            .into_iter()
            .map(|g| g.0)
            .filter(|g| *g < c)
            .max()
    });
    removed.extend(prune_snapshots(out, current, previous)?);
    if !removed.is_empty() {
        notes.push(format!(
            "removed what an interrupted run left in {}: {}",
            out.display(),
            removed.join(", ")
        ));
    }
    if let Some(g) = current {
        ensure_links(out)?;
        return Ok(Existing::Snapshot {
            generation: g,
            dir: out.join(pointer_target(g)),
        });
    }
    let legacy = out
        .join(MANIFEST)
        .symlink_metadata()
        .is_ok_and(|m| m.is_file())
        || Table::ALL.iter().any(|t| {
            out.join(t.name())
                .symlink_metadata()
                .is_ok_and(|m| m.is_dir())
        });
    Ok(if legacy {
        Existing::Legacy
    } else {
        Existing::Empty
    })
}

/// How long a replaced snapshot is kept for readers that resolved `_current` before it changed.
/// The snapshot a run replaces is kept until the next run in any case.
pub const SNAPSHOT_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// The numbered folders in `_snapshots/`, sorted by generation.
fn snapshot_generations(out: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let snapshots = out.join(SNAPSHOTS);
    let mut gens = Vec::new();
    if !snapshots.is_dir() {
        return Ok(gens);
    }
    for e in fs_err::read_dir(&snapshots)? {
        let e = e?;
        if let Some(g) = e.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) {
            gens.push((g, e.path()));
        }
    }
    gens.sort();
    Ok(gens)
}

/// Removes snapshots that no reader can be on: those newer than `current` (a run died before
/// publishing them), foreign entries, and those replaced more than [`SNAPSHOT_GRACE`] ago,
/// except `current` and `keep`. Returns what it removed that a run left unfinished.
fn prune_snapshots(out: &Path, current: Option<u64>, keep: Option<u64>) -> Result<Vec<String>> {
    let snapshots = out.join(SNAPSHOTS);
    let mut unfinished = Vec::new();
    if !snapshots.is_dir() {
        return Ok(unfinished);
    }
    for e in fs_err::read_dir(&snapshots)? {
        let e = e?;
        if e.file_name()
            .to_str()
            .and_then(|n| n.parse::<u64>().ok())
            .is_none()
        {
            remove_any(&e.path())?;
            unfinished.push(format!("{SNAPSHOTS}/{}", e.file_name().to_string_lossy()));
        }
    }
    let gens = snapshot_generations(out)?;
    for (i, (g, path)) in gens.iter().enumerate() {
        if Some(*g) == current || Some(*g) == keep {
            continue;
        }
        if current.is_none_or(|c| *g > c) {
            fs_err::remove_dir_all(path)?;
            unfinished.push(format!("{SNAPSHOTS}/{}", snapshot_name(*g)));
            continue;
        }
        // Replaced when its successor was published.
        let replaced_at = gens
            .get(i + 1)
            .and_then(|(_, next)| std::fs::metadata(next.join(SUCCESS)).ok())
            .and_then(|m| m.modified().ok());
        let old = replaced_at
            .and_then(|t| t.elapsed().ok())
            .is_none_or(|age| age >= SNAPSHOT_GRACE);
        if old {
            fs_err::remove_dir_all(path)?;
        }
    }
    Ok(unfinished)
}

/// The highest snapshot generation and the next free part number found in `out` (snapshots
/// and a legacy dataset's table folders): a run without state continues after them, so no
/// generation or part file name is ever reused with other content.
pub fn scan_numbers(out: &Path) -> Result<(u64, u32)> {
    let mut roots: Vec<PathBuf> = Table::ALL
        .iter()
        .map(|t| out.join(t.name()))
        .filter(|p| p.symlink_metadata().is_ok_and(|m| m.is_dir()))
        .collect();
    let gens = snapshot_generations(out)?;
    let max_gen = gens.last().map_or(0, |g| g.0);
    roots.extend(gens.into_iter().map(|g| g.1));
    let mut next_part = 0u32;
    for root in roots {
        for e in walkdir::WalkDir::new(root).into_iter().flatten() {
            if let Some(id) = part_number(&e.file_name().to_string_lossy()) {
                next_part = next_part.max(id.saturating_add(1));
            }
        }
    }
    Ok((max_gen, next_part))
}

/// `part-000123.parquet` → 123; `None` for a name that is not a part file's.
pub fn part_number(file_name: &str) -> Option<u32> {
    file_name
        .strip_prefix("part-")
        .and_then(|n| n.strip_suffix(".parquet"))
        .and_then(|n| n.parse().ok())
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    match p.symlink_metadata() {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
}

/// Atomically makes `out/name` a symlink to `target` (replacing a file or symlink there).
fn replace_with_link(out: &Path, name: &str, target: &Path) -> Result<()> {
    let tmp = out.join(format!("{LINK_PREFIX}{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    symlink(target, &tmp)
        .with_context(|| format!("cannot create the symlink {}", tmp.display()))?;
    fs_err::rename(&tmp, out.join(name))?;
    Ok(())
}

/// Makes the stable names (`DIR/<table>`, `DIR/_manifest.json`, …) symlinks into `_current`.
/// Migrates a legacy dataset's real folders (moved aside first, then removed).
fn ensure_links(out: &Path) -> Result<()> {
    let names = Table::ALL
        .iter()
        .map(|t| t.name())
        .chain([MANIFEST, ERRORS, SUCCESS]);
    let old = out.join(format!("{OLD_PREFIX}{}", std::process::id()));
    let mut changed = false;
    for name in names {
        let path = out.join(name);
        let target = Path::new(CURRENT).join(name);
        match path.symlink_metadata() {
            Ok(m) if m.is_symlink() && std::fs::read_link(&path).ok().as_ref() == Some(&target) => {
                continue
            }
            Ok(m) if m.is_dir() => {
                // A legacy table folder: a directory cannot be replaced by a rename.
                fs_err::create_dir_all(&old)?;
                fs_err::rename(&path, old.join(name))?;
            }
            _ => {}
        }
        replace_with_link(out, name, &target)?;
        changed = true;
    }
    if changed {
        fsync_dir(out)?;
    }
    if old.exists() {
        fs_err::remove_dir_all(&old)?;
    }
    Ok(())
}

/// fsyncs a folder, so the names created or renamed in it are durable.
pub fn fsync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync the folder {}", dir.display()))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// fsyncs every folder below and including `dir`.
fn fsync_tree(dir: &Path) -> Result<()> {
    for e in walkdir::WalkDir::new(dir).contents_first(true) {
        let e = e?;
        if e.file_type().is_dir() {
            fsync_dir(e.path())?;
        }
    }
    Ok(())
}

/// Hard-links `src` to `dst` (creating `dst`'s folder), or copies it (fsynced) where the file
/// system has no hard links.
pub fn link_or_copy(src: &Path, dst: &Path) -> Result<()> {
    if let Some(d) = dst.parent() {
        fs_err::create_dir_all(d)?;
    }
    if std::fs::hard_link(src, dst).is_ok() {
        return Ok(());
    }
    fs_err::copy(src, dst)?;
    fs_err::File::open(dst)?.sync_all()?;
    Ok(())
}

/// The folder a run builds its snapshot in; removed on drop unless published.
pub struct Staging {
    pub out: PathBuf,
    pub dir: PathBuf,
    pub generation: u64,
    /// The snapshot that was current when the run started (kept for readers still on it).
    previous: Option<u64>,
    published: bool,
}

impl Staging {
    /// Creates `out/.callrec-staging-<pid>/` for snapshot `generation`.
    pub fn create(out: &Path, generation: u64, previous: Option<u64>) -> Result<Staging> {
        let dir = out.join(format!("{STAGING_PREFIX}{}", std::process::id()));
        fs_err::create_dir_all(out.join(SNAPSHOTS))
            .and_then(|()| fs_err::create_dir_all(&dir))
            .with_context(|| format!("cannot write to the output folder {}", out.display()))?;
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            generation,
            previous,
            published: false,
        })
    }

    /// Publishes the staged snapshot: fsync, rename into `_snapshots/`, switch `_current`,
    /// then remove snapshots older than the previous one.
    pub fn commit(mut self) -> Result<()> {
        fsync_tree(&self.dir)?;
        let snapshots = self.out.join(SNAPSHOTS);
        let dest = snapshots.join(snapshot_name(self.generation));
        if dest.exists() {
            fs_err::remove_dir_all(&dest)?;
        }
        fs_err::rename(&self.dir, &dest)?;
        fsync_dir(&snapshots)?;
        crash_point("snapshot");
        replace_with_link(&self.out, CURRENT, &pointer_target(self.generation))?;
        fsync_dir(&self.out)?;
        self.published = true;
        crash_point("pointer");
        ensure_links(&self.out)?;
        prune_snapshots(&self.out, Some(self.generation), self.previous)?;
        crash_point("cleaned");
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.dir);
            // Only removed when empty: a failed first run leaves the folder as it found it.
            let _ = std::fs::remove_dir(self.out.join(SNAPSHOTS));
        }
    }
}

/// Rewrites `part` without the rows in `remove` (superseded record versions). Returns the new
/// row count; a part left empty is deleted.
pub fn remove_rows(
    part: &mut PartFile,
    remove: &[RowSpan],
    sink: &super::SinkConfig,
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
    filter_file(&part.path, &tmp, part.table, &keep, sink)?;
    fs_err::rename(&tmp, &part.path)?;
    part.rows = left;
    Ok(())
}

/// Copies the rows of `src` whose `keep` is true into a new file `dst` (fsynced), a row group
/// of `src` at a time: each becomes a row group of `dst` (none if all its rows go), written a
/// column at a time like the sink's. Memory is one row group, whatever the size of the part
/// (`ArrowWriter` held every row up to a million in one row group, encoded, before writing).
fn filter_file(
    src: &Path,
    dst: &Path,
    table: Table,
    keep: &[bool],
    sink: &super::SinkConfig,
) -> Result<()> {
    let part = super::PartReader::open(src)?;
    let group_rows = part.group_rows();
    if let Some(d) = dst.parent() {
        fs_err::create_dir_all(d)?;
    }
    let encoder = &sink.encoders[table.index()];
    let mut w = super::open_writer(dst, encoder)?;
    let mut offset = 0usize;
    for (g, &n) in group_rows.iter().enumerate() {
        let mask = &keep[offset..offset + n];
        offset += n;
        if !mask.iter().any(|&k| k) {
            continue;
        }
        let mut kept = Vec::new();
        let mut at = 0usize;
        for batch in part.read_group(g)? {
            let m = BooleanArray::from(mask[at..at + batch.num_rows()].to_vec());
            at += batch.num_rows();
            kept.push(arrow_select::filter::filter_record_batch(&batch, &m)?);
        }
        let group = arrow_select::concat::concat_batches(&table.arrow_schema(), &kept)?;
        encoder
            .write(&mut w, &group)
            .with_context(|| format!("cannot write {}", dst.display()))?;
    }
    super::close_writer(w, dst)
}

/// What [`rewrite_without_calls`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Rewrite {
    /// No row of `src` belongs to those calls: link it unchanged.
    Untouched,
    /// `dst` was written with this many rows (never 0).
    Written(u64),
    /// Every row belonged to those calls: no file.
    Emptied,
}

/// Writes `src` without the rows whose `call_id` is in `ids` to `dst`. Reads only the
/// `call_id` column first, so a part without those calls costs little.
pub fn rewrite_without_calls(
    src: &Path,
    dst: &Path,
    table: Table,
    ids: &HashSet<&str>,
    sink: &super::SinkConfig,
) -> Result<Rewrite> {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(fs_err::File::open(src)?.into_parts().0)?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), ["call_id"]);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(8192)
        .build()?;
    let mut keep = Vec::new();
    for batch in reader {
        let batch = batch?;
        let col = batch
            .column_by_name("call_id")
            .context("part file has no call_id column")?
            .as_string::<i32>();
        keep.extend((0..col.len()).map(|i| col.is_null(i) || !ids.contains(col.value(i))));
    }
    let left = keep.iter().filter(|k| **k).count() as u64;
    if left == keep.len() as u64 {
        return Ok(Rewrite::Untouched);
    }
    if left == 0 {
        return Ok(Rewrite::Emptied);
    }
    filter_file(src, dst, table, &keep, sink)?;
    Ok(Rewrite::Written(left))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(out: &Path, g: u64, replaced_ago_s: u64) {
        let d = out.join(SNAPSHOTS).join(snapshot_name(g));
        std::fs::create_dir_all(&d).unwrap();
        let f = std::fs::File::create(d.join(SUCCESS)).unwrap();
        let t = std::time::SystemTime::now() - std::time::Duration::from_secs(replaced_ago_s);
        f.set_modified(t).unwrap();
    }

    fn left(out: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(out.join(SNAPSHOTS))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn prune_keeps_current_previous_and_recently_replaced() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path();
        // Snapshot g was replaced when g + 1 was published (its _SUCCESS time).
        snapshot(out, 1, 3 * 3600);
        snapshot(out, 2, 2 * 3600); // 1 replaced two hours ago: removed
        snapshot(out, 3, 60); // 2 replaced a minute ago: kept
        snapshot(out, 4, 30);
        snapshot(out, 5, 0); // newer than current: a run died before publishing it
        std::fs::create_dir_all(out.join(SNAPSHOTS).join("junk")).unwrap();
        let unfinished = prune_snapshots(out, Some(4), Some(3)).unwrap();
        assert_eq!(left(out), ["00000002", "00000003", "00000004"]);
        assert_eq!(unfinished, ["_snapshots/junk", "_snapshots/00000005"]);
        let (gen, part) = scan_numbers(out).unwrap();
        assert_eq!((gen, part), (4, 0));
    }

    #[test]
    fn recover_removes_leftovers_and_reports_them() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path();
        snapshot(out, 1, 0);
        std::fs::write(out.join(pointer_target(1)).join(MANIFEST), "{}").unwrap();
        replace_with_link(out, CURRENT, &pointer_target(1)).unwrap();
        snapshot(out, 2, 0);
        std::fs::create_dir_all(out.join(".callrec-staging-77/calls")).unwrap();
        let mut notes = Vec::new();
        let e = recover(out, &mut notes).unwrap();
        assert!(
            matches!(e, Existing::Snapshot { generation: 1, .. }),
            "{e:?}"
        );
        assert_eq!(left(out), ["00000001"]);
        assert!(!out.join(".callrec-staging-77").exists());
        assert!(notes[0].contains(".callrec-staging-77"), "{notes:?}");
        assert!(notes[0].contains("_snapshots/00000002"), "{notes:?}");
        for t in Table::ALL {
            let link = std::fs::read_link(out.join(t.name())).unwrap();
            assert_eq!(link, Path::new(CURRENT).join(t.name()));
        }
    }
}
