//! Property: for any generated archive, rows per table equal the nested counts of its records.

use crate::common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::io::Write;

/// Nested shape of one record: sessions → segments → media → (streams, caller hops, callee hops).
type Shape = (usize, Vec<Vec<Vec<(usize, usize, usize)>>>);

fn shape() -> impl Strategy<Value = Shape> {
    let media = (0usize..3, 0usize..3, 0usize..2);
    let segment = prop::collection::vec(media, 0..3);
    let session = prop::collection::vec(segment, 0..3);
    (0usize..4, prop::collection::vec(session, 0..4))
}

fn record(id: usize, (participants, sessions): &Shape) -> Value {
    let hops = |n: usize| {
        (0..n).map(|h| json!({"hopCount": h + 1, "ipAddress": format!("10.0.0.{h}"), "roundTripTime": "PT0.002S"})).collect::<Vec<_>>()
    };
    json!({
        "id": format!("call-{id}"),
        "version": 1,
        "type": "groupCall",
        "startDateTime": format!("2026-11-0{}T10:00:00Z", 1 + id % 3),
        "endDateTime": format!("2026-11-0{}T10:30:00Z", 1 + id % 3),
        "participants_v2": (0..*participants).map(|p| json!({"id": format!("p{p}"), "identity": {"user": {"id": format!("u{p}")}}})).collect::<Vec<_>>(),
        "sessions": sessions.iter().enumerate().map(|(s, segs)| json!({
            "id": format!("s{s}"),
            "caller": {"userAgent": {"platform": "windows"}},
            "callee": {"userAgent": {"role": "skypeForBusinessAudioVideoMcu"}},
            "segments": segs.iter().enumerate().map(|(g, media)| json!({
                "id": format!("g{g}"),
                "media": media.iter().map(|(streams, caller_hops, callee_hops)| json!({
                    "label": "main-audio",
                    "callerNetwork": {"connectionType": "wired", "traceRouteHops": hops(*caller_hops)},
                    "calleeNetwork": {"connectionType": "wired", "traceRouteHops": hops(*callee_hops)},
                    "streams": (0..*streams).map(|k| json!({"streamId": k.to_string(), "streamDirection": "callerToCallee", "averageJitter": "PT0.010S"})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn expected(shapes: &[Shape]) -> [usize; 6] {
    let mut n = [0usize; 6];
    for (participants, sessions) in shapes {
        n[0] += 1;
        n[1] += participants;
        n[2] += sessions.len();
        for segs in sessions {
            n[3] += segs.len();
            for media in segs {
                for (streams, a, b) in media {
                    n[4] += (*streams).max(1); // a media line without streams keeps one row
                    n[5] += a + b;
                }
            }
        }
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn row_counts_equal_nested_counts(shapes in prop::collection::vec(shape(), 1..6), layout in 0u8..3) {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Value> = shapes.iter().enumerate().map(|(i, s)| record(i, s)).collect();
        match layout {
            0 => {
                let lines: String = records.iter().map(|r| format!("{r}\n")).collect();
                std::fs::write(dir.path().join("a.ndjson"), lines).unwrap();
            }
            1 => {
                let page = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords", "value": records});
                std::fs::write(dir.path().join("page.json"), serde_json::to_string_pretty(&page).unwrap()).unwrap();
            }
            _ => {
                for (i, r) in records.iter().enumerate() {
                    let f = std::fs::File::create(dir.path().join(format!("r{i}.json.gz"))).unwrap();
                    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
                    gz.write_all(r.to_string().as_bytes()).unwrap();
                    gz.finish().unwrap();
                }
            }
        }
        let r = run(&[dir.path().to_path_buf()]);
        prop_assert_eq!(r.manifest.errors, 0);
        let want = expected(&shapes);
        for (k, t) in callrec::schema::Table::ALL.iter().enumerate() {
            prop_assert_eq!(r.table(t.name()).rows(), want[k], "table {}", t.name());
            prop_assert_eq!(r.manifest.tables[t.name()].rows as usize, want[k]);
        }
    }
}
