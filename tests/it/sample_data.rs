//! The shipped sample archive: every layout at once, counts and values against the generator's
//! own expectations (tests/fixtures/sample-data-expected.json).

use crate::common::*;
use serde_json::Value;

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("sample-data-expected.json")).unwrap())
        .unwrap()
}

#[test]
fn sample_data_row_counts_match_the_archive() {
    let exp = expected();
    let t = &exp["totals_latest"];
    let n = |k: &str| t[k].as_u64().unwrap() as usize;
    let r = run(&[root().join("sample-data")]);
    let m = &r.manifest;
    assert_eq!(m.errors, 0, "{:?}", r.errors());
    assert_eq!(m.records.read, exp["totals"]["records"].as_u64().unwrap());
    assert_eq!(m.records.written as usize, n("call_records"));
    assert_eq!(
        m.records.superseded,
        exp["totals"]["superseded_records"].as_u64().unwrap()
    );
    assert_eq!(m.records.incomplete_sessions, 1);
    assert_eq!(m.records.incomplete_participants_v2, 1);
    assert_eq!(m.child_pages["sessions"].merged, 1);
    assert_eq!(m.child_pages["participants_v2"].merged, 1);
    assert_eq!(r.table("calls").rows(), n("call_records"));
    assert_eq!(
        r.table("participants").rows(),
        n("participants_v2") + n("participants_legacy")
    );
    assert_eq!(r.table("sessions").rows(), n("sessions"));
    assert_eq!(r.table("segments").rows(), n("segments"));
    assert_eq!(
        r.table("streams").rows(),
        n("streams") + n("media_without_streams")
    );
    assert_eq!(r.table("trace_route_hops").rows(), n("trace_route_hops"));
    for (table, counts) in &m.tables {
        assert_eq!(
            counts.rows as usize,
            r.table(table).rows(),
            "manifest rows of {table}"
        );
    }

    // Per call: version kept, and per-call nested counts.
    let calls = r.table("calls");
    let sessions = r.table("sessions");
    let streams = r.table("streams");
    for (id, c) in exp["calls_latest"].as_object().unwrap() {
        let i = calls.find("call_id", id);
        assert_eq!(calls.i64("version")[i], c["version"].as_i64(), "{id}");
        assert_eq!(calls.str("type")[i].as_deref(), c["type"].as_str(), "{id}");
        assert_eq!(
            calls.ts("start_date_time")[i],
            Some(us(c["startDateTime"].as_str().unwrap())),
            "{id}"
        );
        let in_call = |t: &Table| {
            t.str("call_id")
                .iter()
                .filter(|v| v.as_deref() == Some(id.as_str()))
                .count()
        };
        assert_eq!(
            in_call(&sessions) as u64,
            c["sessions"].as_u64().unwrap(),
            "sessions of {id}"
        );
        let want = c["streams"].as_u64().unwrap() + c["media_without_streams"].as_u64().unwrap();
        assert_eq!(in_call(&streams) as u64, want, "streams of {id}");
    }

    // Partition dates follow the call's UTC start date, even for child rows.
    let by_date = exp["special"]["calls_by_start_date_utc"]
        .as_object()
        .unwrap();
    for (date, count) in by_date {
        assert_eq!(
            calls.dates.iter().filter(|d| *d == date).count() as u64,
            count.as_u64().unwrap(),
            "{date}"
        );
    }
    let midnight = exp["special"]["crosses_midnight_utc"][0].as_str().unwrap();
    let st_ids = streams.str("call_id");
    for (i, id) in st_ids.iter().enumerate() {
        if id.as_deref() == Some(midnight) {
            assert_eq!(streams.dates[i], "2026-11-03");
        }
    }

    // Flags and merged pages.
    let inc = exp["special"]["incomplete_sessions"][0].as_str().unwrap();
    assert_eq!(
        calls.bool("sessions_incomplete")[calls.find("call_id", inc)],
        Some(true)
    );
    let page_call = exp["special"]["sessions_page_for"][0].as_str().unwrap();
    let merged: Vec<_> = sessions
        .str("call_id")
        .iter()
        .zip(sessions.str("sessions_page_path"))
        .filter(|(c, _)| c.as_deref() == Some(page_call))
        .map(|(_, p)| p)
        .collect();
    assert!(
        !merged.is_empty()
            && merged
                .iter()
                .all(|p| p.as_deref().is_some_and(|p| p.ends_with("-sessions.json")))
    );
    let seg = r.table("segments");
    assert!(
        seg.str("call_id")
            .iter()
            .any(|c| c.as_deref() == Some(page_call)),
        "merged segments carry the call id"
    );
    assert!(
        seg.str("call_type")
            .iter()
            .zip(seg.str("call_id"))
            .any(|(t, c)| c.as_deref() == Some(page_call) && t.is_some()),
        "merged rows carry the call's context"
    );
}

#[test]
fn same_rows_whatever_the_thread_count() {
    let one = run_with(&[root().join("sample-data")], 1);
    let four = run_with(&[root().join("sample-data")], 4);
    for t in callrec::schema::Table::ALL {
        assert_eq!(
            one.table(t.name()).canonical_rows(),
            four.table(t.name()).canonical_rows(),
            "{}",
            t.name()
        );
    }
}

#[test]
fn variants_are_read_leniently() {
    let r = run(&[root().join("sample-data")]);
    let st = r.table("streams");
    // "NaN" sent as a string lands as NaN, not as a rejection.
    assert!(st
        .f64("average_ratio_of_concealed_samples")
        .iter()
        .any(|v| v.is_some_and(f64::is_nan)));
    // Unknown enum values are kept verbatim.
    let seg = r.table("segments");
    let platforms: Vec<_> = seg
        .str("caller_user_agent_platform")
        .into_iter()
        .chain(seg.str("callee_user_agent_platform"))
        .flatten()
        .collect();
    assert!(platforms.iter().any(|p| p == "visionPro"), "{platforms:?}");
    assert!(st
        .str("caller_network_wifi_band")
        .iter()
        .chain(st.str("callee_network_wifi_band").iter())
        .any(|b| b.as_deref() == Some("frequency6GHz")));
    // Endpoints without @odata.type are classified by shape.
    assert!(seg.str("callee_kind").iter().all(|k| k.is_some()));
    assert!(seg
        .str("callee_kind")
        .iter()
        .any(|k| k.as_deref() == Some("service")));
    // Both schema generations: deprecated identity sets and associatedIdentity.
    assert!(seg.str("caller_identity_kind").iter().any(|k| k.is_some()));
    assert!(seg
        .str("caller_associated_identity_user_principal_name")
        .iter()
        .any(|k| k.is_some()));
    // The ISO 8601 duration with minutes.
    assert!(st.f64("rms_freeze_duration_ms").contains(&Some(62_500.0)));
}
