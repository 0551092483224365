//! Report figures on a small hand-made dataset, every expected number counted by hand below.
//!
//! The dataset (written with polars in callrec's Hive layout and column names):
//!
//! | call | day | type | streams (user side) |
//! |---|---|---|---|
//! | A | 2026-11-02 | groupCall, 60 min | client:server, user = caller u1 (windows, wifi 5 GHz, 10.1.1.0 = building HQ, inside): A1 audio poor [jitter], A2 audio good, A3 video good, A4 vbss unclassified |
//! | B | 2026-11-02 | peerToPeer, 30 min | client:client, user = callee u4 (macOS, wired, 10.2.0.0, no building; caller u3 on 10.3.0.0): B1 audio good, B2 audio unclassified |
//! | C | 2026-11-03 | groupCall, 15 min | client:server, user = caller u1 (platform `=cmd…` (formula), wifi 2.4 GHz, 10.1.1.0): C1 audio poor [packet_loss, round_trip], C2 audio good, C3 data unclassified |
//!
//! Audio: 6 streams, 2 poor, 3 good, 1 unclassified → poor ÷ classified 2/5, poor ÷ all 2/6.
//! Poor calls: A and C of the 3 calls with audio.
//!
//! Segments: A (ok, midcall "media timeout"), B (ok), C (callSetup "ICE failed", ok) → setup
//! 1/5, drop 1/4. Sessions: A: u1 10:00–10:30 (rated poor: Echo, DistortedSpeech), u1
//! 10:20–11:00 (good: Echo), u2 10:05–10:15 (callSetup failure); B: u3 → u4 12:00–12:30 (u3
//! notRated, u4 excellent); C: u1 09:00–09:15 (bad). The other side of A and C sessions is a
//! service endpoint.

use crate::compute::{Report, Settings, RUN_BYTES};
use crate::load::NO_PROFILE;
use crate::output::{csv_guarded, needs_guard};
use polars::prelude::*;
use std::path::Path;

#[derive(Clone, Default)]
struct Side {
    kind: &'static str,
    pid: Option<&'static str>,
    platform: Option<&'static str>,
    family: Option<&'static str>,
    version: Option<&'static str>,
    conn: Option<&'static str>,
    band: Option<&'static str>,
    subnet: Option<&'static str>,
    building: Option<&'static str>,
    city: Option<&'static str>,
    country: Option<&'static str>,
    inside: bool,
}

#[derive(Clone)]
struct Stream {
    call: &'static str,
    day: &'static str,
    call_type: &'static str,
    label: &'static str,
    modality: &'static str,
    quality: &'static str,
    reasons: Option<Vec<&'static str>>,
    first: &'static str,
    pair: &'static str,
    inbound: Option<bool>,
    codec: Option<&'static str>,
    caller: Side,
    callee: Side,
}

impl Stream {
    /// The `caller` or `callee` endpoint.
    fn side(&self, p: &str) -> &Side {
        if p == "caller" {
            &self.caller
        } else {
            &self.callee
        }
    }
}

const XSS: &str = "HQ <script>alert(1)</script>";
const FORMULA: &str = "=cmd|' /C calc'!A0";

fn server() -> Side {
    Side {
        kind: "service",
        subnet: Some("52.112.0.0"),
        ..Default::default()
    }
}

fn u1(platform: &'static str, band: &'static str) -> Side {
    Side {
        kind: "participant",
        pid: Some("u1"),
        platform: Some(platform),
        family: Some("teams"),
        version: Some("1.2.3"),
        conn: Some("wifi"),
        band: Some(band),
        subnet: Some("10.1.1.0"),
        building: Some(XSS),
        city: Some("Seattle"),
        country: Some("US"),
        inside: true,
    }
}

fn p2p_side(
    pid: &'static str,
    platform: &'static str,
    conn: &'static str,
    subnet: &'static str,
) -> Side {
    Side {
        kind: "participant",
        pid: Some(pid),
        platform: Some(platform),
        family: Some("teams"),
        version: Some("1.0.0"),
        conn: Some(conn),
        subnet: Some(subnet),
        ..Default::default()
    }
}

fn streams() -> Vec<Stream> {
    let a = |label, modality, quality, reasons: Option<Vec<&'static str>>| Stream {
        call: "A",
        day: "2026-11-02",
        call_type: "groupCall",
        label,
        modality,
        quality,
        reasons,
        first: "callee",
        pair: "client:server",
        inbound: Some(true),
        codec: Some("SATIN"),
        caller: u1("windows", "frequency50GHz"),
        callee: server(),
    };
    let b = |quality| Stream {
        call: "B",
        day: "2026-11-02",
        call_type: "peerToPeer",
        label: "main-audio",
        modality: "audio",
        quality,
        reasons: (quality == "good").then(Vec::new),
        first: "caller",
        pair: "client:client",
        inbound: Some(false),
        codec: Some("OPUS"),
        caller: p2p_side("u3", "android", "wifi", "10.3.0.0"),
        callee: p2p_side("u4", "macOS", "wired", "10.2.0.0"),
    };
    let c = |label, modality, quality, reasons: Option<Vec<&'static str>>| Stream {
        call: "C",
        day: "2026-11-03",
        call_type: "groupCall",
        label,
        modality,
        quality,
        reasons,
        first: "callee",
        pair: "client:server",
        inbound: Some(true),
        codec: Some("SATIN"),
        caller: u1(FORMULA, "frequency24GHz"),
        callee: server(),
    };
    vec![
        a("main-audio", "audio", "poor", Some(vec!["jitter"])),
        a("main-audio", "audio", "good", Some(vec![])),
        a("main-video", "video", "good", Some(vec![])),
        a("applicationsharing-video", "vbss", "unclassified", None),
        b("good"),
        b("unclassified"),
        c(
            "main-audio",
            "audio",
            "poor",
            Some(vec!["packet_loss", "round_trip"]),
        ),
        c("main-audio", "audio", "good", Some(vec![])),
        c("data", "data", "unclassified", None),
    ]
}

fn s(name: &str, v: Vec<Option<&str>>) -> Column {
    Column::new(name.into(), v)
}

fn ts(name: &str, v: Vec<Option<i64>>) -> Column {
    Column::new(name.into(), v)
        .cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))
        .unwrap()
}

fn list(name: &str, v: Vec<Option<Vec<&str>>>) -> Column {
    let items: Vec<Option<Series>> = v
        .into_iter()
        .map(|o| o.map(|l| Series::new("".into(), l)))
        .collect();
    let ser = Series::new(name.into(), items);
    ser.cast(&DataType::List(Box::new(DataType::String)))
        .unwrap()
        .into_column()
}

