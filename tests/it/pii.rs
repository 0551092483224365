//! `--pii keep|hash|drop`: the personal columns get pseudonyms or nulls, everything else is
//! untouched, the schema is the same in every mode, and the manifest records the mode.

use crate::common::*;
use assert_cmd::Command;
use callrec::pii::{PiiMode, PiiPolicy, Pseudonymizer};
use callrec::run::{flatten, FlattenConfig};
use callrec::schema::{ColType, Table as T};
use std::path::PathBuf;

fn run_pii(inputs: &[PathBuf], pii: PiiPolicy) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = FlattenConfig::new(inputs.to_vec(), dir.path().join("out"));
    // One thread: the same part layout, so rows line up across runs.
    cfg.threads = 1;
    cfg.pii = pii;
    let manifest = flatten(&cfg).expect("flatten runs");
    let r = &manifest.records;
    assert_eq!(r.read, r.written + r.superseded + r.rejected, "{r:?}");
    Run { dir, manifest }
}

fn hash_policy(salt: &str) -> PiiPolicy {
    PiiPolicy::new(PiiMode::Hash, Some(salt)).unwrap()
}

fn inputs() -> Vec<PathBuf> {
    vec![fixture("good"), root().join("sample-data")]
}

/// Every personal column of every table: (table, column) with its values in each run.
fn personal_columns() -> Vec<(T, &'static str)> {
    let mut out = Vec::new();
    for t in T::ALL {
        for c in t.columns() {
            if c.pii.is_some() {
                out.push((t, c.name.as_str()));
            }
        }
    }
    out
}

#[test]
fn hash_keep_and_drop_transform_exactly_the_personal_columns() {
    let keep = run_pii(&inputs(), PiiPolicy::Keep);
    let hash = run_pii(&inputs(), hash_policy("salt-one"));
    let hash2 = run_pii(&inputs(), hash_policy("salt-two"));
    let drop = run_pii(&inputs(), PiiPolicy::Drop);
    let h1 = Pseudonymizer::new("salt-one");

    assert_eq!(keep.manifest.pii, "keep");
    assert_eq!(hash.manifest.pii, "hash");
    assert_eq!(drop.manifest.pii, "drop");
    assert_eq!(keep.manifest.pii_key_id, None);
    assert_eq!(hash.manifest.pii_key_id, Some(h1.key_id()));
    assert_ne!(hash.manifest.pii_key_id, hash2.manifest.pii_key_id);
    let manifest_text = std::fs::read_to_string(hash.out().join("_manifest.json")).unwrap();
    assert!(
        !manifest_text.contains("salt-one"),
        "the salt never reaches the manifest"
    );

    let mut seen_values = 0;
    for t in T::ALL {
        let (k, h, h2, d) = (
            keep.table(t.name()),
            hash.table(t.name()),
            hash2.table(t.name()),
            drop.table(t.name()),
        );
        assert_eq!(k.rows(), h.rows(), "{}", t.name());
        assert_eq!(k.rows(), d.rows(), "{}", t.name());
        if k.rows() == 0 {
            continue;
        }
        // The same schema in every mode.
        let schema = k.batch.as_ref().unwrap().schema();
        assert_eq!(schema, h.batch.as_ref().unwrap().schema());
        assert_eq!(schema, d.batch.as_ref().unwrap().schema());
        for c in t.columns() {
            let name = c.name.as_str();
            if c.pii.is_none() {
                // Non-personal columns: untouched, in every mode.
                if c.ty == ColType::Utf8 {
                    assert_eq!(k.str(name), h.str(name), "{}.{name}", t.name());
                    assert_eq!(k.str(name), d.str(name), "{}.{name}", t.name());
                }
                continue;
            }
            let (kv, hv, h2v, dv) = (k.str(name), h.str(name), h2.str(name), d.str(name));
            for i in 0..kv.len() {
                assert_eq!(dv[i], None, "drop: {}.{name} row {i}", t.name());
                match kv[i].as_deref() {
                    None => assert_eq!(hv[i], None),
                    Some("") => assert_eq!(hv[i].as_deref(), Some("")),
                    Some(raw) => {
                        seen_values += 1;
                        let got = hv[i].as_deref().unwrap();
                        assert_eq!(got, h1.hash(raw), "{}.{name} row {i}", t.name());
                        assert_ne!(got, raw);
                        assert_eq!(got.len(), 32);
                        assert!(got.bytes().all(|b| b.is_ascii_hexdigit()));
                        assert_ne!(hv[i], h2v[i], "another salt, another pseudonym");
                    }
                }
            }
        }
        // Whole rows other than the personal columns: equal (covers every column type).
        let strip = |tab: &Table| -> Vec<String> {
            let b = tab.batch.as_ref().unwrap();
            let keep_idx: Vec<usize> = t
                .columns()
                .iter()
                .enumerate()
                .filter(|(_, c)| c.pii.is_none())
                .map(|(i, _)| i)
                .collect();
            let projected = b.project(&keep_idx).unwrap();
            Table {
                batch: Some(projected),
                dates: tab.dates.clone(),
            }
            .canonical_rows()
        };
        assert_eq!(strip(&k), strip(&h), "{}", t.name());
        assert_eq!(strip(&k), strip(&d), "{}", t.name());
    }
    assert!(
        seen_values > 100,
        "the inputs fill personal columns: {seen_values}"
    );
    assert!(!personal_columns().is_empty());
}

