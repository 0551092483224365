//! The report from the command line: written by `flatten`, skipped with `--no-report`, and
//! `callrec report` over an existing dataset (the figures are tested in the report crate).

use crate::common::*;

fn summary(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn flatten_writes_the_report_and_no_report_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let a = callrec()
        .arg("flatten")
        .arg(root().join("sample-data"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let stderr = stderr_of(&a);
    assert!(stderr.contains("report (cqd-current)"), "{stderr}");
    let reports = out.join("reports");
    for f in [
        "summary.json",
        "summary.md",
        "report.html",
        "by_day.csv",
        "targets.parquet",
    ] {
        assert!(reports.join(f).is_file(), "{f}");
    }
    let s = summary(&reports);
    assert_eq!(s["quality_profile"], "cqd-current");
    assert_eq!(s["overview"]["calls"], 14, "the manifest's records.written");

    let a = callrec()
        .arg("flatten")
        .arg(root().join("sample-data"))
        .arg("--out")
        .arg(&out)
        .arg("--no-report")
        .assert()
        .code(0);
    let stderr = stderr_of(&a);
    assert!(stderr.contains("removed the earlier report"), "{stderr}");
    assert!(!reports.exists());
}

#[test]
fn report_subcommand_and_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    callrec()
        .args(["flatten", "-q", "--no-report", "--out"])
        .arg(&out)
        .arg(root().join("sample-data"))
        .assert()
        .code(0);
    let elsewhere = dir.path().join("rep");
    callrec()
        .args(["report", "-q", "--min-streams", "1", "--top", "3"])
        .arg(&out)
        .arg("--out")
        .arg(&elsewhere)
        .assert()
        .code(0);
    let s = summary(&elsewhere);
    assert_eq!(s["settings"]["min_streams"], 1);
    assert!(s["worst_subnets"].as_array().unwrap().len() <= 3);
    assert!(!out.join("reports").exists());
    // The runs were computed and cached in the dataset; a second report reads them all from
    // the cache, with other settings, and says so.
    let runs = s["runs"]["total"].as_u64().unwrap();
    assert!(runs >= 1);
    assert_eq!(s["runs"]["from_cache"], 0);
    assert!(out.join(".callrec-report-cache").is_dir());
    let a = callrec()
        .args(["report", "--top", "1"])
        .arg(&out)
        .arg("--out")
        .arg(&elsewhere)
        .assert()
        .code(0);
    let stderr = stderr_of(&a);
    let unit = if runs == 1 { "run" } else { "runs" };
    let said = format!("({runs} {unit} of partitions, {runs} from the cache)");
    assert!(stderr.contains(&said), "{stderr}");
    let s = summary(&elsewhere);
    assert!(s["worst_subnets"].as_array().unwrap().len() <= 1);

    // Not a dataset: exit 2 with the reason.
    let a = callrec().arg("report").arg(dir.path()).assert().code(2);
    let stderr = stderr_of(&a);
    assert!(stderr.contains("not a callrec dataset"), "{stderr}");
    // A folder that is not a report is never replaced.
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("keep.txt"), "x").unwrap();
    let a = callrec()
        .arg("report")
        .arg(&out)
        .arg("--out")
        .arg(&foreign)
        .assert()
        .code(2);
    let stderr = stderr_of(&a);
    assert!(stderr.contains("not a callrec report folder"), "{stderr}");
    assert!(foreign.join("keep.txt").is_file());
}