/// Microseconds since the epoch of `2026-11-DD HH:MM` UTC.
fn t(day: u32, h: u32, m: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(2026, 11, day)
        .unwrap()
        .and_hms_opt(h, m, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

/// Writes `df` split by its `date` column (dropped from the files) into
/// `dir/<table>/date=…/part-000000.parquet`.
fn write_table(dir: &Path, table: &str, df: DataFrame) {
    let days: Vec<String> = df
        .column("date")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|d| d.unwrap().to_string())
        .collect();
    let mut uniq = days.clone();
    uniq.sort();
    uniq.dedup();
    for d in uniq {
        let mask: BooleanChunked = days.iter().map(|x| *x == d).collect();
        let mut part = df.filter(&mask).unwrap().drop("date").unwrap();
        let folder = dir.join(table).join(format!("date={d}"));
        std::fs::create_dir_all(&folder).unwrap();
        let f = std::fs::File::create(folder.join("part-000000.parquet")).unwrap();
        ParquetWriter::new(f).finish(&mut part).unwrap();
    }
    // The 0-row file callrec writes for schema discovery.
    let mut empty = df.clear().drop("date").unwrap();
    let folder = dir.join(table).join("date=__HIVE_DEFAULT_PARTITION__");
    std::fs::create_dir_all(&folder).unwrap();
    let f = std::fs::File::create(folder.join("part-000099.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut empty).unwrap();
}

fn streams_df(with_quality: bool) -> DataFrame {
    let rows = streams();
    let g = |f: &dyn Fn(&Stream) -> Option<&'static str>| rows.iter().map(f).collect::<Vec<_>>();
    let mut cols = vec![
        s("date", g(&|r| Some(r.day))),
        s("call_id", g(&|r| Some(r.call))),
        Column::new("session_ordinal".into(), vec![0i32; rows.len()]),
        s("media_label", g(&|r| Some(r.label))),
        s("call_type", g(&|r| Some(r.call_type))),
        s(
            "audio_codec",
            g(&|r| (r.modality == "audio").then_some(r.codec).flatten()),
        ),
        s(
            "video_codec",
            g(&|r| (r.modality != "audio").then_some(Some("H264")).flatten()),
        ),
        Column::new("average_jitter_ms".into(), vec![Some(12.5f64); rows.len()]),
    ];
    for p in ["caller", "callee"] {
        let sg = |f: &dyn Fn(&Side) -> Option<&'static str>| {
            rows.iter().map(|r| f(r.side(p))).collect::<Vec<_>>()
        };
        cols.push(s(&format!("{p}_kind"), sg(&|x| Some(x.kind))));
        cols.push(s(&format!("{p}_participant_id"), sg(&|x| x.pid)));
        cols.push(s(&format!("{p}_user_agent_platform"), sg(&|x| x.platform)));
        cols.push(s(
            &format!("{p}_user_agent_product_family"),
            sg(&|x| x.family),
        ));
        cols.push(s(
            &format!("{p}_user_agent_application_version"),
            sg(&|x| x.version),
        ));
        cols.push(s(&format!("{p}_network_connection_type"), sg(&|x| x.conn)));
        cols.push(s(&format!("{p}_network_wifi_band"), sg(&|x| x.band)));
        cols.push(s(&format!("{p}_network_subnet"), sg(&|x| x.subnet)));
    }
    if with_quality {
        cols.push(s("modality", g(&|r| Some(r.modality))));
        cols.push(s("quality", g(&|r| Some(r.quality))));
        cols.push(list(
            "poor_reasons",
            rows.iter().map(|r| r.reasons.clone()).collect(),
        ));
        cols.push(s("quality_profile", g(&|_| Some("cqd-current"))));
        cols.push(s("first_side", g(&|r| Some(r.first))));
        cols.push(s("is_server_pair", g(&|r| Some(r.pair))));
        cols.push(Column::new(
            "is_inbound".into(),
            rows.iter().map(|r| r.inbound).collect::<Vec<_>>(),
        ));
        for p in ["caller", "callee"] {
            let sg = |f: &dyn Fn(&Side) -> Option<&'static str>| {
                rows.iter().map(|r| f(r.side(p))).collect::<Vec<_>>()
            };
            cols.push(s(&format!("{p}_building_name"), sg(&|x| x.building)));
            cols.push(s(
                &format!("{p}_building_network_name"),
                sg(&|x| x.building.map(|_| "USA/Seattle/HQ-1")),
            ));
            cols.push(s(&format!("{p}_building_city"), sg(&|x| x.city)));
            cols.push(s(&format!("{p}_building_country"), sg(&|x| x.country)));
            cols.push(s(
                &format!("{p}_building_region"),
                sg(&|x| x.building.map(|_| "NA")),
            ));
            cols.push(Column::new(
                format!("{p}_building_inside_corp").into(),
                rows.iter().map(|r| r.side(p).inside).collect::<Vec<_>>(),
            ));
            cols.push(Column::new(
                format!("{p}_building_express_route").into(),
                rows.iter()
                    .map(|r| r.side(p).building.map(|_| false))
                    .collect::<Vec<_>>(),
            ));
            cols.push(Column::new(
                format!("{p}_building_vpn").into(),
                rows.iter()
                    .map(|r| r.side(p).building.map(|_| false))
                    .collect::<Vec<_>>(),
            ));
        }
    }
    DataFrame::new_infer_height(cols).unwrap()
}

/// Writes the whole dataset; `with_quality: false` gives a streams table as written before the
/// quality columns existed.
fn dataset(dir: &Path, with_quality: bool) {
    std::fs::write(dir.join("_manifest.json"), "{}").unwrap();
    write_table(dir, "streams", streams_df(with_quality));

    let calls = DataFrame::new_infer_height(vec![
        s(
            "date",
            vec![Some("2026-11-02"), Some("2026-11-02"), Some("2026-11-03")],
        ),
        s("call_id", vec![Some("A"), Some("B"), Some("C")]),
        s(
            "type",
            vec![Some("groupCall"), Some("peerToPeer"), Some("groupCall")],
        ),
        Column::new(
            "duration_ms".into(),
            vec![Some(3_600_000.0f64), Some(1_800_000.0), Some(900_000.0)],
        ),
        ts(
            "start_date_time",
            vec![Some(t(2, 10, 0)), Some(t(2, 12, 0)), Some(t(3, 9, 0))],
        ),
    ])
    .unwrap();
    write_table(dir, "calls", calls);

    // Segments: A ok, A midcall, B ok, C callSetup, C ok.
    let segments = DataFrame::new_infer_height(vec![
        s(
            "date",
            vec![
                Some("2026-11-02"),
                Some("2026-11-02"),
                Some("2026-11-02"),
                Some("2026-11-03"),
                Some("2026-11-03"),
            ],
        ),
        s(
            "call_id",
            vec![Some("A"), Some("A"), Some("B"), Some("C"), Some("C")],
        ),
        Column::new("session_ordinal".into(), vec![0i32, 1, 0, 0, 0]),
        Column::new("segment_ordinal".into(), vec![0i32, 0, 0, 0, 1]),
        s(
            "call_type",
            vec![
                Some("groupCall"),
                Some("groupCall"),
                Some("peerToPeer"),
                Some("groupCall"),
                Some("groupCall"),
            ],
        ),
        s(
            "failure_info_stage",
            vec![None, Some("midcall"), None, Some("callSetup"), None],
        ),
        s(
            "failure_info_reason",
            vec![None, Some("media timeout"), None, Some("ICE failed"), None],
        ),
    ])
    .unwrap();
    write_table(dir, "segments", segments);

    // Sessions: A u1 10:00-10:30 (poor), A u1 10:20-11:00 (good), A u2 10:05-10:15 (setup
    // failure), B u3 -> u4 12:00-12:30, C u1 09:00-09:15 (bad).
    let d = |x: &'static str| Some(x);
    let sessions = DataFrame::new_infer_height(vec![
        s(
            "date",
            vec![
                d("2026-11-02"),
                d("2026-11-02"),
                d("2026-11-02"),
                d("2026-11-02"),
                d("2026-11-03"),
            ],
        ),
        s("call_id", vec![d("A"), d("A"), d("A"), d("B"), d("C")]),
        Column::new("session_ordinal".into(), vec![0i32, 1, 2, 0, 0]),
        s(
            "call_type",
            vec![
                d("groupCall"),
                d("groupCall"),
                d("groupCall"),
                d("peerToPeer"),
                d("groupCall"),
            ],
        ),
        ts(
            "start_date_time",
            vec![
                Some(t(2, 10, 0)),
                Some(t(2, 10, 20)),
                Some(t(2, 10, 5)),
                Some(t(2, 12, 0)),
                Some(t(3, 9, 0)),
            ],
        ),
        ts(
            "end_date_time",
            vec![
                Some(t(2, 10, 30)),
                Some(t(2, 11, 0)),
                Some(t(2, 10, 15)),
                Some(t(2, 12, 30)),
                Some(t(3, 9, 15)),
            ],
        ),
        s(
            "failure_info_stage",
            vec![None, None, d("callSetup"), None, None],
        ),
        s(
            "failure_info_reason",
            vec![None, None, d("ICE failed"), None, None],
        ),
        s("caller_kind", vec![d("participant"); 5]),
        s(
            "caller_participant_id",
            vec![d("u1"), d("u1"), d("u2"), d("u3"), d("u1")],
        ),
        s(
            "caller_identity_display_name",
            vec![d("Alice"), None, d("Bob <b>"), d("Carol"), d("Alice")],
        ),
        s(
            "caller_associated_identity_display_name",
            vec![None, d("Alice A."), None, None, None],
        ),
        s(
            "caller_identity_user_principal_name",
            vec![d("alice@contoso.com"), None, None, None, None],
        ),
        s(
            "caller_feedback_rating",
            vec![d("poor"), d("good"), None, d("notRated"), d("bad")],
        ),
        list(
            "caller_feedback_tokens",
            vec![
                Some(vec!["Echo", "DistortedSpeech"]),
                Some(vec!["Echo"]),
                None,
                Some(vec![]),
                None,
            ],
        ),
        s(
            "callee_kind",
            vec![
                d("service"),
                d("service"),
                d("service"),
                d("participant"),
                d("service"),
            ],
        ),
        s(
            "callee_participant_id",
            vec![None, None, None, d("u4"), None],
        ),
        s(
            "callee_identity_display_name",
            vec![None, None, None, d("Dan"), None],
        ),
        s(
            "callee_feedback_rating",
            vec![None, None, None, d("excellent"), None],
        ),
        list("callee_feedback_tokens", vec![None, None, None, None, None]),
    ])
    .unwrap();
    write_table(dir, "sessions", sessions);

    // Participants: A has participants_v2 (u1, u2) and the deprecated list (u1, u2); B only
    // the deprecated list (u3, u4); C participants_v2 (u1).
    let participants = DataFrame::new_infer_height(vec![
        s(
            "date",
            vec![d("2026-11-02"); 6]
                .into_iter()
                .chain([d("2026-11-03")])
                .collect(),
        ),
        s(
            "call_id",
            vec![d("A"), d("A"), d("A"), d("A"), d("B"), d("B"), d("C")],
        ),
        s(
            "source",
            vec![
                d("participants_v2"),
                d("participants_v2"),
                d("participants"),
                d("participants"),
                d("participants"),
                d("participants"),
                d("participants_v2"),
            ],
        ),
        s(
            "participant_id",
            vec![d("p1"), d("p2"), None, None, None, None, d("p1")],
        ),
        s(
            "identity_id",
            vec![
                d("u1"),
                d("u2"),
                d("u1"),
                d("u2"),
                d("u3"),
                d("u4"),
                d("u1"),
            ],
        ),
    ])
    .unwrap();
    write_table(dir, "participants", participants);
}

/// Every table, computed in runs of the default size without a cache, the attendance table
/// whole.
fn compute(dataset: &Path, settings: &Settings) -> anyhow::Result<Report> {
    let mut batches: Vec<DataFrame> = Vec::new();
    let mut report =
        crate::compute::compute_in_runs(dataset, settings, RUN_BYTES, None, &mut |df| {
            batches.push(df.clone());
            Ok(())
        })?;
    let t = report
        .tables
        .iter_mut()
        .find(|t| t.name == "attendance")
        .expect("the report has an attendance table");
    t.df = stack(&batches);
    t.streamed = false;
    Ok(report)
}

fn settings() -> Settings {
    Settings {
        min_streams: 2,
        top: 20,
    }
}

fn report(with_quality: bool) -> (tempfile::TempDir, Report) {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), with_quality);
    let r = compute(dir.path(), &settings()).unwrap();
    (dir, r)
}

