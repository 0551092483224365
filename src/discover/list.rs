//! A run's list of discovered files, spooled to a file instead of held in memory.
//!
//! A run looks at every input file several times: to plan it, to read it, to merge pages from
//! it and to name it in errors and in the incremental state. Held in memory, each file's path,
//! key and record cost ~150 bytes, so the memory of a run grew with the number of input
//! files (an archive of a million one-record files is a common export layout). The list is
//! written once as the walk finds the files, and read back by position: sequentially by the
//! workers (they take contiguous shares of it), at random for the few files errors and pages
//! name again. What stays in memory is the offset of each entry: 8 bytes per file.

use super::{InputFile, Layout};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Length field of an entry whose path cannot be written as bytes and read back on this
/// platform (a non-Unicode path outside Unix): that path is kept in memory instead.
const IN_MEMORY: u32 = u32::MAX;

/// A discovered file as listed: the file and its key in the incremental state (its absolute
/// path as OS bytes).
#[derive(Debug, Clone)]
pub struct Listed {
    pub file: InputFile,
    pub key: Vec<u8>,
}

/// Writes the list as the walk finds the files.
pub struct ListWriter {
    path: PathBuf,
    out: BufWriter<fs_err::File>,
    pos: u64,
    offsets: Vec<u64>,
    kept: HashMap<u32, Box<Path>>,
}

/// The written list: a file of entries and where each starts.
#[derive(Debug)]
pub struct FileList {
    path: PathBuf,
    offsets: Vec<u64>,
    /// Paths that could not be spooled as bytes (never on Unix).
    kept: HashMap<u32, Box<Path>>,
}

impl ListWriter {
    pub fn create(path: PathBuf) -> Result<ListWriter> {
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir)?;
        }
        let out = BufWriter::with_capacity(64 << 10, fs_err::File::create(&path)?);
        Ok(ListWriter {
            path,
            out,
            pos: 0,
            offsets: Vec::new(),
            kept: HashMap::new(),
        })
    }

    /// Appends `file` (its `index` must be the number of files pushed before) with its key.
    pub fn push(&mut self, file: &InputFile, key: &[u8]) -> Result<()> {
        debug_assert_eq!(file.index as usize, self.offsets.len());
        self.offsets.push(self.pos);
        let bytes = file.path.as_os_str().as_encoded_bytes();
        let in_memory = !spoolable(&file.path);
        if in_memory {
            self.kept.insert(file.index, file.path.clone());
        }
        let (path_len, spooled): (u32, &[u8]) = match in_memory {
            true => (IN_MEMORY, &[]),
            false => (bytes.len() as u32, bytes),
        };
        // The key is the path's own bytes for an absolute path: written once (an empty key
        // stands for it; a key is never empty).
        let own_key: &[u8] = if key != bytes { key } else { &[] };
        let mut head = [0u8; 17];
        head[..4].copy_from_slice(&path_len.to_le_bytes());
        head[4..12].copy_from_slice(&file.size.to_le_bytes());
        head[12] = (file.layout == Layout::Lines) as u8 | (file.gzip_name as u8) << 1;
        head[13..].copy_from_slice(&(own_key.len() as u32).to_le_bytes());
        for part in [&head[..], spooled, own_key] {
            self.out.write_all(part)?;
            self.pos += part.len() as u64;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<FileList> {
        self.out
            .flush()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.offsets.shrink_to_fit();
        Ok(FileList {
            path: self.path,
            offsets: self.offsets,
            kept: self.kept,
        })
    }
}

impl FileList {
    /// The number of files listed.
    pub fn len(&self) -> u32 {
        self.offsets.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// A reader of its own (one per worker: no lock between them).
    pub fn reader(&self) -> Result<ListReader<'_>> {
        let file = fs_err::File::open(&self.path)?;
        Ok(ListReader {
            list: self,
            r: BufReader::with_capacity(16 << 10, file),
            pos: 0,
        })
    }

    /// The positions of the files whose key is one of `keys` (the last file of a key listed
    /// twice), found in one pass over the list.
    pub fn find_keys<'k>(&self, keys: &[&'k [u8]]) -> Result<HashMap<&'k [u8], u32>> {
        let mut found = HashMap::new();
        if keys.is_empty() {
            return Ok(found);
        }
        let wanted: std::collections::HashSet<&[u8]> = keys.iter().copied().collect();
        let mut r = self.reader()?;
        for i in 0..self.len() {
            let l = r.get(i)?;
            if let Some(k) = wanted.get(l.key.as_slice()) {
                found.insert(*k, i);
            }
        }
        Ok(found)
    }
}

/// Reads entries of a [`FileList`] by position; reading them in order never seeks.
pub struct ListReader<'l> {
    list: &'l FileList,
    r: BufReader<fs_err::File>,
    pos: u64,
}

