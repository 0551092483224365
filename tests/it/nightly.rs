//! Nightly operation: incremental runs equal a full rebuild, unchanged input is not parsed, a
//! damaged state is reported, the single-writer lock, crashes (named crash points and SIGKILL at
//! random moments) never break the last dataset, and full disks, read-only outputs and unreadable
//! inputs give clear errors.
#![cfg(unix)]

use crate::common::*;
use callrec::run::{flatten, FlattenConfig};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

const TABLES: [&str; 6] = [
    "calls",
    "participants",
    "segments",
    "sessions",
    "streams",
    "trace_route_hops",
];

/// A call id that is in no generated archive: its page arrives before its record.
const LATE_CALL: &str = "0b7e1d2c-0000-4000-8000-00000000ca11";

/// Writes a generated archive; returns its number of records.
fn gen(dir: &Path, bytes: u64, seed: u64) -> u64 {
    callrec::gen::generate(dir, bytes, seed).unwrap().records
}

/// A temp folder with a generated archive in `in/a`: (folder, input, output path).
fn setup(bytes: u64, seed: u64) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    gen(&input.join("a"), bytes, seed);
    (dir, input, out)
}

fn config(input: &Path, out: &Path) -> FlattenConfig {
    let mut c = FlattenConfig::new(vec![input.to_path_buf()], out.to_path_buf());
    c.threads = 2;
    c
}

fn run_lib(input: &Path, out: &Path) -> callrec::manifest::Manifest {
    let m = flatten(&config(input, out)).expect("flatten runs");
    let r = &m.records;
    assert_eq!(r.read, r.written + r.superseded + r.rejected, "{r:?}");
    m
}

fn bin() -> assert_cmd::Command {
    let mut c = callrec();
    c.arg("flatten").args(["-q", "-j", "2"]);
    if cfg!(feature = "report") {
        c.arg("--no-report");
    }
    c
}

/// `flatten` of `input` into `out` without `-q`: its notes on stderr.
fn verbose_bin(input: &Path, out: &Path) -> assert_cmd::Command {
    let mut c = callrec();
    c.args(["flatten", "--no-report"])
        .arg(input)
        .arg("--out")
        .arg(out);
    c
}

fn std_bin(input: &Path, out: &Path) -> StdCommand {
    let mut c = StdCommand::new(assert_cmd::cargo::cargo_bin("callrec"));
    c.arg("flatten").args(["-q", "-j", "2"]);
    if cfg!(feature = "report") {
        c.arg("--no-report");
    }
    c.arg(input).arg("--out").arg(out);
    c.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c
}

/// Every table's rows, canonically rendered and sorted.
fn rows(out: &Path) -> BTreeMap<&'static str, Vec<String>> {
    TABLES
        .iter()
        .map(|t| (*t, read_table(&out.join(t)).canonical_rows()))
        .collect()
}

fn manifest(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("_manifest.json")).unwrap()).unwrap()
}

/// The rejections as (path, position, kind, call id, reason), sorted.
fn error_set(out: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(out.join("_errors.ndjson"))
        .unwrap()
        .lines()
        .map(|l| {
            let e: Value = serde_json::from_str(l).unwrap();
            format!(
                "{}|{}|{}|{}|{}",
                e["path"], e["position"], e["kind"], e["call_id"], e["reason"]
            )
        })
        .collect();
    v.sort();
    v
}