// ----- reading helpers ------------------------------------------------------------------------

fn table<'a>(r: &'a Report, name: &str) -> &'a DataFrame {
    r.table(name).unwrap_or_else(|| panic!("no table {name}"))
}

/// The row where every (column, value) matches.
fn row(df: &DataFrame, keys: &[(&str, &str)]) -> usize {
    (0..df.height())
        .find(|i| {
            keys.iter()
                .all(|(c, v)| df.column(c).unwrap().get(*i).unwrap().get_str() == Some(*v))
        })
        .unwrap_or_else(|| panic!("no row {keys:?} in\n{df}"))
}

fn int(df: &DataFrame, c: &str, i: usize) -> i64 {
    df.column(c)
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .get(i)
        .unwrap_or_else(|| panic!("{c} null at {i}"))
}

fn float(df: &DataFrame, c: &str, i: usize) -> Option<f64> {
    df.column(c)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .get(i)
}

fn text(df: &DataFrame, c: &str, i: usize) -> Option<String> {
    df.column(c)
        .unwrap()
        .get(i)
        .unwrap()
        .get_str()
        .map(str::to_string)
}

fn approx(a: Option<f64>, b: f64) {
    let a = a.expect("a value, not null");
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

// ----- tests -----------------------------------------------------------------------------------

#[test]
fn overview_modalities_and_poor_calls() {
    let (_d, r) = report(true);
    assert_eq!(r.profile, "cqd-current");
    let o = table(&r, "overview");
    assert_eq!(int(o, "calls", 0), 3);
    approx(float(o, "minutes", 0), 105.0);
    assert_eq!(int(o, "participants", 0), 5); // A: 2 (v2), B: 2 (deprecated), C: 1
    assert_eq!(int(o, "distinct_users", 0), 4);
    assert_eq!(int(o, "sessions", 0), 5);
    assert_eq!(int(o, "segments", 0), 5);
    assert_eq!(int(o, "streams", 0), 9);
    assert_eq!(int(o, "audio_streams", 0), 6);
    assert_eq!(int(o, "video_streams", 0), 1);
    assert_eq!(int(o, "vbss_streams", 0), 1);
    assert_eq!(int(o, "audio_calls", 0), 3);
    assert_eq!(int(o, "poor_calls", 0), 2);
    approx(float(o, "poor_call_rate", 0), 2.0 / 3.0);
    assert_eq!(text(o, "first_day", 0).as_deref(), Some("2026-11-02"));
    assert_eq!(text(o, "last_day", 0).as_deref(), Some("2026-11-03"));
    assert_eq!(int(o, "days", 0), 2);
    assert_eq!(
        text(o, "quality_profile", 0).as_deref(),
        Some("cqd-current")
    );

    let m = table(&r, "modalities");
    let a = row(m, &[("modality", "audio")]);
    assert_eq!(a, 0, "audio first");
    assert_eq!(
        (
            int(m, "streams", a),
            int(m, "poor", a),
            int(m, "good", a),
            int(m, "unclassified", a)
        ),
        (6, 2, 3, 1)
    );
    approx(float(m, "poor_of_classified", a), 0.4);
    approx(float(m, "poor_of_all", a), 2.0 / 6.0);
    approx(float(m, "target", a), 0.03);
    assert_eq!(text(m, "status", a).as_deref(), Some("fail"));
    let v = row(m, &[("modality", "vbss")]);
    assert_eq!((int(m, "streams", v), int(m, "unclassified", v)), (1, 1));
    assert_eq!(float(m, "poor_of_classified", v), None);
    let dt = row(m, &[("modality", "data")]);
    assert_eq!(int(m, "streams", dt), 1);

    let pr = table(&r, "poor_reasons");
    assert_eq!(pr.height(), 3);
    for reason in ["jitter", "packet_loss", "round_trip"] {
        let i = row(pr, &[("modality", "audio"), ("reason", reason)]);
        assert_eq!(int(pr, "poor_streams", i), 1);
    }
}

#[test]
fn by_day_and_call_type() {
    let (_d, r) = report(true);
    let d = table(&r, "by_day");
    assert_eq!(d.height(), 2);
    let d1 = row(d, &[("day", "2026-11-02")]);
    assert_eq!(d1, 0, "days in order");
    assert_eq!(int(d, "calls", d1), 2);
    approx(float(d, "minutes", d1), 90.0);
    assert_eq!(int(d, "audio_streams", d1), 4);
    assert_eq!(int(d, "audio_poor", d1), 1);
    assert_eq!(int(d, "audio_unclassified", d1), 1);
    approx(float(d, "audio_poor_of_classified", d1), 1.0 / 3.0);
    approx(float(d, "audio_poor_of_all", d1), 0.25);
    assert_eq!(text(d, "audio_status", d1).as_deref(), Some("fail"));
    approx(float(d, "poor_call_rate", d1), 0.5);
    assert_eq!(int(d, "segments", d1), 3);
    assert_eq!(int(d, "setup_failures", d1), 0);
    approx(float(d, "setup_failure_rate_approx", d1), 0.0);
    assert_eq!(text(d, "setup_status", d1).as_deref(), Some("pass"));
    approx(float(d, "drop_failure_rate_approx", d1), 1.0 / 3.0);
    assert_eq!(text(d, "drop_status", d1).as_deref(), Some("fail"));
    assert_eq!(int(d, "feedback_ratings", d1), 3);
    approx(float(d, "feedback_poor_share", d1), 1.0 / 3.0);
    let d2 = row(d, &[("day", "2026-11-03")]);
    assert_eq!(int(d, "calls", d2), 1);
    approx(float(d, "audio_poor_of_classified", d2), 0.5);
    approx(float(d, "setup_failure_rate_approx", d2), 0.5);
    approx(float(d, "drop_failure_rate_approx", d2), 0.0);
    approx(float(d, "feedback_poor_share", d2), 1.0);

    let c = table(&r, "by_call_type");
    let g = row(c, &[("call_type", "groupCall")]);
    assert_eq!(int(c, "calls", g), 2);
    approx(float(c, "minutes", g), 75.0);
    approx(float(c, "audio_poor_of_classified", g), 0.5);
    // Group calls are held to the Conferencing / Overall targets.
    approx(float(c, "audio_target", g), 0.02);
    approx(float(c, "setup_target", g), 0.005);
    assert_eq!(
        text(c, "target_line", g).as_deref(),
        Some("Conferencing / Overall")
    );
    approx(float(c, "setup_failure_rate_approx", g), 0.25);
    approx(float(c, "drop_failure_rate_approx", g), 1.0 / 3.0);
    let p = row(c, &[("call_type", "peerToPeer")]);
    approx(float(c, "audio_poor_of_classified", p), 0.0);
    assert_eq!(text(c, "audio_status", p).as_deref(), Some("pass"));
    approx(float(c, "setup_target", p), 0.01);
}

#[test]
fn breakdowns_use_the_user_side() {
    let (_d, r) = report(true);
    let p = table(&r, "by_platform");
    let w = row(p, &[("platform", "windows")]);
    assert_eq!(
        (int(p, "audio_streams", w), int(p, "audio_poor", w)),
        (2, 1)
    );
    assert_eq!(int(p, "streams", w), 4);
    assert_eq!(int(p, "calls", w), 1);
    let m = row(p, &[("platform", "macOS")]); // B's callee, not its caller (android)
    assert_eq!(int(p, "audio_streams", m), 2);
    assert!((0..p.height()).all(|i| text(p, "platform", i).as_deref() != Some("android")));
    let f = row(p, &[("platform", FORMULA)]);
    approx(float(p, "audio_poor_of_classified", f), 0.5);

    let ct = table(&r, "by_connection_type");
    let wifi = row(ct, &[("connection_type", "wifi")]);
    assert_eq!(
        (int(ct, "audio_streams", wifi), int(ct, "audio_poor", wifi)),
        (4, 2)
    );
    assert_eq!(int(ct, "calls", wifi), 2);
    let pair = table(&r, "by_connection_pair");
    row(pair, &[("connection_pair", "wifi : wired")]);
    let i = row(pair, &[("connection_pair", "(unknown) : wifi")]);
    assert_eq!(int(pair, "audio_streams", i), 4);

    let band = table(&r, "by_wifi_band");
    let b5 = row(band, &[("wifi_band", "frequency50GHz")]);
    approx(float(band, "audio_poor_of_classified", b5), 0.5);
    let none = row(band, &[("wifi_band", "(unknown)")]);
    assert_eq!(int(band, "audio_streams", none), 2);

    let io = table(&r, "by_inside_outside");
    let inside = row(io, &[("inside_outside", "inside")]);
    approx(float(io, "audio_poor_of_classified", inside), 0.5);
    approx(float(io, "audio_target", inside), 0.02); // All / Internal
    let out = row(io, &[("inside_outside", "outside")]);
    assert_eq!(int(io, "audio_streams", out), 2);

    let sp = table(&r, "by_server_pair");
    let cs = row(sp, &[("is_server_pair", "client:server")]);
    assert_eq!(int(sp, "audio_streams", cs), 4);

    let codec = table(&r, "by_codec");
    let satin = row(codec, &[("modality", "audio"), ("codec", "SATIN")]);
    assert_eq!(int(codec, "audio_streams", satin), 4);

    let b = table(&r, "by_building");
    let hq = row(b, &[("building", XSS)]);
    assert_eq!(text(b, "city", hq).as_deref(), Some("Seattle"));
    assert_eq!(int(b, "audio_streams", hq), 4);
    row(b, &[("building", "(not in building file)")]);
    let cn = table(&r, "by_country");
    row(cn, &[("country", "US")]);

    // Every table names the profile.
    for t in &r.tables {
        if t.df.height() > 0 {
            assert_eq!(
                text(&t.df, "quality_profile", 0).as_deref(),
                Some("cqd-current"),
                "{}",
                t.name
            );
        }
    }
}

#[test]
fn targets_reliability_failures_feedback() {
    let (_d, r) = report(true);
    let t = table(&r, "targets");
    let psr = "audio poor stream rate";
    let get = |scope, network, measure| {
        row(
            t,
            &[("scope", scope), ("network", network), ("measure", measure)],
        )
    };
    let i = get("All", "Overall", psr);
    assert_eq!((int(t, "numerator", i), int(t, "denominator", i)), (2, 5));
    approx(float(t, "actual", i), 0.4);
    approx(float(t, "target", i), 0.03);
    assert_eq!(text(t, "status", i).as_deref(), Some("fail"));
    let i = get("All", "Internal", psr);
    assert_eq!((int(t, "numerator", i), int(t, "denominator", i)), (2, 4));
    let i = get("Conferencing", "Wi-Fi 5 GHz internal", psr);
    assert_eq!((int(t, "numerator", i), int(t, "denominator", i)), (1, 2));
    approx(float(t, "target", i), 0.01);
    let i = get("Conferencing", "Wired internal", psr);
    assert_eq!(int(t, "denominator", i), 0);
    assert_eq!(text(t, "status", i).as_deref(), Some("no data"));
    let i = get("P2P", "Overall", psr);
    assert_eq!((int(t, "numerator", i), int(t, "denominator", i)), (0, 1));
    assert_eq!(text(t, "status", i).as_deref(), Some("pass"));
    let i = get("P2P", "Wired/Wi-Fi 5 GHz overall", psr);
    assert_eq!(int(t, "denominator", i), 1);
    let i = get("P2P", "Internal", psr);
    assert_eq!(text(t, "status", i).as_deref(), Some("no data"));
    let i = get("All", "Overall", "setup failure rate (approximation)");
    assert_eq!((int(t, "numerator", i), int(t, "denominator", i)), (1, 5));
    approx(float(t, "target", i), 0.01);
    assert_eq!(text(t, "status", i).as_deref(), Some("fail"));
    let i = get("All", "Overall", "drop failure rate (approximation)");
    assert_eq!((int(t, "numerator", i), int(t, "denominator", i)), (1, 4));
    let i = get(
        "Conferencing",
        "Overall",
        "setup failure rate (approximation)",
    );
    assert_eq!((int(t, "numerator", i), int(t, "denominator", i)), (1, 4));
    let i = get("P2P", "Overall", "drop failure rate (approximation)");
    assert_eq!((int(t, "numerator", i), int(t, "denominator", i)), (0, 1));
    assert_eq!(t.height(), 11 + 6);

    let rel = table(&r, "reliability");
    let s = row(rel, &[("source", "segments")]);
    assert_eq!(
        (
            int(rel, "units", s),
            int(rel, "setup_failures", s),
            int(rel, "drops", s)
        ),
        (5, 1, 1)
    );
    approx(float(rel, "setup_failure_rate_approx", s), 0.2);
    approx(float(rel, "drop_failure_rate_approx", s), 0.25);
    let s = row(rel, &[("source", "sessions")]);
    assert_eq!(
        (
            int(rel, "units", s),
            int(rel, "setup_failures", s),
            int(rel, "drops", s)
        ),
        (5, 1, 0)
    );
    assert!(text(rel, "note", s).unwrap().contains("approximation"));

    let f = table(&r, "failures");
    assert_eq!(f.height(), 3);
    let i = row(f, &[("source", "segments"), ("stage", "midcall")]);
    assert_eq!(text(f, "reason", i).as_deref(), Some("media timeout"));
    let i = row(f, &[("source", "sessions"), ("stage", "callSetup")]);
    assert_eq!(int(f, "count", i), 1);

    let fb = table(&r, "feedback");
    assert_eq!(
        (
            int(fb, "ratings", 0),
            int(fb, "poor", 0),
            int(fb, "not_rated", 0)
        ),
        (4, 2, 1)
    );
    approx(float(fb, "poor_share", 0), 0.5);
    let tok = table(&r, "feedback_tokens");
    assert_eq!(text(tok, "token", 0).as_deref(), Some("Echo"));
    assert_eq!(int(tok, "count", 0), 2);
    assert_eq!(tok.height(), 2);
    let rt = table(&r, "feedback_ratings");
    assert_eq!(int(rt, "count", row(rt, &[("rating", "excellent")])), 1);
}

#[test]
fn worst_lists_missing_subnets_attendance() {
    let (_d, r) = report(true);
    let ws = table(&r, "worst_subnets");
    assert_eq!(ws.height(), 2);
    assert_eq!(text(ws, "subnet", 0).as_deref(), Some("10.1.1.0"));
    assert_eq!(text(ws, "building", 0).as_deref(), Some(XSS));
    approx(float(ws, "audio_poor_of_classified", 0), 0.5);
    assert_eq!(text(ws, "subnet", 1).as_deref(), Some("10.2.0.0"));
    assert_eq!(
        text(ws, "building", 1).as_deref(),
        Some("(not in building file)")
    );

    let wb = table(&r, "worst_buildings");
    assert_eq!(wb.height(), 1);
    assert_eq!(int(wb, "audio_streams", 0), 4);

    let wu = table(&r, "worst_users");
    assert_eq!(wu.height(), 2);
    assert_eq!(text(wu, "user_id", 0).as_deref(), Some("u1"));
    assert_eq!(text(wu, "display_name", 0).as_deref(), Some("Alice"));
    assert_eq!(
        text(wu, "user_principal_name", 0).as_deref(),
        Some("alice@contoso.com")
    );
    assert_eq!(
        (int(wu, "audio_streams", 0), int(wu, "audio_poor", 0)),
        (4, 2)
    );
    assert_eq!(text(wu, "user_id", 1).as_deref(), Some("u4"));
    assert_eq!(text(wu, "display_name", 1).as_deref(), Some("Dan"));

    // A higher minimum empties the lists.
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), true);
    let r5 = compute(
        dir.path(),
        &Settings {
            min_streams: 5,
            top: 20,
        },
    )
    .unwrap();
    assert_eq!(table(&r5, "worst_subnets").height(), 0);
    assert_eq!(table(&r5, "missing_subnets").height(), 0);

    // B's two subnets (both ends are clients without a building); the server's subnet and
    // the covered 10.1.1.0 are not listed.
    let ms = table(&r, "missing_subnets");
    assert_eq!(ms.height(), 2, "{ms}");
    assert_eq!(text(ms, "subnet", 0).as_deref(), Some("10.2.0.0"));
    assert_eq!(text(ms, "subnet", 1).as_deref(), Some("10.3.0.0"));
    assert_eq!((int(ms, "audio_streams", 0), int(ms, "calls", 0)), (2, 1));
    approx(float(ms, "audio_poor_of_classified", 0), 0.0);

    let at = table(&r, "attendance");
    assert_eq!(at.height(), 5, "{at}");
    let a1 = row(at, &[("call_id", "A"), ("participant_id", "u1")]);
    assert_eq!(int(at, "sessions", a1), 2);
    approx(float(at, "minutes", a1), 60.0); // 10:00-10:30 and 10:20-11:00 overlap
    assert_eq!(text(at, "display_name", a1).as_deref(), Some("Alice"));
    let first = at.column("first_join").unwrap().get(a1).unwrap();
    assert_eq!(
        crate::output::cell_text("first_join", &first),
        "2026-11-02 10:00:00 UTC"
    );
    let last = at.column("last_leave").unwrap().get(a1).unwrap();
    assert_eq!(
        crate::output::cell_text("last_leave", &last),
        "2026-11-02 11:00:00 UTC"
    );
    let a2 = row(at, &[("call_id", "A"), ("participant_id", "u2")]);
    approx(float(at, "minutes", a2), 10.0);
    let b4 = row(at, &[("call_id", "B"), ("participant_id", "u4")]);
    approx(float(at, "minutes", b4), 30.0);
    let c1 = row(at, &[("call_id", "C"), ("participant_id", "u1")]);
    approx(float(at, "minutes", c1), 15.0);
}

