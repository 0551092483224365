//! Hostile and broken input (tests/fixtures/hostile/, a symlink loop, the output folder inside
//! the input folder): each rejected input gets a clear error entry, the run goes on, no panic,
//! no good record lost, and the manifest balances.

use crate::common::*;
use callrec::decode::Limits;
use callrec::run::{flatten, FlattenConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The cap the hostile fixtures are run with (`--max-document-mb 1`).
const CAP: u64 = 1 << 20;

fn run_capped(inputs: &[PathBuf], out: &Path) -> callrec::manifest::Manifest {
    let mut cfg = FlattenConfig::new(inputs.to_vec(), out.to_path_buf());
    cfg.threads = 2;
    cfg.limits = Limits {
        max_document_bytes: CAP,
    };
    let m = flatten(&cfg).expect("flatten runs");
    let r = &m.records;
    assert_eq!(r.read, r.written + r.superseded + r.rejected, "{r:?}");
    m
}

fn errors(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("_errors.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Error entries by file name: (position, reason).
fn errors_by_file(out: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let mut m: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for e in errors(out) {
        let name = Path::new(e["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        m.entry(name).or_default().push((
            e["position"].as_str().unwrap().to_owned(),
            e["reason"].as_str().unwrap().to_owned(),
        ));
    }
    m
}

fn call_ids(out: &Path) -> Vec<String> {
    let mut ids: Vec<String> = read_table(&out.join("calls"))
        .str("call_id")
        .into_iter()
        .flatten()
        .collect();
    ids.sort();
    ids
}

/// The good records among the hostile fixtures: each must be written.
const GOOD_IDS: [&str; 8] = [
    "hostile-bomb-line-1",
    "hostile-bomb-line-3",
    "hostile-deep-inside",
    "hostile-utf8-line-1",
    "hostile-utf8-line-3",
    "hostile-gz-line-1",
    "hostile-gz-line-3",
    "hostile-huge-duration",
];

#[test]
fn hostile_fixtures_are_each_reported_and_good_records_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let m = run_capped(&[fixture("hostile")], &out);
    let errs = errors_by_file(&out);
    let one = |file: &str| -> (String, String) {
        let e = errs
            .get(file)
            .unwrap_or_else(|| panic!("no error entry for {file}: {errs:#?}"));
        assert_eq!(e.len(), 1, "{file}: {e:?}");
        e[0].clone()
    };
    let expect = |file: &str, position: &str, reason: &str| {
        let (p, r) = one(file);
        assert_eq!(p, position, "{file}: {r}");
        assert!(r.contains(reason), "{file}: {r:?} lacks {reason:?}");
    };
    let limit = format!("document is larger than the limit of {CAP} bytes");
    expect("gzip-bomb.json.gz", "file", &limit);
    // The oversized line is skipped without being held in memory; the lines after it are read.
    expect(
        "gzip-bomb-line.ndjson.gz",
        "line 2",
        &format!("line is larger than the limit of {CAP} bytes"),
    );
    expect(
        "deep-array.json",
        "line 1, column 1, value[0]",
        "not a valid call record: invalid type: sequence",
    );
    expect("deep-object.json", "line 1", "it has no `id`");
    expect(
        "huge-integer.json",
        "line 1, column 59",
        "expected an integer, got 100000000000000000000",
    );
    expect(
        "huge-integer-string.json",
        "line 1, column 68",
        "expected an integer, got the string \"99999999999999999999\"",
    );
    expect(
        "huge-float.json",
        "line 1, column 586",
        "number out of range",
    );
    expect(
        "huge-digits.json",
        "line 1, column 1009",
        "number out of range",
    );
    expect(
        "invalid-utf8.json",
        "line 1, column 639",
        "invalid UTF-8 at byte 638",
    );
    expect(
        "invalid-utf8-line.ndjson",
        "line 2, column 53",
        "invalid UTF-8",
    );
    expect(
        "lone-surrogate.json",
        "line 1, column 43",
        "not a valid call record",
    );
    expect(
        "broken-line.ndjson.gz",
        "line 2, column 150",
        "truncated JSON",
    );
    expect("truncated.ndjson.gz", "file", "cannot read file");
    expect(
        "corrupt.json.gz",
        "file",
        "cannot read file: corrupt deflate stream",
    );
    assert_eq!(errs.len(), 14, "{errs:#?}");

    // Every good record is written; nothing of a rejected record is.
    let ids = call_ids(&out);
    for id in GOOD_IDS {
        assert!(ids.contains(&id.to_owned()), "{id} missing from {ids:?}");
    }
    let unexpected: Vec<&String> = ids
        .iter()
        .filter(|id| !id.starts_with("hostile-gz-truncated-") && !GOOD_IDS.contains(&id.as_str()))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    assert_eq!(m.records.written, ids.len() as u64);
    assert_eq!(m.records.rejected, 14);
    // Each written record is whole: its session, segment and stream rows are there.
    for t in ["sessions", "segments", "streams"] {
        assert_eq!(read_table(&out.join(t)).rows(), ids.len(), "{t}");
    }
    let streams = read_table(&out.join("streams"));
    let i = streams.find("call_id", "hostile-huge-duration");
    assert_eq!(streams.f64("average_jitter_ms")[i], Some(1e23));
    // The deep feedback tokens could not be parsed into a list, but their text is kept.
    let sessions = read_table(&out.join("sessions"));
    let i = sessions.find("call_id", "hostile-deep-inside");
    assert_eq!(sessions.list("caller_feedback_tokens")[i], None);
    assert!(sessions.str("caller_feedback_tokens_json")[i]
        .as_deref()
        .unwrap()
        .starts_with("{\"x\":{\"a\":{\"a\":"));
    assert_eq!(
        sessions.str("caller_feedback_rating")[i].as_deref(),
        Some("poor")
    );
}

/// The committed fixtures are what generate.py writes (nobody edited them by hand).
#[test]
fn hostile_readme_lists_every_fixture() {
    let dir = fixture("hostile");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name != "README.md" && name != "generate.py" {
            assert!(
                readme.contains(&format!("| `{name}` |")),
                "{name} is not in README.md"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_dangling_links_are_reported_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("a/b")).unwrap();
    std::fs::copy(fixture("good/minimal.json"), input.join("a/b/minimal.json")).unwrap();
    std::fs::copy(fixture("good/p2p-full.json"), input.join("z.json")).unwrap();
    // a/b/loop -> in: walking it would never end.
    std::os::unix::fs::symlink(&input, input.join("a/b/loop")).unwrap();
    // A relative loop too, and a link to nowhere.
    std::os::unix::fs::symlink("..", input.join("a/up")).unwrap();
    std::os::unix::fs::symlink("missing.json", input.join("a/dangling.json")).unwrap();
    let out = dir.path().join("out");
    let m = run_capped(std::slice::from_ref(&input), &out);
    assert_eq!(m.records.written, 2, "{:?}", m.records);
    assert_eq!(
        call_ids(&out),
        vec![
            "521e33bf-880f-466c-8908-ea2ed5c0060d".to_owned(),
            "7d1d5b0a-c9c3-478c-983f-2c96be6c61bc".to_owned()
        ]
    );
    let errs = errors(&out);
    let reasons: Vec<String> = errs
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["path"].as_str().unwrap(),
                e["reason"].as_str().unwrap()
            )
        })
        .collect();
    let loops = reasons
        .iter()
        .filter(|r| r.contains("File system loop found"))
        .count();
    assert_eq!(loops, 2, "{reasons:#?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("dangling.json") && r.contains("cannot read")),
        "{reasons:#?}"
    );
    assert_eq!(errs.len(), 3, "{reasons:#?}");
    assert_eq!(m.records.rejected, 3);
}