#[test]
fn pseudonyms_still_join_across_tables() {
    let keep = run_pii(&[fixture("good/p2p-full.json")], PiiPolicy::Keep);
    let hash = run_pii(&[fixture("good/p2p-full.json")], hash_policy("s"));
    let h = Pseudonymizer::new("s");
    let raw_name = keep.table("calls").str("organizer_display_name")[0].clone();
    assert_eq!(raw_name.as_deref(), Some("Alex Caller"));
    assert_eq!(
        hash.table("calls").str("organizer_display_name")[0].as_deref(),
        Some(h.hash("Alex Caller").as_str())
    );
    // Participants' ids meet the segments' caller ids after hashing just as before.
    let ids = |r: &Run| -> (Vec<Option<String>>, Vec<Option<String>>) {
        (
            r.table("participants").str("participant_id"),
            r.table("segments").str("caller_participant_id"),
        )
    };
    let (kp, ks) = ids(&keep);
    let (hp, hs) = ids(&hash);
    let joins = |p: &[Option<String>], s: &[Option<String>]| -> usize {
        s.iter().filter(|x| x.is_some() && p.contains(x)).count()
    };
    assert!(joins(&kp, &ks) > 0);
    assert_eq!(joins(&kp, &ks), joins(&hp, &hs));
    // A non-personal column is the raw value.
    assert_eq!(
        hash.table("segments").str("caller_cpu_name"),
        vec![Some("Fixture CPU Caller".to_owned())]
    );
}

#[test]
fn readme_lists_the_personal_columns() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- pii:begin -->\n")
        .expect("pii:begin marker")
        + 19;
    let end = readme.find("<!-- pii:end -->").expect("pii:end marker");
    assert!(
        readme[start..end] == callrec::pii::columns_markdown(),
        "README personal-data list is stale: it must be callrec::pii::columns_markdown()"
    );
}

/// `callrec flatten`, without the reports (they are tested elsewhere and cost a polars run).
fn callrec() -> Command {
    let mut c = Command::cargo_bin("callrec").unwrap();
    c.arg("flatten");
    if cfg!(feature = "report") {
        c.arg("--no-report");
    }
    c
}

#[test]
fn cli_hash_needs_a_salt_and_takes_it_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let a = callrec()
        .args(["--pii", "hash", "-q", "--out"])
        .arg(&out)
        .arg(fixture("good/minimal.json"))
        .env_remove(callrec::pii::SALT_ENV)
        .assert()
        .code(2);
    let stderr = stderr_of(&a);
    assert!(stderr.contains("--pii hash needs a salt"), "{stderr}");
    assert!(!out.join("_manifest.json").exists());

    callrec()
        .args(["--pii", "hash", "-q", "--out"])
        .arg(&out)
        .arg(fixture("good/p2p-full.json"))
        .env(callrec::pii::SALT_ENV, "from-env")
        .assert()
        .code(0);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["pii"], "hash");
    assert_eq!(
        m["pii_key_id"].as_str(),
        Some(Pseudonymizer::new("from-env").key_id().as_str())
    );
    let calls = read_table(&out.join("calls"));
    assert_eq!(
        calls.str("organizer_display_name"),
        vec![Some(Pseudonymizer::new("from-env").hash("Alex Caller"))]
    );

    // --pii-salt wins over the environment; drop needs no salt. Other --pii settings over the
    // same dataset need --full (an incremental run refuses to mix them).
    callrec()
        .args(["--pii", "hash", "--pii-salt", "arg", "-q", "--full"])
        .arg("--out")
        .arg(&out)
        .arg(fixture("good/p2p-full.json"))
        .env(callrec::pii::SALT_ENV, "from-env")
        .assert()
        .code(0);
    assert_eq!(
        read_table(&out.join("calls")).str("organizer_display_name"),
        vec![Some(Pseudonymizer::new("arg").hash("Alex Caller"))]
    );
    callrec()
        .args(["--pii", "drop", "-q", "--full", "--out"])
        .arg(&out)
        .arg(fixture("good/p2p-full.json"))
        .env_remove(callrec::pii::SALT_ENV)
        .assert()
        .code(0);
    assert_eq!(
        read_table(&out.join("calls")).str("organizer_display_name"),
        vec![None]
    );
}

/// A dataset never mixes modes or salts: an incremental run with another `--pii` or salt is
/// refused (the dataset keeps its values), and `--full` rebuilds it in the new mode.
#[test]
fn changing_pii_mode_or_salt_on_a_dataset_needs_full() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input = fixture("good/p2p-full.json");
    let flat = |extra: &[&str]| {
        let mut c = callrec();
        c.args(["-q", "--out"])
            .arg(&out)
            .arg(&input)
            .args(extra)
            .env_remove(callrec::pii::SALT_ENV);
        c
    };
    let names = || read_table(&out.join("calls")).str("organizer_display_name");
    flat(&[]).assert().code(0);
    assert_eq!(names(), vec![Some("Alex Caller".to_owned())]);
    let a = flat(&["--pii", "hash", "--pii-salt", "one"])
        .assert()
        .code(2);
    let stderr = stderr_of(&a);
    assert!(stderr.contains("pii"), "{stderr}");
    assert_eq!(names(), vec![Some("Alex Caller".to_owned())]);
    flat(&["--pii", "hash", "--pii-salt", "one", "--full"])
        .assert()
        .code(0);
    assert_eq!(
        names(),
        vec![Some(Pseudonymizer::new("one").hash("Alex Caller"))]
    );
    // Same mode, another salt: refused too.
    flat(&["--pii", "hash", "--pii-salt", "two"])
        .assert()
        .code(2);
    flat(&["--pii", "hash", "--pii-salt", "one"])
        .assert()
        .code(0);
    assert_eq!(
        names(),
        vec![Some(Pseudonymizer::new("one").hash("Alex Caller"))]
    );
}
