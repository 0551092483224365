//! Hand-written fixtures: exact values of every kind of column, and every kind of bad input.

use crate::common::*;

const P2P: &str = "521e33bf-880f-466c-8908-ea2ed5c0060d";

#[test]
fn p2p_full_values_reach_their_columns() {
    let r = run(&[fixture("good/p2p-full.json")]);
    assert_eq!(r.manifest.records.written, 1);
    assert_eq!(r.manifest.errors, 0);

    let calls = r.table("calls");
    assert_eq!(calls.rows(), 1);
    assert_eq!(calls.str("call_id"), vec![Some(P2P.to_owned())]);
    assert_eq!(calls.str("type"), vec![Some("peerToPeer".to_owned())]);
    assert_eq!(calls.i64("version"), vec![Some(1)]);
    assert_eq!(
        calls.ts("start_date_time"),
        vec![Some(us("2026-11-05T11:00:00Z"))]
    );
    assert_eq!(calls.f64("duration_ms"), vec![Some(600_000.0)]);
    assert_eq!(calls.str("organizer_kind"), vec![Some("user".to_owned())]);
    assert_eq!(
        calls.str("organizer_display_name"),
        vec![Some("Alex Caller".to_owned())]
    );
    assert_eq!(calls.i32("participants_count"), vec![Some(2)]);
    assert_eq!(calls.bool("sessions_incomplete"), vec![Some(false)]);
    assert_eq!(calls.dates, vec!["2026-11-05"]);

    let parts = r.table("participants");
    assert_eq!(
        parts.rows(),
        4,
        "2 participants_v2 + 2 deprecated participants"
    );
    let mut sources = parts.str("source");
    sources.sort();
    assert_eq!(
        sources
            .iter()
            .filter(|s| s.as_deref() == Some("participants"))
            .count(),
        2
    );
    assert_eq!(
        sources
            .iter()
            .filter(|s| s.as_deref() == Some("participants_v2"))
            .count(),
        2
    );

    let seg = r.table("segments");
    assert_eq!(seg.rows(), 1);
    assert_eq!(seg.str("caller_kind"), vec![Some("participant".to_owned())]);
    assert_eq!(seg.str("caller_name"), vec![Some("CALLER-PC".to_owned())]);
    assert_eq!(
        seg.str("caller_cpu_name"),
        vec![Some("Fixture CPU Caller".to_owned())]
    );
    assert_eq!(seg.i32("caller_cpu_cores_count"), vec![Some(8)]);
    assert_eq!(
        seg.i32("caller_cpu_processor_speed_in_mhz"),
        vec![Some(2100)]
    );
    assert_eq!(
        seg.str("caller_user_agent_kind"),
        vec![Some("client".to_owned())]
    );
    assert_eq!(
        seg.str("caller_user_agent_platform"),
        vec![Some("windows".to_owned())]
    );
    assert_eq!(
        seg.str("caller_user_agent_product_family"),
        vec![Some("teams".to_owned())]
    );
    assert_eq!(
        seg.str("caller_user_agent_application_version"),
        vec![Some("1.0.0.1".to_owned())]
    );
    assert_eq!(
        seg.str("caller_user_agent_azure_ad_app_id"),
        vec![Some("42892f9d-2c30-4dec-8177-440f752bd95d".to_owned())]
    );
    assert_eq!(
        seg.str("caller_identity_kind"),
        vec![Some("user".to_owned())]
    );
    assert_eq!(
        seg.str("caller_identity_display_name"),
        vec![Some("Alex Caller".to_owned())]
    );
    assert_eq!(seg.str("call_type"), vec![Some("peerToPeer".to_owned())]);

    let ses = r.table("sessions");
    assert_eq!(
        ses.str("callee_feedback_rating"),
        vec![Some("fair".to_owned())]
    );
    assert_eq!(
        ses.str("callee_feedback_text"),
        vec![Some("fixture feedback text".to_owned())]
    );
    assert_eq!(
        ses.list("callee_feedback_tokens"),
        vec![Some(vec!["Echo".to_owned()])]
    );
    assert_eq!(
        ses.str("callee_feedback_tokens_json"),
        vec![Some(r#"{"NoSound":false,"Echo":true}"#.to_owned())]
    );

    let st = r.table("streams");
    assert_eq!(st.rows(), 2);
    let i = st.find("stream_id", "1001");
    assert_eq!(
        st.str("stream_direction")[i].as_deref(),
        Some("callerToCallee")
    );
    assert_eq!(st.str("media_label")[i].as_deref(), Some("main-audio"));
    assert_eq!(st.i32("stream_ordinal")[i], Some(0));
    assert_eq!(st.str("audio_codec")[i].as_deref(), Some("opus"));
    assert_eq!(st.str("video_codec")[i].as_deref(), Some("h264"));
    assert_eq!(st.f64("average_audio_degradation")[i], Some(0.5));
    assert_eq!(st.f64("average_audio_network_jitter_ms")[i], Some(25.0));
    assert_eq!(st.i64("average_bandwidth_estimate_bps")[i], Some(1_000_001));
    assert_eq!(st.f64("average_freeze_duration_ms")[i], Some(400.0));
    assert_eq!(st.f64("average_jitter_ms")[i], Some(21.0));
    assert_eq!(st.f64("average_packet_loss_rate")[i], Some(0.0123));
    assert_eq!(
        st.f64("average_ratio_of_concealed_samples")[i],
        Some(0.0201)
    );
    assert_eq!(st.f64("average_received_frame_rate_fps")[i], Some(24.5));
    assert_eq!(st.f64("average_round_trip_time_ms")[i], Some(45.0));
    assert_eq!(st.f64("average_video_frame_loss_percentage")[i], Some(1.25));
    assert_eq!(st.f64("average_video_frame_rate_fps")[i], Some(25.5));
    assert_eq!(st.f64("average_video_packet_loss_rate")[i], Some(0.0031));
    assert_eq!(
        st.ts("start_date_time")[i],
        Some(us("2026-11-05T11:00:01.5Z"))
    );
    assert_eq!(
        st.ts("end_date_time")[i],
        Some(us("2026-11-05T11:09:59.5Z"))
    );
    assert_eq!(
        st.bool("is_audio_forward_error_correction_used")[i],
        Some(true)
    );
    assert_eq!(st.f64("low_frame_rate_ratio")[i], Some(0.061));
    assert_eq!(
        st.f64("low_video_processing_capability_ratio")[i],
        Some(0.071)
    );
    assert_eq!(st.f64("max_audio_network_jitter_ms")[i], Some(52.0));
    assert_eq!(st.f64("max_jitter_ms")[i], Some(33.0));
    assert_eq!(st.f64("max_packet_loss_rate")[i], Some(0.0456));
    assert_eq!(st.f64("max_ratio_of_concealed_samples")[i], Some(0.0802));
    assert_eq!(st.f64("max_round_trip_time_ms")[i], Some(91.0));
    assert_eq!(st.i64("packet_utilization")[i], Some(29_950));
    assert_eq!(
        st.f64("post_forward_error_correction_packet_loss_rate")[i],
        Some(0.0011)
    );
    assert_eq!(st.f64("rms_freeze_duration_ms")[i], Some(800.0));
    assert_eq!(st.bool("was_media_bypassed")[i], Some(false));
    // Both sides' device and network info on every stream row.
    assert_eq!(
        st.str("caller_network_ip_address")[i].as_deref(),
        Some("10.0.1.10")
    );
    assert_eq!(
        st.str("caller_network_subnet")[i].as_deref(),
        Some("10.0.1.0")
    );
    assert_eq!(
        st.i64("caller_network_link_speed_bps")[i],
        Some(100_000_000)
    );
    assert_eq!(
        st.str("caller_network_connection_type")[i].as_deref(),
        Some("wifi")
    );
    assert_eq!(st.i32("caller_network_port")[i], Some(50010));
    assert_eq!(
        st.str("caller_network_reflexive_ip_address")[i].as_deref(),
        Some("203.0.113.1")
    );
    assert_eq!(
        st.str("caller_network_relay_ip_address")[i].as_deref(),
        Some("198.51.100.1")
    );
    assert_eq!(st.i32("caller_network_relay_port")[i], Some(3478));
    assert_eq!(
        st.str("caller_network_mac_address")[i].as_deref(),
        Some("01-00-00-00-00-01")
    );
    assert_eq!(
        st.str("caller_network_dns_suffix")[i].as_deref(),
        Some("side1.contoso.com")
    );
    assert_eq!(
        st.f64("caller_network_sent_quality_event_ratio")[i],
        Some(0.111)
    );
    assert_eq!(
        st.f64("caller_network_received_quality_event_ratio")[i],
        Some(0.112)
    );
    assert_eq!(st.f64("caller_network_delay_event_ratio")[i], Some(0.113));
    assert_eq!(
        st.f64("caller_network_bandwidth_low_event_ratio")[i],
        Some(0.114)
    );
    assert_eq!(
        st.str("caller_network_basic_service_set_identifier")[i].as_deref(),
        Some("01:bb:cc:dd:ee:ff")
    );
    assert_eq!(
        st.str("caller_network_wifi_band")[i].as_deref(),
        Some("frequency50GHz")
    );
    assert_eq!(
        st.i32("caller_network_wifi_battery_charge_percent")[i],
        Some(61)
    );
    assert_eq!(st.i32("caller_network_wifi_channel")[i], Some(41));
    assert_eq!(
        st.str("caller_network_wifi_microsoft_driver")[i].as_deref(),
        Some("MS Driver 1")
    );
    assert_eq!(
        st.str("caller_network_wifi_microsoft_driver_version")[i].as_deref(),
        Some("MS:1.0")
    );
    assert_eq!(
        st.str("caller_network_wifi_radio_type")[i].as_deref(),
        Some("wifi80211ax")
    );
    assert_eq!(
        st.i32("caller_network_wifi_signal_strength_percent")[i],
        Some(71)
    );
    assert_eq!(
        st.str("caller_network_wifi_vendor_driver")[i].as_deref(),
        Some("Vendor Driver 1")
    );
    assert_eq!(
        st.str("caller_network_wifi_vendor_driver_version")[i].as_deref(),
        Some("V:1.0")
    );
    assert_eq!(
        st.str("caller_network_network_transport_protocol")[i].as_deref(),
        Some("udp")
    );
    assert_eq!(st.i32("caller_network_trace_route_hop_count")[i], Some(2));
    assert_eq!(
        st.str("callee_device_capture_device_driver")[i].as_deref(),
        Some("CaptureDriver-2")
    );
    assert_eq!(
        st.str("callee_device_capture_device_name")[i].as_deref(),
        Some("Microphone-2")
    );
    assert_eq!(
        st.f64("callee_device_capture_not_functioning_event_ratio")[i],
        Some(0.221)
    );
    assert_eq!(
        st.f64("callee_device_cpu_insufficent_event_ratio")[i],
        Some(0.222)
    );
    assert_eq!(st.i32("callee_device_howling_event_count")[i], Some(4));
    assert_eq!(
        st.f64("callee_device_initial_signal_level_root_mean_square")[i],
        Some(102.5)
    );
    assert_eq!(st.f64("callee_device_mic_glitch_rate")[i], Some(8.5));
    assert_eq!(
        st.str("caller_user_agent_platform")[i].as_deref(),
        Some("windows")
    );

    let hops = r.table("trace_route_hops");
    assert_eq!(hops.rows(), 2);
    assert_eq!(hops.str("side"), vec![Some("caller".to_owned()); 2]);
    assert_eq!(hops.i32("hop_ordinal"), vec![Some(0), Some(1)]);
    assert_eq!(hops.i32("hop_count"), vec![Some(1), Some(2)]);
    assert_eq!(
        hops.str("ip_address"),
        vec![
            Some("192.168.0.1".to_owned()),
            Some("203.0.113.254".to_owned())
        ]
    );
    assert_eq!(hops.f64("round_trip_time_ms"), vec![Some(4.0), Some(11.0)]);
}

#[test]
fn minimal_record_gives_one_call_row_and_nulls() {
    let r = run(&[fixture("good/minimal.json")]);
    let calls = r.table("calls");
    assert_eq!(calls.rows(), 1);
    assert_eq!(calls.str("join_web_url"), vec![None]);
    assert_eq!(calls.i32("session_count"), vec![None]);
    for t in [
        "participants",
        "sessions",
        "segments",
        "streams",
        "trace_route_hops",
    ] {
        assert_eq!(r.table(t).rows(), 0, "{t}");
    }
}

#[test]
fn bad_inputs_are_reported_and_good_lines_kept() {
    let r = run(&[fixture("bad")]);
    let m = &r.manifest;
    assert_eq!(m.records.written, 3, "the three good lines of mixed.ndjson");
    assert_eq!(r.table("calls").rows(), 3);
    assert_eq!(r.table("streams").rows(), 6);
    let errors = r.errors();
    let reason_for = |file: &str| -> Vec<String> {
        errors
            .iter()
            .filter(|e| e["path"].as_str().unwrap().ends_with(file))
            .map(|e| {
                format!(
                    "{} | {}",
                    e["position"].as_str().unwrap(),
                    e["reason"].as_str().unwrap()
                )
            })
            .collect()
    };
    let one = |file: &str, needle: &str| {
        let got = reason_for(file);
        assert_eq!(got.len(), 1, "{file}: {got:?}");
        assert!(got[0].contains(needle), "{file}: {got:?} lacks {needle:?}");
    };
    one("truncated.json", "truncated JSON");
    one("empty.json", "file is empty");
    one("not-json.json", "invalid JSON");
    one("graph-error.json", "Graph error response");
    one("graph-error.json", "NotFound");
    let notes = reason_for("notification.json");
    assert!(
        !notes.is_empty() && notes.iter().all(|e| e.contains("change notification")),
        "{notes:?}"
    );
    one("wrong-type.json", "invalid type: string");
    one("binary.json", "invalid UTF-8");
    one("bad.json.gz", "not gzip");
    one("orphan-sessions.json", "not in this run");
    one("pstn-log.json", "pstnCallLogRow");
    one("bad-duration.json", "invalid ISO 8601 duration \"fast\"");
    one("no-id.json", "no `id`");
    let mixed = reason_for("mixed.ndjson");
    assert_eq!(mixed.len(), 2, "{mixed:?}");
    assert!(mixed[0].starts_with("line 2"), "{mixed:?}");
    assert!(
        mixed[1].starts_with("line 4") && mixed[1].contains("not an object"),
        "{mixed:?}"
    );
    let arr = reason_for("array-of-numbers.json");
    assert!(
        !arr.is_empty() && arr.iter().all(|e| e.contains("not")),
        "{arr:?}"
    );
    // Every rejected unit is accounted for.
    assert_eq!(
        m.records.rejected + m.child_pages["sessions"].rejected,
        errors.len() as u64
    );
}

#[test]
fn latest_version_wins_regardless_of_input_order_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(fixture("good/p2p-full.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&base).unwrap();
    v["version"] = 1.into();
    v["joinWebUrl"] = "v1".into();
    std::fs::write(dir.path().join("b.json"), v.to_string()).unwrap();
    v["version"] = 5.into();
    v["joinWebUrl"] = "v5".into();
    std::fs::write(dir.path().join("a.json"), v.to_string()).unwrap();
    v["version"] = 3.into();
    v["joinWebUrl"] = "v3".into();
    std::fs::write(dir.path().join("c.ndjson"), format!("{v}\n{v}\n")).unwrap();
    for threads in [1, 3] {
        let r = run_with(&[dir.path().to_path_buf()], threads);
        assert_eq!(r.manifest.records.read, 4);
        assert_eq!(r.manifest.records.superseded, 3);
        let calls = r.table("calls");
        assert_eq!(
            calls.str("join_web_url"),
            vec![Some("v5".to_owned())],
            "threads {threads}"
        );
        assert_eq!(
            r.table("streams").rows(),
            2,
            "superseded rows removed (threads {threads})"
        );
        assert_eq!(r.table("participants").rows(), 4);
        assert_eq!(r.table("trace_route_hops").rows(), 2);
    }
}
