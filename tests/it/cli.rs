//! The binary: exit codes for cron, and nothing published on a fatal error.

use crate::common::*;

#[test]
fn exit_0_on_sample_data_with_summary() {
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
    assert!(
        stderr.contains("records: 15 read = 14 written + 1 superseded + 0 rejected"),
        "{stderr}"
    );
    assert!(out.join("_manifest.json").exists());
    assert!(out.join("streams").is_dir());
    // A second run replaces the dataset in place.
    callrec()
        .arg("flatten")
        .arg(root().join("sample-data"))
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .assert()
        .code(0);
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // The report cache is the one dot-folder meant to stay.
        .filter(|n| n.starts_with('.') && n != ".callrec-report-cache")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn exit_1_when_input_was_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let a = callrec()
        .arg("flatten")
        .arg(fixture("bad"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1);
    let stderr = stderr_of(&a);
    assert!(stderr.contains("inputs rejected: see"), "{stderr}");
    assert!(out.join("_errors.ndjson").exists());
}

#[test]
fn exit_2_on_bad_usage() {
    callrec().assert().code(2);
    callrec().arg("flatten").arg("x").assert().code(2);
    callrec()
        .args(["flatten", "x", "--out", "y", "--threads", "0"])
        .assert()
        .code(2);
}

#[test]
fn exit_2_and_nothing_written_when_output_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let a = callrec()
        .arg("flatten")
        .arg(root().join("sample-data"))
        .arg("--out")
        .arg(&file)
        .assert()
        .code(2);
    assert!(stderr_of(&a).contains("is not a folder"));

    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let a = callrec()
        .arg("flatten")
        .arg(root().join("sample-data"))
        .arg("--out")
        .arg(&foreign)
        .assert()
        .code(2);
    assert!(stderr_of(&a).contains("holds no callrec dataset"));
    let names: Vec<_> = std::fs::read_dir(&foreign)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("notes.txt")]);
}

#[test]
fn schema_command_prints_every_table() {
    let a = callrec().arg("schema").assert().code(0);
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    for t in callrec::schema::Table::ALL {
        assert!(
            text.contains(&format!("### `{}`", t.name())),
            "{}",
            t.name()
        );
    }
    assert!(text.contains("| `average_jitter_ms` | double | ms |  | mediaStream.averageJitter |"));
    assert!(text.contains("| `identity_user_principal_name` | string |  | upn | "));
}