/// Checks a published dataset as a reader would see it: a manifest and `_SUCCESS`, every part
/// file a complete Parquet file (its footer read), row and file counts as the manifest says,
/// each call id once. Returns the manifest's text.
fn check_dataset(out: &Path) -> String {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let text = std::fs::read_to_string(out.join("_manifest.json")).expect("a manifest");
    let m: Value = serde_json::from_str(&text).unwrap();
    assert!(out.join("_SUCCESS").exists());
    for t in TABLES {
        let (mut files, mut rows) = (0u64, 0i64);
        for e in walkdir::WalkDir::new(out.join(t)) {
            let e = e.unwrap();
            if e.path().extension().is_some_and(|x| x == "parquet") {
                let f = std::fs::File::open(e.path()).unwrap();
                let r = SerializedFileReader::new(f)
                    .unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
                rows += r.metadata().file_metadata().num_rows();
                files += 1;
            }
        }
        assert_eq!(
            files,
            m["tables"][t]["files"].as_u64().unwrap(),
            "{t} files"
        );
        assert_eq!(
            rows as u64,
            m["tables"][t]["rows"].as_u64().unwrap(),
            "{t} rows"
        );
    }
    let calls = read_table(&out.join("calls"));
    let mut ids = calls.str("call_id");
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "a call id is in the dataset more than once");
    text
}

