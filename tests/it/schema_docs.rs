//! The schema: documented in the README exactly as `callrec schema` prints it, and complete
//! against the Graph model reference.

use crate::common::*;
use callrec::schema::{schema_markdown, Table};

#[test]
fn readme_schema_section_is_the_schema_command_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- schema:begin -->\n")
        .expect("README has the schema:begin marker")
        + 22;
    let end = readme
        .find("<!-- schema:end -->")
        .expect("README has the schema:end marker");
    assert!(
        readme[start..end] == schema_markdown(),
        "README schema section is stale: replace it with the output of `cargo run -- schema`"
    );
}

/// Every scalar, enum and enum-list property of the callRecord tree (v1.0 and beta) is the
/// source of at least one column.
#[test]
fn every_graph_property_reaches_a_column() {
    let path = root().join("../shared/reference/graph-callrecords.json");
    if !path.exists() {
        eprintln!("skipped: {} not present", path.display());
        return;
    }
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let enums = model["enums"].as_object().unwrap();
    let tree = [
        "callRecord",
        "session",
        "segment",
        "participantBase",
        "participant",
        "organizer",
        "endpoint",
        "participantEndpoint",
        "serviceEndpoint",
        "userAgent",
        "clientUserAgent",
        "serviceUserAgent",
        "userFeedback",
        "feedbackTokenSet",
        "failureInfo",
        "media",
        "mediaStream",
        "deviceInfo",
        "networkInfo",
        "traceRouteHop",
        "administrativeUnitInfo",
    ];
    let sources: Vec<String> = Table::ALL
        .iter()
        .flat_map(|t| t.columns().iter().map(|c| c.source.clone()))
        .collect();
    let mut missing = Vec::new();
    let mut checked = 0;
    for ty in tree {
        let def = &model["types"][ty];
        assert!(def.is_object(), "{ty} not in the reference");
        for p in def["properties"].as_array().unwrap() {
            let name = p["name"].as_str().unwrap();
            let ptype = p["type"].as_str().unwrap();
            let inner = ptype
                .trim_start_matches("Collection(")
                .trim_end_matches(')');
            let short = inner.rsplit('.').next().unwrap();
            let scalar = inner.starts_with("Edm.") || enums.contains_key(short);
            if !scalar {
                continue; // structure: becomes child rows or a prefixed column group
            }
            checked += 1;
            let want = format!("{ty}.{name}");
            let hit = sources
                .iter()
                .any(|s| s == &want || s.starts_with(&format!("{want} ")))
                || (name == "id" && ["participant", "organizer"].contains(&ty));
            if !hit {
                missing.push(want);
            }
        }
    }
    assert!(checked > 100, "only {checked} properties checked");
    assert!(
        missing.is_empty(),
        "properties without a column: {missing:?}"
    );
}