impl ListReader<'_> {
    /// The file at position `i`.
    pub fn get(&mut self, i: u32) -> Result<Listed> {
        let at = self.list.offsets[i as usize];
        if at != self.pos {
            // Within the buffer this only moves the cursor.
            self.r.seek_relative(at as i64 - self.pos as i64)?;
            self.pos = at;
        }
        self.read(i)
            .with_context(|| format!("cannot read the file list {}", self.list.path.display()))
    }

    fn read(&mut self, index: u32) -> Result<Listed> {
        let mut head = [0u8; 17];
        self.r.read_exact(&mut head)?;
        let path_len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
        let size = u64::from_le_bytes(head[4..12].try_into().expect("8 bytes"));
        let flags = head[12];
        let key_len = u32::from_le_bytes(head[13..].try_into().expect("4 bytes"));
        self.pos += head.len() as u64;
        let path: Box<Path> = if path_len == IN_MEMORY {
            self.list
                .kept
                .get(&index)
                .context("a listed path is missing")?
                .clone()
        } else {
            let mut bytes = vec![0u8; path_len as usize];
            self.r.read_exact(&mut bytes)?;
            self.pos += path_len as u64;
            path_from_bytes(bytes)
                .context("a listed path does not read back")?
                .into_boxed_path()
        };
        let key = if key_len > 0 {
            let mut key = vec![0u8; key_len as usize];
            self.r.read_exact(&mut key)?;
            self.pos += key_len as u64;
            key
        } else {
            path.as_os_str().as_encoded_bytes().to_vec()
        };
        let layout = if flags & 1 != 0 {
            Layout::Lines
        } else {
            Layout::Document
        };
        Ok(Listed {
            file: InputFile {
                path,
                index,
                size,
                layout,
                gzip_name: flags & 2 != 0,
            },
            key,
        })
    }
}

/// Whether [`path_from_bytes`] gives `path` back from its bytes.
fn spoolable(path: &Path) -> bool {
    cfg!(unix) || path.to_str().is_some()
}

/// A path from the bytes of `as_encoded_bytes`, where that is possible without `unsafe`.
#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> Option<PathBuf> {
    String::from_utf8(bytes).ok().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, index: u32, size: u64, layout: Layout, gzip_name: bool) -> InputFile {
        InputFile {
            path: Path::new(path).into(),
            index,
            size,
            layout,
            gzip_name,
        }
    }

    #[test]
    fn entries_read_back_in_order_and_at_random() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ListWriter::create(dir.path().join("sub/list.bin")).unwrap();
        let files = [
            file("/a/1.json", 0, 10, Layout::Document, false),
            file("rel/2.ndjson.gz", 1, 0, Layout::Lines, true),
            file("/a/3.json.gz", 2, u64::MAX, Layout::Document, true),
        ];
        let keys: [&[u8]; 3] = [b"/a/1.json", b"/cwd/rel/2.ndjson.gz", b"/a/3.json.gz"];
        for (f, k) in files.iter().zip(keys) {
            w.push(f, k).unwrap();
        }
        let list = w.finish().unwrap();
        assert_eq!(list.len(), 3);
        let mut r = list.reader().unwrap();
        let check = |l: Listed, i: usize| {
            let f = &files[i];
            assert_eq!(
                (&l.file.path, l.file.index, l.file.size, l.file.layout),
                (&f.path, f.index, f.size, f.layout)
            );
            assert_eq!(l.file.gzip_name, f.gzip_name);
            assert_eq!(l.key, keys[i]);
        };
        for i in [0, 1, 2, 1, 0, 2, 2] {
            check(r.get(i as u32).unwrap(), i);
        }
        let found = list
            .find_keys(&[b"/cwd/rel/2.ndjson.gz", b"/a/3.json.gz", b"/nowhere"])
            .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[b"/cwd/rel/2.ndjson.gz".as_slice()], 1);
        assert_eq!(found[b"/a/3.json.gz".as_slice()], 2);
    }

    #[test]
    fn the_last_file_of_a_key_listed_twice_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ListWriter::create(dir.path().join("list.bin")).unwrap();
        for i in 0..3 {
            let f = file("/a/same.json", i, 1, Layout::Document, false);
            w.push(&f, b"/a/same.json").unwrap();
        }
        let list = w.finish().unwrap();
        assert_eq!(
            list.find_keys(&[b"/a/same.json"]).unwrap()[b"/a/same.json".as_slice()],
            2
        );
    }

    #[test]
    #[cfg(unix)]
    fn a_path_that_is_not_utf8_reads_back_as_its_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let mut w = ListWriter::create(dir.path().join("list.bin")).unwrap();
        let name = std::ffi::OsStr::from_bytes(b"/a/caf\xe9.json");
        let f = InputFile {
            path: Path::new(name).into(),
            index: 0,
            size: 3,
            layout: Layout::Document,
            gzip_name: false,
        };
        w.push(&f, name.as_bytes()).unwrap();
        let list = w.finish().unwrap();
        assert!(list.kept.is_empty(), "spooled, not kept in memory");
        let l = list.reader().unwrap().get(0).unwrap();
        assert_eq!(l.file.path.as_os_str().as_bytes(), b"/a/caf\xe9.json");
        assert_eq!(l.key, b"/a/caf\xe9.json");
    }
}
