//! Every payload from Microsoft's documentation (../shared/graph-doc-examples, present in the
//! team's workspace, absent from a user's clone: the test is skipped there).

use crate::common::*;

#[test]
fn graph_doc_examples() {
    let dir = root().join("../shared/graph-doc-examples");
    if !dir.exists() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    let r = run(std::slice::from_ref(&dir));
    let m = &r.manifest;
    let errors = r.errors();
    // The one invalid example is rejected with its position.
    let invalid: Vec<_> = errors
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .ends_with("getpstnblockeduserslog__1.invalid.json")
        })
        .collect();
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0]["line"], 15);
    assert_eq!(invalid[0]["column"], 9);
    assert!(invalid[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("invalid JSON"));
    // Every example that is a call record (or a page of them) is read; the rest are reported.
    for e in &errors {
        let path = e["path"].as_str().unwrap();
        let name = path.rsplit('/').next().unwrap();
        let foreign = [
            "getpstn",
            "getdirectrouting",
            "getsmslog",
            "changenotifications",
            "list-participants_v2",
        ];
        assert!(
            foreign.iter().any(|f| name.contains(f)),
            "unexpected rejection of {name}: {e}"
        );
    }
    assert_eq!(m.files.read, 38);
    assert_eq!(
        m.records.rejected, 12,
        "6 log pages, 1 invalid JSON, 5 notifications or subscription requests: {errors:#?}"
    );
    // Three distinct calls; e523d2ed appears in 15 examples and is written once.
    let calls = r.table("calls");
    let mut ids = calls.str("call_id");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(calls.rows(), 3);
    let i = calls.find("call_id", "e523d2ed-2966-4b6b-925b-754a88034cc5");
    assert_eq!(calls.i64("version")[i], Some(1));
    // The fullest version of that call (2 streams, deprecated participants) won the tie.
    let st = r.table("streams");
    assert_eq!(st.rows(), 2);
    let j = st.find("stream_id", "1504545584");
    assert_eq!(st.f64("average_jitter_ms")[j], Some(16.0));
    assert_eq!(st.str("media_label")[j].as_deref(), Some("main-audio"));
    // The 8 sessions pages belong to that call and add no duplicate sessions.
    assert_eq!(m.child_pages["sessions"].read, 8);
    assert_eq!(m.child_pages["sessions"].merged, 8);
    assert_eq!(r.table("sessions").rows(), 1);
    // participants_v2 pages of a call that is not in the examples are reported.
    assert_eq!(m.child_pages["participants_v2"].rejected, 2);
}