/// Every table of a report computed a partition at a time equals the one computed in one run;
/// the attendance rows come run by run in (day, call, participant) order.
#[test]
fn report_computed_a_partition_at_a_time_equals_one_run() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), true);
    let parts = crate::load::partitions(dir.path(), "streams").unwrap();
    assert!(parts.len() >= 3, "{parts:?}");
    let (apart, apart_batches) = report_in_runs(dir.path(), 0, None);
    let (one, one_batches) = report_in_runs(dir.path(), u64::MAX, None);
    // Two dates with rows (one week) and the 0-row default partition: three runs against two.
    assert_eq!((apart_batches.len(), one_batches.len()), (3, 2));
    assert_same_tables(&apart, &one);
    // Rows were counted: the runs' tables are not empty.
    assert_eq!(int(table(&apart, "overview"), "streams", 0), 9);
    assert_eq!(int(table(&apart, "overview"), "calls", 0), 3);
    let stacked = stack(&apart_batches);
    assert_eq!(stacked.height(), 5);
    assert!(stacked.equals_missing(&stack(&one_batches)), "{stacked}");
    let days: Vec<&str> = stacked
        .column("day")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(days.len(), 5);
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "{days:?}");
    // The report keeps the attendance rows it got, with their count.
    let at = apart
        .tables
        .iter()
        .find(|t| t.name == "attendance")
        .unwrap();
    assert!(at.streamed);
    assert_eq!((at.rows, at.df.height()), (5, 5));
}

