//! The quality columns of a `streams` row (emitted last, after the Graph columns).

use super::classify::{classify, Metrics, Modality};
use super::endpoints::{is_inbound, orient};
use super::Building;
use crate::decode::model::{Endpoint, NetworkInfo};
use crate::flatten::rows::StreamRow;
// Empty strings count as absent, as in the Graph columns.
use crate::flatten::tables::{endpoint_kind, ne as s};
use crate::schema::Emit;

fn is_server(e: Option<&Endpoint>) -> bool {
    e.is_some_and(|e| endpoint_kind(e) == "service")
}

fn building_of<'c>(ctx: &'c super::Context, n: Option<&NetworkInfo>) -> Option<&'c Building> {
    let n = n?;
    ctx.building(s(&n.subnet), s(&n.ip_address))
}

pub fn emit_stream_quality<W: Emit>(w: &mut W, r: &StreamRow) {
    let ctx = r.segment.session.call.quality;
    let seg = r.segment.segment;
    let x = r.stream;
    let modality = Modality::from_label(s(&r.media.label));
    let o = orient(
        is_server(seg.caller.as_ref()),
        is_server(seg.callee.as_ref()),
    );
    let inbound = is_inbound(o, x.and_then(|x| s(&x.stream_direction)));
    let metrics = match x {
        Some(x) => Metrics {
            packet_utilization: x.packet_utilization.map(|v| v.0),
            round_trip_ms: x.average_round_trip_time.map(|v| v.0),
            packet_loss_rate: x.average_packet_loss_rate.map(|v| v.0),
            jitter_ms: x.average_jitter.map(|v| v.0),
            audio_degradation: x.average_audio_degradation.map(|v| v.0),
            concealed_ratio: x.average_ratio_of_concealed_samples.map(|v| v.0),
            video_frame_loss_percent: x.average_video_frame_loss_percentage.map(|v| v.0),
            video_frame_rate_fps: x.average_video_frame_rate.map(|v| v.0),
            post_fec_packet_loss_rate: x
                .post_forward_error_correction_packet_loss_rate
                .map(|v| v.0),
            video_codec: s(&x.video_codec),
            is_inbound: inbound,
        },
        None => Metrics::default(),
    };
    let c = classify(ctx.profile, modality, &metrics);

    w.str(
        "modality",
        "derived: from media.label (case-insensitive): `main-audio` → `audio`; `main-video`, `panoramic-video` → `video`; `applicationsharing-video`, `video-based-screen-sharing` → `vbss`; `data` → `data`; any other label or none → `other`",
        Some(modality.as_str()),
    );
    w.str(
        "quality",
        "derived: `good` / `poor` / `unclassified` by the CQD rules of `quality_profile` for the modality. Audio (cqd-current): packetUtilization > 500 and then poor if any of averageRoundTripTime > 500 ms, averagePacketLossRate > 0.1, averageJitter > 30 ms; (cqd-legacy-5metric): no packet gate, also averageAudioDegradation > 1.0, averageRatioOfConcealedSamples > 0.07. Video: the first present of averageVideoFrameLossPercentage > 50, averageVideoFrameRate < 7, postForwardErrorCorrectionPacketLossRate > 0.15 decides. VBSS (cqd-current): frame loss > 50 for inbound non-H264S streams, frame rate < 1 for outbound and H264S streams; (legacy): 50 / < 2 / > 0.15 as video. A stream is judged on the metrics it has (NaN = missing) and is unclassified with none of them, below the audio packet gate, or when no rule applies. `data`, `other` and RDP application sharing are always unclassified: Graph has none of CQD's app-sharing metrics",
        Some(c.quality.as_str()),
    );
    w.list(
        "poor_reasons",
        "derived: the metrics that made the stream poor, in this order: `round_trip`, `packet_loss`, `jitter`, `degradation`, `concealed_ratio`, `video_frame_loss`, `video_frame_rate`, `video_post_fec_plr` (the video ones for VBSS too); empty when good, null when unclassified",
        c.reason_names(),
    );
    w.str(
        "quality_profile",
        "derived: the rule profile used for `quality` (`--quality-profile`): `cqd-current` or `cqd-legacy-5metric`",
        Some(ctx.profile.name()),
    );
    w.str(
        "first_side",
        "derived: which segment side is CQD's First: the server (serviceEndpoint) side when exactly one side is a server, else `caller`; `caller` / `callee`",
        Some(o.first.as_str()),
    );
    w.str(
        "is_server_pair",
        "derived: CQD Is Server Pair from the segment's endpoint kinds (serviceEndpoint = server; participant or unknown = client): `client:client`, `client:server`, `server:server`",
        Some(o.pair.as_str()),
    );
    w.bool(
        "is_inbound",
        "derived: true when streamDirection is CQD First-to-Second: toward the client (the user) in client:server segments, toward the callee in client:client segments; null for server:server or without a direction",
        inbound,
    );
    let m = r.media;
    let caller = building_of(ctx, m.caller_network.as_ref());
    let callee = building_of(ctx, m.callee_network.as_ref());
    w.group("caller_building_", "media.callerNetwork.", |w| {
        building(w, caller)
    });
    w.group("callee_building_", "media.calleeNetwork.", |w| {
        building(w, callee)
    });
}

/// One side's building columns; `b` is the matched row, if any.
fn building<W: Emit>(w: &mut W, b: Option<&Building>) {
    w.str(
        "name",
        "derived: BuildingName of the building-file row whose range holds the side's networkInfo.subnet (longest prefix; ipAddress when there is no subnet, or within a VPN range); null when none matches or without --buildings",
        b.and_then(|b| b.name.as_deref()),
    );
    w.str(
        "network_name",
        "derived: NetworkName of the matched building-file row",
        b.and_then(|b| b.network_name.as_deref()),
    );
    w.str(
        "city",
        "derived: City of the matched building-file row",
        b.and_then(|b| b.city.as_deref()),
    );
    w.str(
        "country",
        "derived: Country of the matched building-file row",
        b.and_then(|b| b.country.as_deref()),
    );
    w.str(
        "region",
        "derived: Region of the matched building-file row",
        b.and_then(|b| b.region.as_deref()),
    );
    w.bool(
        "inside_corp",
        "derived: InsideCorp of the matched building-file row; false (outside, as in CQD) when no row matches or without --buildings",
        Some(b.is_some_and(|b| b.inside_corp)),
    );
    w.bool(
        "express_route",
        "derived: ExpressRoute of the matched building-file row; null when none matches",
        b.map(|b| b.express_route),
    );
    w.bool(
        "vpn",
        "derived: VPN (column 15, default 0) of the matched building-file row; null when none matches",
        b.map(|b| b.vpn),
    );
}
