//! Call-quality columns on `streams`: modality, CQD classification under both profiles,
//! First/Second normalisation and building-file enrichment, on tests/fixtures/good.

use crate::common::*;
use callrec::quality::Profile;
use callrec::run::{flatten, FlattenConfig};
use std::path::PathBuf;

fn run_quality(buildings: Option<PathBuf>, profile: Profile) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = FlattenConfig::new(vec![fixture("good")], dir.path().join("out"));
    cfg.threads = 2;
    cfg.buildings = buildings;
    cfg.quality_profile = profile;
    let manifest = flatten(&cfg).expect("flatten runs");
    Run { dir, manifest }
}

fn buildings_file() -> PathBuf {
    fixture("buildings/buildings.csv")
}

/// The values of one stream row (found by its Graph streamId), by column.
struct Row<'t> {
    t: &'t Table,
    i: usize,
}

impl Row<'_> {
    fn s(&self, c: &str) -> Option<String> {
        self.t.str(c)[self.i].clone()
    }
    fn b(&self, c: &str) -> Option<bool> {
        self.t.bool(c)[self.i]
    }
    fn reasons(&self) -> Option<Vec<String>> {
        self.t.list("poor_reasons")[self.i].clone()
    }
}

fn row<'t>(t: &'t Table, stream_id: &str) -> Row<'t> {
    Row {
        t,
        i: t.find("stream_id", stream_id),
    }
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn current_profile_with_building_file() {
    let r = run_quality(Some(buildings_file()), Profile::CqdCurrent);
    let m = &r.manifest;
    assert_eq!(m.errors, 0);
    assert_eq!(m.quality_profile, "cqd-current");
    let b = m.buildings.as_ref().expect("building file recorded");
    assert_eq!(b.rows, 4);
    assert!(b.path.ends_with("buildings.csv"), "{}", b.path);
    let manifest_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.out().join("_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest_json["schema_version"], 2);
    assert_eq!(manifest_json["quality_profile"], "cqd-current");
    assert_eq!(manifest_json["buildings"]["rows"], 4);

    let t = r.table("streams");
    assert_eq!(t.rows(), 14);
    assert!(t
        .str("quality_profile")
        .iter()
        .all(|p| p.as_deref() == Some("cqd-current")));

    // Peer to peer, two clients: caller is First; caller → callee is inbound (to the callee).
    let up = row(&t, "1001");
    assert_eq!(up.s("modality"), some("audio"));
    assert_eq!(up.s("quality"), some("good"));
    assert_eq!(up.reasons(), Some(vec![]));
    assert_eq!(up.s("first_side"), some("caller"));
    assert_eq!(up.s("is_server_pair"), some("client:client"));
    assert_eq!(up.b("is_inbound"), Some(true));
    // Caller subnet 10.0.1.0: the /24 wins over the /16 it lies in.
    assert_eq!(up.s("caller_building_name"), some("OSLO-HQ"));
    assert_eq!(
        up.s("caller_building_network_name"),
        some("Contoso/Oslo/HQ-3F")
    );
    assert_eq!(up.s("caller_building_city"), some("Oslo"));
    assert_eq!(up.s("caller_building_country"), some("NO"));
    assert_eq!(up.s("caller_building_region"), some("EMEA"));
    assert_eq!(up.b("caller_building_inside_corp"), Some(true));
    assert_eq!(up.b("caller_building_express_route"), Some(true));
    assert_eq!(up.b("caller_building_vpn"), Some(false));
    // Callee subnet 10.0.2.0: only the /16 (a 14-column row: VPN defaults to 0).
    assert_eq!(up.s("callee_building_name"), some("OSLO-CAMPUS"));
    assert_eq!(up.b("callee_building_inside_corp"), Some(true));
    assert_eq!(up.b("callee_building_express_route"), Some(false));
    assert_eq!(up.b("callee_building_vpn"), Some(false));
    let down = row(&t, "2002");
    assert_eq!(down.b("is_inbound"), Some(false));
    assert_eq!(down.s("quality"), some("good"));

    // Group call: participant caller, conference server callee. The server is First; the stream
    // from the server to the user is inbound.
    let out = row(&t, "4212486694");
    assert_eq!(out.s("modality"), some("audio"));
    assert_eq!(out.s("quality"), some("good"));
    assert_eq!(out.reasons(), Some(vec![]));
    assert_eq!(out.s("first_side"), some("callee"));
    assert_eq!(out.s("is_server_pair"), some("client:server"));
    assert_eq!(out.b("is_inbound"), Some(false));
    // Caller subnet 192.168.182.0 is in no range; the server side has no network info.
    for side in ["caller", "callee"] {
        assert_eq!(out.s(&format!("{side}_building_name")), None);
        assert_eq!(out.s(&format!("{side}_building_city")), None);
        assert_eq!(out.b(&format!("{side}_building_inside_corp")), Some(false));
        assert_eq!(out.b(&format!("{side}_building_express_route")), None);
        assert_eq!(out.b(&format!("{side}_building_vpn")), None);
    }
    assert_eq!(row(&t, "1121850501").b("is_inbound"), Some(true));

    // Video (h264s on main-video is still video).
    let v = row(&t, "271127536");
    assert_eq!(v.s("modality"), some("video"));
    assert_eq!(v.s("quality"), some("good"));

    // VBSS: outbound (user → server) is judged on frame rate (8.3 fps ≥ 1); inbound h264 on
    // frame loss (1.3 % ≤ 50 %).
    let vb_out = row(&t, "3450197222");
    assert_eq!(vb_out.s("modality"), some("vbss"));
    assert_eq!(vb_out.b("is_inbound"), Some(false));
    assert_eq!(vb_out.s("quality"), some("good"));
    let vb_in = row(&t, "524414775");
    assert_eq!(vb_in.b("is_inbound"), Some(true));
    assert_eq!(vb_in.s("quality"), some("good"));

    // Subnet 10.111.0.0 is in no range, but the address 10.111.196.199 is in the VPN range.
    let vpn = row(&t, "1189489836");
    assert_eq!(vpn.s("caller_building_name"), some("VPN"));
    assert_eq!(
        vpn.s("caller_building_network_name"),
        some("Contoso/VPN/Pool-1")
    );
    assert_eq!(vpn.s("caller_building_city"), None);
    assert_eq!(vpn.s("caller_building_region"), some("GLOBAL"));
    assert_eq!(vpn.b("caller_building_inside_corp"), Some(true));
    assert_eq!(vpn.b("caller_building_vpn"), Some(true));

    // Every stream of the fixtures has its metrics: none is unclassified or poor here.
    let mut q = t.str("quality");
    q.dedup();
    assert_eq!(q, vec![some("good")]);
}

#[test]
fn legacy_profile_without_building_file() {
    let r = run_quality(None, Profile::CqdLegacy5Metric);
    assert_eq!(r.manifest.quality_profile, "cqd-legacy-5metric");
    assert!(r.manifest.buildings.is_none());
    let t = r.table("streams");
    assert!(t
        .str("quality_profile")
        .iter()
        .all(|p| p.as_deref() == Some("cqd-legacy-5metric")));

    // averageAudioDegradation 1.5 > 1.0 (the current rules ignore it).
    let p2p = row(&t, "2002");
    assert_eq!(p2p.s("quality"), some("poor"));
    assert_eq!(p2p.reasons(), Some(vec!["degradation".to_owned()]));
    let p2p_ok = row(&t, "1001");
    assert_eq!(p2p_ok.s("quality"), some("good"));
    assert_eq!(p2p_ok.reasons(), Some(vec![]));
    for (id, want) in [
        ("4212486694", "good"), // degradation 0.88
        ("1121850501", "poor"), // 1.47
        ("1189489836", "poor"), // 1.07
        ("3135853158", "good"), // 0.52
        ("389880993", "good"),  // 0.40
        ("1881850306", "poor"), // 1.47
        ("271127536", "good"),  // video, 1.6 % frame loss
        ("3450197222", "good"), // VBSS, 2.7 % frame loss
    ] {
        assert_eq!(row(&t, id).s("quality"), some(want), "stream {id}");
    }
    assert_eq!(
        t.str("quality")
            .iter()
            .filter(|q| q.as_deref() == Some("poor"))
            .count(),
        4
    );

    // Without a building file every endpoint is outside, with no building.
    for side in ["caller", "callee"] {
        assert!(t
            .bool(&format!("{side}_building_inside_corp"))
            .iter()
            .all(|v| *v == Some(false)));
        assert!(t
            .str(&format!("{side}_building_name"))
            .iter()
            .all(|v| v.is_none()));
    }
}

#[test]
fn bad_building_file_is_a_usage_error_naming_file_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my-buildings.tsv");
    std::fs::write(
        &file,
        "10.0.0.0\tA\t24\tA\t\t\t\t\t\t\t\t\t1\t0\n\
         10.0.1.0\tB\t99\tB\t\t\t\t\t\t\t\t\t1\t0\n\
         10.0.2.0\tC\t24\tC\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let a = assert_cmd::Command::cargo_bin("callrec")
        .unwrap()
        .arg("flatten")
        .arg(fixture("good"))
        .arg("--out")
        .arg(&out)
        .arg("--buildings")
        .arg(&file)
        .assert()
        .code(2);
    let stderr = stderr_of(&a);
    assert!(stderr.contains("my-buildings.tsv"), "{stderr}");
    assert!(stderr.contains("(lines 2, 3)"), "{stderr}");
    assert!(
        stderr.contains("line 2: column 3 (NetworkRange) \"99\" is not a prefix length 0-32"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3: 4 columns, expected 14 or 15 tab-separated columns"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written on a usage error");
}

#[test]
fn cli_records_profile_and_building_file_in_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert_cmd::Command::cargo_bin("callrec")
        .unwrap()
        .arg("flatten")
        .arg(fixture("good"))
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .arg("--buildings")
        .arg(buildings_file())
        .arg("--quality-profile")
        .arg("cqd-legacy-5metric")
        .assert()
        .code(0);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["quality_profile"], "cqd-legacy-5metric");
    assert_eq!(m["buildings"]["rows"], 4);
    assert!(m["buildings"]["path"]
        .as_str()
        .unwrap()
        .ends_with("buildings.csv"));
}