/// Runs keep to one ISO week (Monday to Sunday) and to the byte budget; the null-date
/// partition is alone.
#[test]
fn runs_keep_to_a_week_and_the_budget() {
    let dates = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
        v.iter().map(|(d, b)| (d.to_string(), *b)).collect()
    };
    let days = dates(&[
        ("2026-11-01", 10), // Sunday
        ("2026-11-02", 10), // Monday
        ("2026-11-03", 10),
        ("2026-11-04", 10),
        ("__HIVE_DEFAULT_PARTITION__", 0),
    ]);
    let runs = crate::compute::group_runs(days.clone(), 100);
    assert_eq!(
        runs,
        vec![
            vec!["2026-11-01"],
            vec!["2026-11-02", "2026-11-03", "2026-11-04"],
            vec!["__HIVE_DEFAULT_PARTITION__"],
        ]
    );
    let runs = crate::compute::group_runs(days, 20);
    assert_eq!(
        runs,
        vec![
            vec!["2026-11-01"],
            vec!["2026-11-02", "2026-11-03"],
            vec!["2026-11-04"],
            vec!["__HIVE_DEFAULT_PARTITION__"],
        ]
    );
}

/// A report computed run by run (`run_bytes`, the cache), with the attendance batches it handed
/// out.
fn report_in_runs(dir: &Path, run_bytes: u64, cache: Option<&Path>) -> (Report, Vec<DataFrame>) {
    let mut batches: Vec<DataFrame> = Vec::new();
    let r = crate::compute::compute_in_runs(dir, &settings(), run_bytes, cache, &mut |df| {
        batches.push(df.clone());
        Ok(())
    })
    .unwrap();
    (r, batches)
}