/// The records of the single-record files under `dir`, in file name order.
fn single_records(dir: &Path) -> Vec<Value> {
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("callrecord-") && n.ends_with(".json")
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

fn write_json(path: &Path, v: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn child_page(call_id: &str, kind: &str, items: Vec<Value>) -> Value {
    json!({
        "@odata.context": format!(
            "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords('{call_id}')/{kind}"
        ),
        "value": items,
    })
}

fn id(rec: &Value) -> String {
    rec["id"].as_str().unwrap().to_owned()
}

fn bump(rec: &Value, by: i64) -> Value {
    let mut r = rec.clone();
    r["version"] = json!(r["version"].as_i64().unwrap() + by);
    r
}

/// Second night: new calls, a copy of a file already read, and a sessions page for a call of
/// the first night (merged into the dataset's call). Returns the number of new records.
fn night_b(input: &Path, seed: u64, bytes: u64) -> u64 {
    let a = single_records(&input.join("a"));
    assert!(a.len() >= 6, "generate a larger archive");
    let records = gen(&input.join("b"), bytes, seed);
    let first = walkdir::WalkDir::new(input.join("a"))
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    std::fs::copy(first, input.join("b/copy-of-a.json")).unwrap();
    let mut s = a[4]["sessions"][0].clone();
    s["id"] = json!("b-page-session");
    write_json(
        &input.join("b/page-for-a.json"),
        &child_page(&id(&a[4]), "sessions", vec![s]),
    );
    records
}

/// Third night: newer versions (one moved to another day, one whose page was merged the night
/// before), an older version, a page for a call already in the dataset with one duplicate item,
/// and a participants page whose call arrives only later.
fn night_c(input: &Path) {
    let a = single_records(&input.join("a"));
    let c = input.join("c");
    let mut newer = bump(&a[0], 1);
    if let Some(s) = newer["sessions"].as_array_mut() {
        s.truncate(1);
    }
    write_json(&c.join("1-newer.json"), &newer);
    let mut moved = bump(&a[1], 1);
    moved["startDateTime"] = json!("2026-10-09T10:00:00Z");
    moved["endDateTime"] = json!("2026-10-09T11:00:00Z");
    write_json(&c.join("2-newer-other-day.json"), &moved);
    write_json(&c.join("3-older.json"), &bump(&a[2], -5));
    let mut s = a[3]["sessions"][0].clone();
    s["id"] = json!("c-page-session");
    write_json(
        &c.join("4-page.json"),
        &child_page(&id(&a[3]), "sessions", vec![s, a[3]["sessions"][0].clone()]),
    );
    write_json(
        &c.join("5-page-before-its-call.json"),
        &child_page(
            LATE_CALL,
            "participants_v2",
            vec![
                json!({"id": "late-participant", "identity": {"user": {"id": "u-late", "displayName": "Late Person"}}}),
            ],
        ),
    );
    write_json(&c.join("6-newer-with-page.json"), &bump(&a[4], 1));
}

/// Fourth night: the call the waiting page belongs to.
fn night_d(input: &Path) {
    let a = single_records(&input.join("a"));
    let mut late = a[5].clone();
    late["id"] = json!(LATE_CALL);
    write_json(&input.join("d/late-call.json"), &late);
}

/// A full run over `input` into a fresh folder: the reference rows.
fn full_reference(input: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ref");
    run_lib(input, &out);
    (dir, out)
}

fn assert_same_as_full(out: &Path, input: &Path) {
    let (_d, reference) = full_reference(input);
    assert_eq!(
        rows(out),
        rows(&reference),
        "incremental rows differ from a full run"
    );
    assert_eq!(error_set(out), error_set(&reference));
    check_dataset(out);
}

#[test]
fn incremental_runs_equal_a_full_rebuild() {
    let (_dir, input, out) = setup(1_000_000, 11);

    let m = run_lib(&input, &out);
    assert_eq!(m.incremental.mode, "full");
    assert_eq!(m.incremental.full_reason, Some("no earlier dataset"));
    assert_eq!(m.incremental.generation, 1);
    let calls_a = m.incremental.calls;

    let new_records = night_b(&input, 12, 150_000);
    let m = run_lib(&input, &out);
    let i = &m.incremental;
    assert_eq!(i.mode, "incremental");
    assert_eq!(i.generation, 2);
    assert_eq!(i.previous_generation, Some(1));
    assert_eq!(m.files.read, i.files_new);
    // The first night's files and the copy of one of them are not parsed (files written
    // within two seconds of being read are hashed again, not parsed).
    assert!(i.files_same_content >= 1, "{i:?}");
    assert_eq!(m.records.read, new_records, "only the new records are read");
    assert_eq!(i.calls_replaced, 0);
    assert_eq!(m.child_pages["sessions"].merged, 1);
    assert_eq!(m.child_pages["sessions"].items_added, 1);
    assert!(i.parts_kept > 0, "unchanged part files are linked: {i:?}");
    assert_eq!(i.calls, calls_a + i.calls_added);
    assert_same_as_full(&out, &input);

    night_c(&input);
    let m = run_lib(&input, &out);
    let i = &m.incremental;
    assert_eq!(i.files_new, 6, "{i:?}");
    assert_eq!(i.calls_added, 0);
    assert_eq!(i.calls_replaced, 3);
    assert_eq!(i.records_older_than_dataset, 1);
    assert!(i.parts_rewritten > 0);
    let s = &m.child_pages["sessions"];
    assert_eq!((s.read, s.retried, s.merged), (1, 1, 2), "{s:?}");
    assert_eq!(s.items_duplicate, 1);
    let p = &m.child_pages["participants_v2"];
    assert_eq!((p.read, p.rejected), (1, 1));
    assert_eq!(i.errors_new, 1, "the page waiting for its call");
    assert_same_as_full(&out, &input);
    // The call that moved to another day is only in its new partition.
    let calls = read_table(&out.join("calls"));
    assert!(calls.dates.contains(&"2026-10-09".to_owned()));

    night_d(&input);
    let m = run_lib(&input, &out);
    let p = &m.child_pages["participants_v2"];
    assert_eq!(
        (p.read, p.retried, p.merged, p.rejected),
        (0, 1, 1, 0),
        "{p:?}"
    );
    assert_eq!(m.incremental.errors_new + m.incremental.errors_kept, 0);
    assert_same_as_full(&out, &input);

    // An archive gets pruned: the rows of a file that is gone stay.
    let before = rows(&out);
    let newer = std::fs::read(input.join("c/1-newer.json")).unwrap();
    std::fs::remove_file(input.join("b/copy-of-a.json")).unwrap();
    std::fs::remove_file(input.join("c/1-newer.json")).unwrap();
    let m = run_lib(&input, &out);
    assert_eq!(m.incremental.files_gone, 2);
    assert!(m.incremental.nothing_new);
    assert_eq!(rows(&out), before);
    check_dataset(&out);
    assert_eq!(leftovers(&out), Vec::<String>::new());
    // Gone files stay in the state with their keys (read back from the previous files.bin):
    // the next run counts them again, and a file put back is recognised, not read.
    let m = run_lib(&input, &out);
    assert_eq!(
        (m.incremental.files_gone, m.incremental.nothing_new),
        (2, true)
    );
    std::fs::write(input.join("c/1-newer.json"), newer).unwrap();
    let m = run_lib(&input, &out);
    assert_eq!(m.incremental.files_gone, 1);
    // Not new, and not read: recognised by its content. (Files written within two seconds of
    // the run that last saw them are hashed again and count here too, so this is a floor: on
    // a fast machine the last night's files still are.)
    assert_eq!(m.incremental.files_new, 0, "{:?}", m.incremental);
    assert!(m.incremental.files_same_content >= 1, "{:?}", m.incremental);
    assert_eq!(m.records.read, 0);
    assert!(m.incremental.nothing_new);
    assert_eq!(rows(&out), before);
    check_dataset(&out);
}

/// What a run's manifest says about its input and output, without times, paths and the part
/// file layout: how many part files two workers write depends on which files each one got
/// (they steal work from each other), not on the rows. A file written within two seconds of a
/// run is hashed again by the next (`files_same_content` instead of `files_unchanged`), so only
/// their sum is compared.
fn accounting(m: &callrec::manifest::Manifest) -> Value {
    let mut v = serde_json::to_value(m).unwrap();
    let inc = v["incremental"].as_object_mut().unwrap();
    let looked = ["files_unchanged", "files_same_content"].map(|k| inc.remove(k).unwrap());
    let sum = looked.iter().map(|n| n.as_u64().unwrap()).sum::<u64>();
    inc.insert("files_not_read".into(), sum.into());
    for k in ["parts_new", "parts_kept", "parts_rewritten"] {
        inc.remove(k).unwrap();
    }
    for t in v["tables"].as_object_mut().unwrap().values_mut() {
        t.as_object_mut().unwrap().remove("files").unwrap();
    }
    json!([
        v["files"],
        v["records"],
        v["child_pages"],
        v["tables"],
        v["errors"],
        v["incremental"]
    ])
}

#[test]
fn a_call_index_spilled_to_disk_gives_the_same_dataset() {
    // One output with the default index budget (nothing spills at this size), one where every
    // record spills a run file of its own, over the nights of the test above: duplicates
    // within and across workers, pages, newer and older versions against the dataset.
    let (dir, input, out) = setup(1_000_000, 11);
    let spilled = dir.path().join("spilled");
    let run_spilled = || {
        let mut c = config(&input, &spilled);
        c.index_budget = 1;
        flatten(&c).expect("flatten runs")
    };
    let nights: [&dyn Fn(); 4] = [
        &|| {
            // Other versions of calls of the archive, read in the same run: newer, older, and
            // the same version in other bytes (the earlier input position wins).
            let a = single_records(&input.join("a"));
            assert!(a.len() >= 6, "generate a larger archive");
            let d = input.join("a2");
            write_json(&d.join("1-newer.json"), &bump(&a[1], 1));
            write_json(&d.join("2-older.json"), &bump(&a[2], -1));
            let same = serde_json::to_string_pretty(&a[5]).unwrap() + "\n\n";
            std::fs::write(d.join("3-same.json"), same).unwrap();
        },
        &|| {
            night_b(&input, 12, 150_000);
        },
        &|| night_c(&input),
        &|| night_d(&input),
    ];
    let mut superseded = 0;
    for night in nights {
        night();
        let (a, b) = (run_lib(&input, &out), run_spilled());
        assert_eq!(accounting(&b), accounting(&a));
        assert_eq!(rows(&spilled), rows(&out));
        assert_eq!(error_set(&spilled), error_set(&out));
        check_dataset(&spilled);
        superseded += b.records.superseded;
    }
    assert!(superseded >= 5, "the nights hold duplicates: {superseded}");
    // The run files are gone: nothing of them in the output folder.
    let left: Vec<_> = walkdir::WalkDir::new(&spilled)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.components().any(|c| c.as_os_str() == ".index"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(leftovers(&spilled), Vec::<String>::new());
}

#[test]
fn unchanged_input_is_not_parsed_again() {
    let (_dir, input, out) = setup(300_000, 21);
    std::fs::write(input.join("a/bad.json"), "{ not json").unwrap();
    let first = run_lib(&input, &out);
    assert_eq!(first.incremental.errors_new, 1);
    let before = rows(&out);

    bin().arg(&input).arg("--out").arg(&out).assert().code(0);
    let m = manifest(&out);
    assert_eq!(m["incremental"]["nothing_new"], true);
    assert_eq!(m["files"]["read"], 0);
    assert_eq!(m["records"]["read"], 0);
    assert_eq!(m["incremental"]["generation"], 2);
    // The earlier rejection is still listed, but this run rejected nothing: exit 0.
    assert_eq!(m["errors"], 1);
    assert_eq!(m["incremental"]["errors_kept"], 1);
    assert_eq!(rows(&out), before);

    let a = verbose_bin(&input, &out).assert().code(0);
    let err = stderr_of(&a);
    assert!(err.contains("callrec: nothing new:"), "{err}");
    assert!(err.contains("none parsed"), "{err}");
    assert!(
        err.contains("rejections of earlier runs still listed"),
        "{err}"
    );

    // Touched (new modification time, same bytes): hashed, not parsed.
    let f = input.join("a/bad.json");
    std::fs::write(&f, std::fs::read(&f).unwrap()).unwrap();
    let m = run_lib(&input, &out);
    assert!(m.incremental.nothing_new);
    assert_eq!(m.files.read, 0);

    // Changed: read again; its old rejection is replaced by the new outcome.
    let mut one = single_records(&input.join("a")).remove(0);
    one["id"] = json!("0b7e1d2c-0000-4000-8000-0000000c4a9e");
    write_json(&f, &one);
    let m = run_lib(&input, &out);
    assert_eq!(m.incremental.files_changed, 1);
    assert_eq!(m.incremental.calls_added, 1);
    assert_eq!(m.errors, 0);
    assert_same_as_full(&out, &input);
}

#[test]
fn damaged_state_or_other_settings_need_full() {
    let (_dir, input, out) = setup(300_000, 31);
    run_lib(&input, &out);
    let good = check_dataset(&out);

    // Other settings: refused, the dataset stays.
    let a = bin()
        .arg(&input)
        .args(["--quality-profile", "cqd-legacy-5metric", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    let err = stderr_of(&a);
    assert!(
        err.contains("quality_profile: dataset cqd-current"),
        "{err}"
    );
    assert!(err.contains("--full"), "{err}");
    assert_eq!(check_dataset(&out), good);

    // A damaged call index is found when there is work to do.
    gen(&input.join("b"), 100_000, 32);
    let calls_bin = out.join("_current/_state/calls.bin");
    let mut b = std::fs::read(&calls_bin).unwrap();
    let n = b.len();
    b[n / 2] ^= 0x55;
    std::fs::remove_file(&calls_bin).unwrap(); // it may be a hard link shared with a snapshot
    std::fs::write(&calls_bin, b).unwrap();
    let a = bin().arg(&input).arg("--out").arg(&out).assert().code(2);
    let err = stderr_of(&a);
    assert!(err.contains("damaged") && err.contains("--full"), "{err}");
    assert_eq!(check_dataset(&out), good);

    // An unknown state version.
    let header = out.join("_current/_state/state.json");
    let h = std::fs::read_to_string(&header).unwrap();
    std::fs::remove_file(&header).unwrap();
    std::fs::write(
        &header,
        h.replace("\"state_version\": 1", "\"state_version\": 7"),
    )
    .unwrap();
    let a = bin().arg(&input).arg("--out").arg(&out).assert().code(2);
    let err = stderr_of(&a);
    assert!(
        err.contains("format version 7") && err.contains("--full"),
        "{err}"
    );

    // --full rebuilds from all inputs.
    let a = bin()
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .arg("--full")
        .assert()
        .code(0);
    let _ = a;
    let m = manifest(&out);
    assert_eq!(m["incremental"]["mode"], "full");
    assert_eq!(m["incremental"]["full_reason"], "--full");
    assert_same_as_full(&out, &input);
    assert_no_name_reused(&out);
    // And the next run is incremental again.
    let m = run_lib(&input, &out);
    assert!(m.incremental.nothing_new);
}

#[test]
fn legacy_dataset_is_rebuilt_into_snapshots() {
    let (dir, input, out) = setup(200_000, 41);
    run_lib(&input, &out);
    // The layout of callrec before snapshots: real table folders and files in DIR.
    let legacy = dir.path().join("legacy");
    std::fs::create_dir_all(&legacy).unwrap();
    for e in walkdir::WalkDir::new(out.join("_current")).min_depth(1) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(out.join("_current")).unwrap();
        if rel.starts_with("_state") || rel == Path::new("_SUCCESS") {
            continue;
        }
        let dst = legacy.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
    let m = run_lib(&input, &legacy);
    assert_eq!(m.incremental.mode, "full");
    assert_eq!(
        m.incremental.full_reason,
        Some("the earlier dataset was written without incremental state")
    );
    for t in TABLES {
        assert!(std::fs::symlink_metadata(legacy.join(t))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert_eq!(rows(&legacy), rows(&out));
    let names: Vec<String> = std::fs::read_dir(&legacy)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".callrec"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn second_run_on_the_same_output_is_refused() {
    let (_dir, input, out) = setup(100_000, 51);
    run_lib(&input, &out);
    let good = check_dataset(&out);
    let lock = callrec::lock::Lock::acquire(&out).unwrap();
    gen(&input.join("b"), 100_000, 52);
    let a = bin().arg(&input).arg("--out").arg(&out).assert().code(2);
    let err = stderr_of(&a);
    assert!(
        err.contains("another callrec run is writing to")
            && err.contains(&format!("pid {} on host", std::process::id())),
        "{err}"
    );
    assert_eq!(check_dataset(&out), good);
    drop(lock);
    bin().arg(&input).arg("--out").arg(&out).assert().code(0);
    assert!(!out.join(".callrec.lock").exists());
}

#[test]
fn lock_of_a_dead_run_is_taken_over() {
    let (_dir, input, out) = setup(100_000, 61);
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join(".callrec.lock"),
        "pid 4194000 on host night-box since 2026-11-01T02:00:00Z",
    )
    .unwrap();
    let a = verbose_bin(&input, &out).assert().code(0);
    let err = stderr_of(&a);
    assert!(
        err.contains("took over the lock") && err.contains("pid 4194000 on host night-box"),
        "{err}"
    );
    let notes = manifest(&out)["notes"].to_string();
    assert!(notes.contains("took over the lock"), "{notes}");
}

/// What a reader sees, checked with [`check_dataset`]: the manifest's text and the calls.
/// (Every row of every table is compared once at the end of each test.)
fn seen(out: &Path) -> (String, Vec<String>) {
    (
        check_dataset(out),
        read_table(&out.join("calls")).canonical_rows(),
    )
}

/// What interrupted runs left: staging folders, the lock, snapshots never published.
fn leftovers(out: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".callrec"))
        .collect();
    let current = std::fs::read_link(out.join("_current")).unwrap();
    let current: u64 = current
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    for e in std::fs::read_dir(out.join("_snapshots")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.parse::<u64>().map_or(true, |g| g > current) {
            v.push(format!("_snapshots/{name}"));
        }
    }
    assert_no_name_reused(out);
    v
}

/// A part file name found in two snapshots is the same file (a hard link): names are never
/// reused with other content, so a reader holding a list of names never reads a wrong file.
fn assert_no_name_reused(out: &Path) {
    use std::os::unix::fs::MetadataExt;
    let mut seen: BTreeMap<PathBuf, u64> = BTreeMap::new();
    for snap in std::fs::read_dir(out.join("_snapshots")).unwrap() {
        let snap = snap.unwrap().path();
        for e in walkdir::WalkDir::new(&snap) {
            let e = e.unwrap();
            if e.path().extension().is_some_and(|x| x == "parquet") {
                let rel = e.path().strip_prefix(&snap).unwrap().to_path_buf();
                let ino = e.metadata().unwrap().ino();
                if let Some(other) = seen.insert(rel.clone(), ino) {
                    assert_eq!(other, ino, "{} reused with other content", rel.display());
                }
            }
        }
    }
}

#[test]
fn crash_at_every_step_keeps_the_last_dataset() {
    if !cfg!(debug_assertions) {
        eprintln!("skipped: the crash points exist in debug builds only");
        return;
    }
    let (_dir, input, out) = setup(1_000_000, 71);
    bin().arg(&input).arg("--out").arg(&out).assert().code(0);
    let before = seen(&out);
    let _ = night_b(&input, 72, 200_000);
    night_c(&input);
    let (_r, reference) = full_reference(&input);
    let after = seen(&reference).1;

    for step in callrec::crashpoint::STEPS {
        let target = match *step {
            "file" => "file#3".to_owned(),
            s => s.to_owned(),
        };
        let status = std_bin(&input, &out)
            .env("CALLREC_TEST_CRASH_AT", &target)
            .status()
            .unwrap();
        assert_eq!(
            status.code(),
            None,
            "the run was to die at {target}: {status:?}"
        );
        match *step {
            // The new snapshot was published just before the crash.
            "pointer" | "cleaned" => assert_eq!(seen(&out).1, after, "after a crash at {step}"),
            _ => assert_eq!(seen(&out), before, "after a crash at {step}"),
        }
    }
    // The next run cleans up and completes (here: nothing new since "pointer" published).
    let a = verbose_bin(&input, &out).assert().code(0); // the page still waiting for its call was rejected by an earlier run
    let err = stderr_of(&a);
    assert!(err.contains("took over the lock"), "{err}");
    assert_eq!(rows(&out), rows(&reference));
    assert_eq!(leftovers(&out), Vec::<String>::new());
}

#[test]
fn sigkill_at_random_moments_keeps_the_last_dataset() {
    let (dir, input, out) = setup(1_000_000, 81);
    bin().arg(&input).arg("--out").arg(&out).assert().code(0);
    let mut last = seen(&out);
    let _ = night_b(&input, 82, 200_000);
    night_c(&input);
    let (_r, reference) = full_reference(&input);
    let after = seen(&reference).1;
    // How long an uninterrupted run takes here, to spread the kills over it.
    let t = std::time::Instant::now();
    let tmp_out = dir.path().join("timing");
    std_bin(&input, &tmp_out).status().unwrap();
    let span = t.elapsed().as_secs_f64() * 1.5;

    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut published = None;
    for k in 0..6 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let jitter = (rng % 1000) as f64 / 1000.0;
        let delay = span * (k as f64 + jitter) / 6.0;
        let mut child = std_bin(&input, &out).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_secs_f64(delay));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = seen(&out);
        if now != last {
            assert_eq!(
                now.1, after,
                "killed after {delay:.3} s: neither old nor new"
            );
            published.get_or_insert(k);
            last = now;
        }
    }
    // Whatever the kills left, the next run completes with the rows of a clean run.
    let status = std_bin(&input, &out).status().unwrap();
    // 1 when this run reads the page waiting for its call, 0 when a killed run published it.
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
    check_dataset(&out);
    assert_eq!(rows(&out), rows(&reference));
    assert_eq!(leftovers(&out), Vec::<String>::new());
    eprintln!("the run killed at moment {published:?} of 0..6 had published");
}

#[test]
fn unusable_output_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    gen(&input.join("a"), 50_000, 91);
    // No such folder can be created under /proc; a path below a regular file neither.
    let a = bin()
        .arg(&input)
        .args(["--out", "/proc/callrec-test/out"])
        .assert()
        .code(2);
    assert!(
        stderr_of(&a).contains("cannot create the output folder"),
        "{}",
        stderr_of(&a)
    );
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let a = bin()
        .arg(&input)
        .arg("--out")
        .arg(file.join("out"))
        .assert()
        .code(2);
    assert!(stderr_of(&a).contains("cannot create the output folder"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn unreadable_inputs_are_listed_and_the_run_goes_on() {
    let (dir, input, out) = setup(100_000, 92);
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("nowhere.json"), input.join("dangling.json"))
        .unwrap();
    let fifo = input.join("pipe.json");
    let made = StdCommand::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    std::fs::create_dir_all(input.join("folder.json")).unwrap();
    let a = bin().arg(&input).arg("--out").arg(&out).assert().code(1);
    let _ = a;
    let errors = error_set(&out);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("dangling.json") && e.contains("cannot read")),
        "{errors:?}"
    );
    if made {
        assert!(
            errors
                .iter()
                .any(|e| e.contains("pipe.json") && e.contains("not a regular file")),
            "{errors:?}"
        );
    }
    assert!(manifest(&out)["records"]["written"].as_u64().unwrap() > 0);
    check_dataset(&out);

    // No input at all can be read: exit 2, nothing published.
    let out2 = dir.path().join("out2");
    let a = bin()
        .arg(dir.path().join("missing"))
        .arg("--out")
        .arg(&out2)
        .assert()
        .code(2);
    assert!(stderr_of(&a).contains("no input can be read"));
    assert!(!out2.exists());
}

/// A small tmpfs mounted for one test (needs root and a kernel that allows it), unmounted on
/// drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).unwrap();
        let ok = StdCommand::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(path.to_path_buf()))
    }
    fn remount(&self, opt: &str) {
        let ok = StdCommand::new("mount")
            .args(["-o", &format!("remount,{opt}")])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = StdCommand::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn disk_full_and_read_only_output_exit_2_and_keep_the_last_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    gen(&input.join("a"), 300_000, 93);
    let Some(fs) = Tmpfs::mount(&dir.path().join("mnt"), "1m") else {
        eprintln!("skipped: cannot mount a tmpfs here (disk full is documented in the README)");
        return;
    };
    let out = fs.0.join("out");
    bin().arg(&input).arg("--out").arg(&out).assert().code(0);
    let good = seen(&out);

    gen(&input.join("b"), 4_000_000, 94);
    let a = bin().arg(&input).arg("--out").arg(&out).assert().code(2);
    let err = stderr_of(&a);
    assert!(
        err.contains("No space left on device") && err.contains("is full"),
        "{err}"
    );
    assert_eq!(seen(&out), good);
    assert_eq!(leftovers(&out), Vec::<String>::new());

    fs.remount("ro");
    let a = bin().arg(&input).arg("--out").arg(&out).assert().code(2);
    let err = stderr_of(&a);
    assert!(err.contains("read-only file system"), "{err}");
    assert_eq!(seen(&out), good);
    fs.remount("rw");

    // With the space back, the next run completes.
    std::fs::remove_dir_all(input.join("b")).unwrap();
    gen(&input.join("b"), 100_000, 94);
    bin().arg(&input).arg("--out").arg(&out).assert().code(0);
    assert_same_as_full(&out, &input);
}
