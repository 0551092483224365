//! Microsoft's suggested targets (Teams QoE review guide, "Define your target metrics",
//! Table 2) and the pass/fail comparison.
//!
//! The audio poor stream rate compared with a target is poor ÷ classified audio streams (the
//! ratio CQD's "Audio Poor Percentage" shows); poor ÷ all audio streams is reported beside it.
//! Setup and drop failure rates come from Graph `failureInfo` on segments and are
//! approximations of CQD's stream-level CDR measures (see the README).

use crate::load::is;
use polars::prelude::*;

/// One line of the QoE guide's target table.
pub struct Target {
    pub scope: &'static str,
    pub network: &'static str,
    pub poor_stream_rate: f64,
    pub setup_failure_rate: f64,
    pub drop_failure_rate: f64,
}

const fn t(scope: &'static str, network: &'static str, psr: f64, setup: f64, drop: f64) -> Target {
    Target {
        scope,
        network,
        poor_stream_rate: psr,
        setup_failure_rate: setup,
        drop_failure_rate: drop,
    }
}

/// The QoE guide's Table 2, in its order (fractions: 0.03 = 3 %).
pub const TARGETS: &[Target] = &[
    t("All", "Overall", 0.03, 0.01, 0.03),
    t("All", "Internal", 0.02, 0.005, 0.02),
    t("Conferencing", "Overall", 0.02, 0.005, 0.03),
    t("Conferencing", "Internal", 0.02, 0.005, 0.02),
    t("Conferencing", "Wired internal", 0.01, 0.005, 0.01),
    t("Conferencing", "Wi-Fi 5 GHz internal", 0.01, 0.005, 0.01),
    t("Conferencing", "Wi-Fi 2.4 GHz internal", 0.02, 0.005, 0.02),
    t("P2P", "Overall", 0.02, 0.01, 0.03),
    t("P2P", "Internal", 0.02, 0.005, 0.02),
    t("P2P", "Wired/Wi-Fi 5 GHz internal", 0.01, 0.005, 0.01),
    t("P2P", "Wired/Wi-Fi 5 GHz overall", 0.02, 0.01, 0.01),
];

pub fn target(scope: &str, network: &str) -> &'static Target {
    TARGETS
        .iter()
        .find(|t| t.scope == scope && t.network == network)
        .expect("known target")
}

/// True for every row (a column expression, so that counting it counts rows).
pub fn every_row() -> Expr {
    col("call_id").is_not_null().or(col("call_id").is_null())
}

/// The streams of a target line, over the per-stream frame (`crate::load::streams_frame`).
/// Conferencing is Client:Server, P2P Client:Client (`scope`). Internal means the user's
/// endpoint is inside corp by the building file; wired / Wi-Fi band are the user's network.
pub fn stream_filter(scope: &str, network: &str) -> Expr {
    let scope_e = match scope {
        "Conferencing" => is("scope", "conferencing"),
        "P2P" => is("scope", "p2p"),
        _ => every_row(),
    };
    let inside = col("user_inside");
    let wired = is("user_connection_type", "wired");
    let wifi = is("user_connection_type", "wifi");
    let w5 = wifi.clone().and(is("user_wifi_band", "frequency50GHz"));
    let w24 = wifi.and(is("user_wifi_band", "frequency24GHz"));
    let net = match network {
        "Internal" => inside,
        "Wired internal" => inside.and(wired),
        "Wi-Fi 5 GHz internal" => inside.and(w5),
        "Wi-Fi 2.4 GHz internal" => inside.and(w24),
        "Wired/Wi-Fi 5 GHz internal" => inside.and(wired.or(w5)),
        "Wired/Wi-Fi 5 GHz overall" => wired.or(w5),
        _ => every_row(),
    };
    scope_e.and(net)
}

/// The segments of a target line (only the Overall lines: segments carry no building data).
/// Conferencing is a group call, P2P a peer-to-peer call.
pub fn segment_filter(scope: &str) -> Expr {
    match scope {
        "Conferencing" => is("call_type", "groupCall"),
        "P2P" => is("call_type", "peerToPeer"),
        _ => every_row(),
    }
}

/// `pass` when `rate` ≤ `target`, `fail` above it, `no data` when the denominator `n` is 0.
pub fn status_expr(rate: Expr, target: Expr, n: Expr) -> Expr {
    when(n.gt(lit(0)).fill_null(lit(false)).not())
        .then(lit("no data"))
        .when(rate.lt_eq(target))
        .then(lit("pass"))
        .otherwise(lit("fail"))
}

pub fn status(rate: Option<f64>, target: f64) -> &'static str {
    match rate {
        None => "no data",
        Some(r) if r <= target + 1e-12 => "pass",
        Some(_) => "fail",
    }
}

/// Which target line applies to a row of a breakdown table, as (scope, network) expressions:
/// by call type, group calls take the Conferencing line and peer-to-peer calls the P2P line;
/// by server pair, Client:Server is Conferencing and Client:Client P2P; by inside/outside,
/// inside takes the Internal line. Every other row is All / Overall.
pub fn row_target(dims: &[&str]) -> (Expr, Expr) {
    let scope = if dims.contains(&"call_type") {
        when(is("call_type", "groupCall"))
            .then(lit("Conferencing"))
            .when(is("call_type", "peerToPeer"))
            .then(lit("P2P"))
            .otherwise(lit("All"))
    } else if dims.contains(&"is_server_pair") {
        when(is("is_server_pair", "client:server"))
            .then(lit("Conferencing"))
            .when(is("is_server_pair", "client:client"))
            .then(lit("P2P"))
            .otherwise(lit("All"))
    } else {
        lit("All")
    };
    let network = if dims.contains(&"inside_outside") {
        when(is("inside_outside", "inside"))
            .then(lit("Internal"))
            .otherwise(lit("Overall"))
    } else {
        lit("Overall")
    };
    (scope, network)
}

/// Looks up a target value from the `target_scope` / `target_network` columns of a row.
pub fn target_value(which: fn(&Target) -> f64) -> Expr {
    let mut acc = lit(NULL).cast(DataType::Float64);
    for t in TARGETS.iter().rev() {
        let cond = is("target_scope", t.scope).and(is("target_network", t.network));
        acc = when(cond).then(lit(which(t))).otherwise(acc);
    }
    acc
}