fn stack(batches: &[DataFrame]) -> DataFrame {
    let mut all = batches[0].clone();
    for b in &batches[1..] {
        all.vstack_mut(b).unwrap();
    }
    all
}

/// Every table of `a` equals `b`'s, with the same row count.
fn assert_same_tables(a: &Report, b: &Report) {
    assert_eq!(a.tables.len(), b.tables.len());
    for (x, y) in a.tables.iter().zip(&b.tables) {
        assert_eq!((x.name, x.rows), (y.name, y.rows));
        assert!(
            x.df.equals_missing(&y.df),
            "{}:\n{}\n{}",
            x.name,
            x.df,
            y.df
        );
    }
}

/// A report with the cache, a partition per run: the report and its attendance rows.
fn cached_report(dir: &Path, cache: &Path) -> (Report, DataFrame) {
    let (r, batches) = report_in_runs(dir, 0, Some(cache));
    (r, stack(&batches))
}

fn assert_same_report(a: &(Report, DataFrame), b: &(Report, DataFrame)) {
    assert_same_tables(&a.0, &b.0);
    assert!(a.1.equals_missing(&b.1));
}

/// Runs whose part files are unchanged come from the cache with the same results; a changed,
/// or unreadable, run is computed again; entries no report uses are removed.
#[test]
fn report_cache_reused_while_part_files_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), true);
    let cache = dir.path().join(crate::cache::DIR);
    let entries = || std::fs::read_dir(&cache).unwrap().count();

    let cold = cached_report(dir.path(), &cache);
    // Two dates and the 0-row default partition, a run each.
    assert_eq!((cold.0.runs, cold.0.runs_cached, entries()), (3, 0, 3));
    let warm = cached_report(dir.path(), &cache);
    assert_eq!((warm.0.runs, warm.0.runs_cached), (3, 3));
    assert_same_report(&cold, &warm);
    // And to the report computed without the cache, in one run.
    let (_plain_dir, plain) = report(true);
    assert_eq!(plain.tables.len(), warm.0.tables.len());
    for (x, y) in plain.tables.iter().zip(&warm.0.tables) {
        assert!(x.df.equals_missing(&y.df), "{}", x.name);
    }

    // Entries being written: one left by a report that stopped hours ago is removed, one
    // being written now by another report is not.
    let (left, writing) = (cache.join("x.tmp-1"), cache.join("y.tmp-2"));
    for d in [&left, &writing] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::File::open(&left)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(7200))
        .unwrap();
    let again = cached_report(dir.path(), &cache);
    assert_eq!(again.0.runs_cached, 3);
    assert!(!left.exists() && writing.exists());
    std::fs::remove_dir(&writing).unwrap();

    // A part file of 2026-11-03 rewritten (a new modification time): that run is read again.
    let part = dir
        .path()
        .join("sessions/date=2026-11-03/part-000000.parquet");
    let f = std::fs::File::options().write(true).open(&part).unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(7))
        .unwrap();
    drop(f);
    let changed = cached_report(dir.path(), &cache);
    assert_eq!(changed.0.runs_cached, 2);
    assert_same_report(&cold, &changed);
    // The changed run's old entry is gone, its new one kept.
    assert_eq!(entries(), 3);

    // An unreadable entry is a miss, not an error.
    for e in std::fs::read_dir(&cache).unwrap() {
        std::fs::write(e.unwrap().path().join("t0.parquet"), b"not parquet").unwrap();
    }
    let broken = cached_report(dir.path(), &cache);
    assert_eq!(broken.0.runs_cached, 0);
    assert_same_report(&cold, &broken);
    assert!(broken.0.notes.iter().all(|n| !n.contains("cache")));
}