/// The output folder inside the input folder (directly, and through a symlink) is never read:
/// a second and third run see exactly the same input as the first, although the dataset holds
/// JSON files (`_manifest.json`, the reports' `summary.json`).
#[test]
fn output_folder_inside_the_input_folder_is_never_read() {
    use assert_cmd::Command;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(fixture("good/p2p-full.json"), input.join("p2p.json")).unwrap();
    let out = input.join("out");
    let run_cli = |out: &Path| -> serde_json::Value {
        Command::cargo_bin("callrec")
            .unwrap()
            .args(["flatten", "-q", "--out"])
            .arg(out)
            .arg(&input)
            .assert()
            .code(0);
        serde_json::from_str(&std::fs::read_to_string(out.join("_manifest.json")).unwrap()).unwrap()
    };
    let first = run_cli(&out);
    assert_eq!(first["files"]["discovered"], 1, "{first:#}");
    assert!(out.join("_manifest.json").exists());
    for _ in 0..2 {
        let m = run_cli(&out);
        assert_eq!(m["files"]["discovered"], 1, "{m:#}");
        assert_eq!(m["errors"], 0, "{m:#}");
        assert_eq!(m["tables"]["calls"]["rows"], 1);
    }
    // An output folder outside the input folder, reached from inside it through a symlink, and
    // named with `..`: not read either.
    #[cfg(unix)]
    {
        std::fs::remove_dir_all(&out).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, input.join("link-to-out")).unwrap();
        for _ in 0..2 {
            let m = run_cli(&input.join("..").join("elsewhere"));
            assert_eq!(m["files"]["discovered"], 1, "{m:#}");
            assert_eq!(m["errors"], 0, "{m:#}");
        }
    }
}

/// A file whose name is not UTF-8 (a Unix name is any bytes but `/` and NUL) goes through the
/// run's spooled file list like any other: read, named in the error report, and remembered by
/// the incremental state.
#[test]
#[cfg(unix)]
fn file_names_that_are_not_utf8_are_read_reported_and_remembered() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let good = input.join(std::ffi::OsStr::from_bytes(b"caf\xe9-call.json"));
    std::fs::copy(fixture("good/minimal.json"), &good).unwrap();
    let bad = input.join(std::ffi::OsStr::from_bytes(b"broken-\xff.json"));
    std::fs::write(&bad, "{\"id\": ").unwrap();
    let out = dir.path().join("out");
    let m = run_capped(std::slice::from_ref(&input), &out);
    assert_eq!((m.records.written, m.records.rejected), (1, 1));
    assert_eq!(m.files.read, 2);
    let errs = errors(&out);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["path"], bad.to_string_lossy().as_ref());
    // The next run reads neither again and keeps the error.
    let m = run_capped(&[input], &out);
    let i = &m.incremental;
    assert_eq!(i.mode, "incremental");
    assert_eq!((m.files.read, i.files_new, i.files_changed), (0, 0, 0));
    assert_eq!(i.files_unchanged + i.files_same_content, 2, "{i:?}");
    assert_eq!((i.errors_new, i.errors_kept), (0, 1));
    assert_eq!(call_ids(&out).len(), 1);
}