/// Streams merged from a separately exported sessions page get the run's profile too.
#[test]
fn merged_session_pages_use_the_run_profile() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = FlattenConfig::new(vec![root().join("sample-data")], dir.path().join("out"));
    cfg.threads = 2;
    cfg.quality_profile = Profile::CqdLegacy5Metric;
    let manifest = flatten(&cfg).expect("flatten runs");
    assert!(manifest.child_pages["sessions"].items_added > 0);
    let r = Run { dir, manifest };
    let t = r.table("streams");
    assert!(t.rows() > 0);
    assert!(t
        .str("quality_profile")
        .iter()
        .all(|p| p.as_deref() == Some("cqd-legacy-5metric")));
    // Every row has a modality, a quality, a First side and a server pair.
    for c in ["modality", "quality", "first_side", "is_server_pair"] {
        assert!(t.str(c).iter().all(|v| v.is_some()), "{c}");
    }
    // poor_reasons is null exactly when unclassified, and non-empty exactly when poor.
    for (q, r) in t.str("quality").iter().zip(t.list("poor_reasons")) {
        match q.as_deref() {
            Some("unclassified") => assert_eq!(r, None),
            Some("good") => assert_eq!(r, Some(vec![])),
            Some("poor") => assert!(r.is_some_and(|r| !r.is_empty())),
            other => panic!("quality {other:?}"),
        }
    }
}