/// A cache that cannot be written costs time, not the report: a note says so.
#[test]
fn report_cache_that_cannot_be_written_is_a_note() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), true);
    let cache = dir.path().join(crate::cache::DIR);
    std::fs::write(&cache, "a file where the cache folder would be").unwrap();
    let (r, _) = cached_report(dir.path(), &cache);
    assert_eq!((r.runs, r.runs_cached), (3, 0));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("report cache could not be written")),
        "{:?}",
        r.notes
    );
    assert_eq!(int(table(&r, "overview"), "streams", 0), 9);
}

#[test]
fn dataset_without_quality_columns_still_reports() {
    let (_d, r) = report(false);
    assert_eq!(r.profile, NO_PROFILE);
    assert!(r.notes.iter().any(|n| n.contains("no quality columns")));
    let m = table(&r, "modalities");
    // Modality from media_label; every stream unclassified.
    let a = row(m, &[("modality", "audio")]);
    assert_eq!((int(m, "streams", a), int(m, "unclassified", a)), (6, 6));
    assert_eq!(text(m, "status", a).as_deref(), Some("no data"));
    let v = row(m, &[("modality", "vbss")]);
    assert_eq!(int(m, "streams", v), 1);
    // The user side falls back to the endpoint kinds: B's callee (macOS), A's caller.
    let p = table(&r, "by_platform");
    row(p, &[("platform", "macOS")]);
    row(p, &[("platform", "windows")]);
    assert_eq!(table(&r, "attendance").height(), 5);
}

#[test]
fn dataset_below_a_hive_like_folder_with_glob_characters() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("date=1999-01-01 [x]*").join("ds");
    std::fs::create_dir_all(&ds).unwrap();
    dataset(&ds, true);
    let r = compute(&ds, &settings()).unwrap();
    let d = table(&r, "by_day");
    assert_eq!(d.height(), 2);
    row(d, &[("day", "2026-11-02")]);
    assert_eq!(int(table(&r, "overview",), "streams", 0), 9);
}

#[test]
fn empty_dataset_reports_no_data() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), true);
    // Keep only the 0-row files in date=__HIVE_DEFAULT_PARTITION__.
    for t in ["streams", "calls", "sessions", "segments", "participants"] {
        for e in std::fs::read_dir(dir.path().join(t)).unwrap() {
            let p = e.unwrap().path();
            if p.to_string_lossy().contains("date=2026") {
                std::fs::remove_dir_all(p).unwrap();
            }
        }
    }
    let r = compute(dir.path(), &settings()).unwrap();
    let o = table(&r, "overview");
    assert_eq!(
        (int(o, "calls", 0), int(o, "streams", 0), int(o, "days", 0)),
        (0, 0, 0)
    );
    assert_eq!(table(&r, "by_day").height(), 0);
    assert_eq!(table(&r, "attendance").height(), 0);
    let t = table(&r, "targets");
    assert!((0..t.height()).all(|i| text(t, "status", i).as_deref() == Some("no data")));
    let w = crate::write_report(dir.path(), None, &settings()).unwrap();
    let md = std::fs::read_to_string(w.dir.join("summary.md")).unwrap();
    assert!(md.contains("0 calls") && md.contains("no calls"), "{md}");
    check_well_formed(&std::fs::read_to_string(w.dir.join("report.html")).unwrap());
}

#[test]
fn csv_cells_are_guarded_against_formulas() {
    for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", FORMULA] {
        assert!(needs_guard(s), "{s:?}");
        assert_eq!(crate::output::guard(s), format!("'{s}"));
    }
    for s in ["", "a=1", "10.1.1.0", "'=quoted"] {
        assert!(!needs_guard(s), "{s:?}");
        assert_eq!(crate::output::guard(s), s);
    }
    let df = DataFrame::new_infer_height(vec![
        s("name", vec![Some("=HYPERLINK(\"x\")"), Some("ok"), None]),
        Column::new("n".into(), vec![-1i64, 2, 3]),
    ])
    .unwrap();
    let g = csv_guarded(&df).unwrap();
    assert_eq!(text(&g, "name", 0).as_deref(), Some("'=HYPERLINK(\"x\")"));
    assert_eq!(text(&g, "name", 1).as_deref(), Some("ok"));
    assert_eq!(text(&g, "name", 2), None);
    assert_eq!(int(&g, "n", 0), -1, "numbers are not text cells");
}

/// A table written in batches: one CSV header, the batches' rows in order (guarded), and a
/// Parquet file that reads back as the batches stacked.
#[test]
fn table_files_written_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let batch = |names: Vec<Option<&str>>, n: Vec<i64>| {
        DataFrame::new_infer_height(vec![s("name", names), Column::new("n".into(), n)]).unwrap()
    };
    let batches = [
        batch(vec![Some("a"), Some("=cmd")], vec![1, 2]),
        batch(vec![], vec![]),
        batch(vec![None, Some("d")], vec![3, 4]),
    ];
    let mut files = crate::output::TableFiles::new(dir.path(), "t");
    for b in &batches {
        files.write(b).unwrap();
    }
    files.finish().unwrap();
    let csv = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
    assert_eq!(csv, "name,n\na,1\n'=cmd,2\n,3\nd,4\n");
    let f = std::fs::File::open(dir.path().join("t.parquet")).unwrap();
    let back = ParquetReader::new(f).finish().unwrap();
    let mut stacked = batches[0].clone();
    stacked.vstack_mut(&batches[1]).unwrap();
    stacked.vstack_mut(&batches[2]).unwrap();
    assert!(back.equals_missing(&stacked), "{back}");
}

/// Tag balance of the generated HTML (void elements and `<!DOCTYPE>` aside).
fn check_well_formed(html: &str) {
    const VOID: &[&str] = &["meta", "br", "hr", "img", "input", "link"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(p) = rest.find('<') {
        rest = &rest[p + 1..];
        let end = rest.find('>').expect("unclosed <");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        assert!(!tag.contains('<'), "raw < inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name.trim(), "mismatched tags");
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(!name.is_empty(), "bad tag <{tag}>");
        if tag.ends_with('/') || VOID.contains(&name.as_str()) {
            continue;
        }
        stack.push(name);
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    // Every attribute quote is balanced, so a value cannot leak into markup.
    assert_eq!(html.matches('"').count() % 2, 0);
}

#[test]
fn written_files_html_markdown_json_csv() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), true);
    let w = crate::write_report(dir.path(), None, &settings()).unwrap();
    let out = dir.path().join("reports");
    assert_eq!(w.dir, out);
    for f in [
        "summary.json",
        "summary.md",
        "report.html",
        "by_day.csv",
        "by_day.parquet",
        "attendance.csv",
        "targets.parquet",
    ] {
        assert!(out.join(f).is_file(), "{f}");
        assert!(w.files.iter().any(|x| x == f), "{f}");
    }
    assert!(w.headline.contains("40.00 %"), "{}", w.headline);

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    check_well_formed(&html);
    assert!(!html.contains("<script"), "data must be escaped");
    assert!(html.contains("HQ &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Bob &lt;b&gt;") && !html.contains("Bob <b>"));
    for external in ["src=", "href=", "url(", "@import"] {
        assert!(
            !html.contains(external),
            "no external resources: {external}"
        );
    }
    assert!(html.contains("cqd-current"));
    assert!(html.contains("40.00 %"), "audio poor ÷ classified");
    assert!(html.contains("33.33 %"), "audio poor ÷ all");
    assert!(html.contains("66.67 %"), "poor call rate");
    assert!(html.contains("20.00 %"), "setup failure approximation");
    assert_eq!(html.matches("<svg").count(), 4, "four charts");
    assert!(html.contains("2026-11-02") && html.contains("10.1.1.0"));

    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("quality profile: **cqd-current**"));
    assert!(
        md.contains("| audio | 6 | 2 | 3 | 1 | 40.00 % | 33.33 % | 3.00 % | fail |"),
        "{md}"
    );
    assert!(md.contains("Poor calls: 2 of 3 calls with audio (66.67 %)"));
    assert!(md.contains("HQ \\<script\\>"), "markdown escapes data");
    assert!(md.contains("approximation"));

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["quality_profile"], "cqd-current");
    assert_eq!(json["overview"]["calls"], 3);
    assert_eq!(json["overview"]["poor_calls"], 2);
    assert_eq!(json["modalities"][0]["modality"], "audio");
    assert_eq!(json["modalities"][0]["poor"], 2);
    assert_eq!(json["targets"][0]["status"], "fail");
    assert_eq!(json["by_day"][0]["day"], "2026-11-02");
    assert_eq!(json["feedback"]["ratings"], 4);
    // The small dataset is two runs (its week, and the default partition), computed (the cache
    // was empty).
    assert_eq!(
        json["runs"],
        serde_json::json!({"total": 2, "from_cache": 0})
    );

    let csv = std::fs::read_to_string(out.join("by_platform.csv")).unwrap();
    assert!(csv.contains("'=cmd|' /C calc'!A0"), "{csv}");
    assert!(!csv.lines().any(|l| l.starts_with('=')));
    let pq = LazyFrame::scan_parquet(
        PlRefPath::new(out.join("by_platform.parquet").to_str().unwrap()),
        Default::default(),
    )
    .unwrap()
    .collect()
    .unwrap();
    row(&pq, &[("platform", FORMULA)]); // Parquet keeps the value as it is

    // Running again replaces the folder (its runs from the cache); a foreign folder is refused.
    crate::write_report(dir.path(), None, &settings()).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        json["runs"],
        serde_json::json!({"total": 2, "from_cache": 2})
    );
    assert_eq!(json["overview"]["poor_calls"], 2);
    let foreign = dir.path().join("mine");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "x").unwrap();
    let e = crate::write_report(dir.path(), Some(&foreign), &settings()).unwrap_err();
    assert!(
        format!("{e:#}").contains("not a callrec report folder"),
        "{e:#}"
    );
    assert!(foreign.join("notes.txt").is_file());
    // No temporary folders left behind, beside the dataset or in the report cache.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".callrec-") && n != crate::cache::DIR)
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let cached: Vec<String> = std::fs::read_dir(dir.path().join(crate::cache::DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!cached.is_empty() && cached.iter().all(|n| !n.contains(".tmp-")));

    assert!(crate::remove_stale(dir.path()).unwrap());
    assert!(!out.exists());
}

#[test]
fn not_a_dataset_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = crate::write_report(dir.path(), None, &settings()).unwrap_err();
    assert!(format!("{e:#}").contains("not a callrec dataset"), "{e:#}");
    std::fs::write(dir.path().join("_manifest.json"), "{}").unwrap();
    let e = crate::write_report(dir.path(), None, &settings()).unwrap_err();
    assert!(format!("{e:#}").contains("no streams/ folder"), "{e:#}");
}

#[test]
fn escaping() {
    assert_eq!(
        crate::html::esc("<a href=\"x\">&'</a>"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
    );
    assert_eq!(crate::markdown::md_escape("a|b<c>\nd"), "a\\|b\\<c\\> d");
}
