//! One emitter per output table: the column list and the values of a row, in one place.
//!
//! Column names are the snake_case path of the Graph property below the row's entity, with the
//! side as a prefix (`caller_network_connection_type`); durations end in `_ms`. Helper emitters
//! cover the Graph types that recur (endpoint, identity set, device, network, stream) so each
//! type's columns are written once and reused under every prefix.

use super::rows::*;
use crate::decode::model::*;
use crate::decode::scalar::Str;
use crate::schema::{ColumnSpec, Emit, SchemaCollector, Table};

fn s<'x>(v: &'x Option<Str<'_>>) -> Option<&'x str> {
    v.as_ref().map(|s| s.as_str())
}

/// Address-like strings: real exports send `""` where the docs send null; both mean "absent".
pub(crate) fn ne<'x>(v: &'x Option<Str<'_>>) -> Option<&'x str> {
    s(v).filter(|x| !x.is_empty())
}

fn duration_ms(start: Option<i64>, end: Option<i64>) -> Option<f64> {
    Some((end? - start?) as f64 / 1000.0)
}

pub fn collect_columns(t: Table) -> Vec<ColumnSpec> {
    let mut c = SchemaCollector::default();
    let rec = CallRecord::default();
    let call = CallCtx {
        rec: &rec,
        source_path: "",
        source_position: "",
        quality: &crate::quality::DEFAULT_CONTEXT,
    };
    let session = Session::default();
    let srow = SessionRow {
        call: &call,
        ordinal: 0,
        session: &session,
        page_path: None,
    };
    let segment = Segment::default();
    let segrow = SegmentRow {
        session: &srow,
        ordinal: 0,
        segment: &segment,
    };
    let media = Media::default();
    match t {
        Table::Calls => emit_call(&mut c, &call),
        Table::Participants => emit_participant(
            &mut c,
            &ParticipantRow {
                call: &call,
                ordinal: 0,
                source: "",
                participant: None,
                legacy: None,
                page_path: None,
            },
        ),
        Table::Sessions => emit_session(&mut c, &srow),
        Table::Segments => emit_segment(&mut c, &segrow),
        Table::Streams => emit_stream(
            &mut c,
            &StreamRow {
                segment: &segrow,
                media_ordinal: 0,
                media: &media,
                stream_ordinal: None,
                stream: None,
            },
        ),
        Table::TraceRouteHops => emit_hop(
            &mut c,
            &HopRow {
                segment: &segrow,
                media_ordinal: 0,
                media: &media,
                side: "",
                ordinal: 0,
                hop: &TraceRouteHop::default(),
            },
        ),
    }
    c.columns
}

// ---------------------------------------------------------------------------------------------
// Tables

pub fn emit_call<W: Emit>(w: &mut W, c: &CallCtx) {
    let r = c.rec;
    w.str("call_id", "callRecord.id", s(&r.id));
    w.i64("version", "", "callRecord.version", r.version.map(|v| v.0));
    w.str("type", "callRecord.type", s(&r.call_type));
    w.list(
        "modalities",
        "callRecord.modalities",
        r.modalities.as_ref().map(|m| m.iter().map(|x| x.as_str())),
    );
    w.ts(
        "start_date_time",
        "callRecord.startDateTime",
        r.start.map(|t| t.0),
    );
    w.ts(
        "end_date_time",
        "callRecord.endDateTime",
        r.end.map(|t| t.0),
    );
    w.ts(
        "last_modified_date_time",
        "callRecord.lastModifiedDateTime",
        r.last_modified.map(|t| t.0),
    );
    w.f64(
        "duration_ms",
        "ms",
        "derived: endDateTime - startDateTime",
        duration_ms(r.start.map(|t| t.0), r.end.map(|t| t.0)),
    );
    w.str("join_web_url", "callRecord.joinWebUrl", s(&r.join_web_url));
    w.group("organizer_", "organizer.", |w| {
        identity_set(w, r.organizer.as_ref())
    });
    w.str(
        "organizer_v2_id",
        "participantBase.id",
        r.organizer_v2.as_ref().and_then(|o| s(&o.id)),
    );
    w.group("organizer_v2_identity_", "organizer_v2.identity.", |w| {
        identity_set(w, r.organizer_v2.as_ref().and_then(|o| o.identity.as_ref()))
    });
    w.list(
        "organizer_v2_administrative_unit_ids",
        "administrativeUnitInfo.id",
        r.organizer_v2
            .as_ref()
            .and_then(|o| o.administrative_unit_infos.as_ref())
            .map(|l| l.iter().filter_map(|a| s(&a.id))),
    );
    w.i32(
        "participants_count",
        "count",
        "derived: number of items in the deprecated callRecord.participants list",
        r.participants.as_ref().map(|l| l.len() as i32),
    );
    w.i32(
        "participants_v2_count",
        "count",
        "derived: number of callRecord.participants_v2 items in the record",
        r.participants_v2.as_ref().map(|l| l.len() as i32),
    );
    w.i32(
        "session_count",
        "count",
        "derived: number of callRecord.sessions items in the record",
        r.sessions.as_ref().map(|l| l.len() as i32),
    );
    w.bool(
        "sessions_incomplete",
        "derived: true when the record still carries sessions@odata.nextLink (sessions beyond the first page were not exported)",
        Some(r.sessions_next_link.is_some()),
    );
    w.str(
        "sessions_next_link",
        "callRecord.sessions@odata.nextLink",
        s(&r.sessions_next_link),
    );
    w.bool(
        "participants_v2_incomplete",
        "derived: true when the record still carries participants_v2@odata.nextLink",
        Some(r.participants_v2_next_link.is_some()),
    );
    w.str(
        "participants_v2_next_link",
        "callRecord.participants_v2@odata.nextLink",
        s(&r.participants_v2_next_link),
    );
    w.str(
        "source_path",
        "key: input file the record was read from",
        Some(c.source_path),
    );
    w.str(
        "source_position",
        "key: where in that file (line for NDJSON, value[i] for pages, plus gzip member)",
        Some(c.source_position),
    );
}

pub fn emit_participant<W: Emit>(w: &mut W, p: &ParticipantRow) {
    w.str("call_id", "callRecord.id", s(&p.call.rec.id));
    w.i32(
        "participant_ordinal",
        "0-based",
        "key: position in the participants list it came from",
        Some(p.ordinal as i32),
    );
    w.str(
        "source",
        "derived: `participants_v2` (participant entity) or `participants` (deprecated identitySet list)",
        Some(p.source).filter(|x| !x.is_empty()),
    );
    w.str(
        "participant_id",
        "participantBase.id",
        p.participant.and_then(|x| s(&x.id)),
    );
    let identity = p.participant.and_then(|x| x.identity.as_ref()).or(p.legacy);
    w.group("identity_", "identity.", |w| identity_set(w, identity));
    w.list(
        "administrative_unit_ids",
        "administrativeUnitInfo.id",
        p.participant
            .and_then(|x| x.administrative_unit_infos.as_ref())
            .map(|l| l.iter().filter_map(|a| s(&a.id))),
    );
    w.str(
        "participants_page_path",
        "key: participants_v2 page file merged into the call, null when inline",
        p.page_path,
    );
}

fn session_keys<W: Emit>(w: &mut W, r: &SessionRow) {
    w.str("call_id", "callRecord.id", s(&r.call.rec.id));
    w.i32(
        "session_ordinal",
        "0-based",
        "key: position of the session in callRecord.sessions",
        Some(r.ordinal as i32),
    );
    w.str("session_id", "session.id", s(&r.session.id));
}

fn call_context<W: Emit>(w: &mut W, c: &CallCtx) {
    w.str("call_type", "callRecord.type", s(&c.rec.call_type));
    w.ts(
        "call_start_date_time",
        "callRecord.startDateTime",
        c.rec.start.map(|t| t.0),
    );
    w.ts(
        "call_end_date_time",
        "callRecord.endDateTime",
        c.rec.end.map(|t| t.0),
    );
}

pub fn emit_session<W: Emit>(w: &mut W, r: &SessionRow) {
    let x = r.session;
    session_keys(w, r);
    call_context(w, r.call);
    w.ts(
        "start_date_time",
        "session.startDateTime",
        x.start.map(|t| t.0),
    );
    w.ts("end_date_time", "session.endDateTime", x.end.map(|t| t.0));
    w.f64(
        "duration_ms",
        "ms",
        "derived: endDateTime - startDateTime",
        duration_ms(x.start.map(|t| t.0), x.end.map(|t| t.0)),
    );
    w.bool("is_test", "session.isTest", x.is_test.map(|b| b.0));
    w.list(
        "modalities",
        "session.modalities",
        x.modalities.as_ref().map(|m| m.iter().map(|v| v.as_str())),
    );
    w.group("failure_info_", "failureInfo.", |w| {
        failure(w, x.failure_info.as_ref())
    });
    w.i32(
        "segment_count",
        "count",
        "derived: number of session.segments items",
        x.segments.as_ref().map(|l| l.len() as i32),
    );
    w.str(
        "segments_next_link",
        "session.segments@odata.nextLink",
        s(&x.segments_next_link),
    );
    w.str(
        "sessions_page_path",
        "key: sessions page file merged into the call, null when inline",
        r.page_path,
    );
    w.group("caller_", "caller.", |w| endpoint(w, x.caller.as_ref()));
    w.group("callee_", "callee.", |w| endpoint(w, x.callee.as_ref()));
}

fn segment_keys<W: Emit>(w: &mut W, r: &SegmentRow) {
    session_keys(w, r.session);
    w.i32(
        "segment_ordinal",
        "0-based",
        "key: position of the segment in session.segments",
        Some(r.ordinal as i32),
    );
    w.str("segment_id", "segment.id", s(&r.segment.id));
}

fn session_context<W: Emit>(w: &mut W, r: &SessionRow) {
    w.ts(
        "session_start_date_time",
        "session.startDateTime",
        r.session.start.map(|t| t.0),
    );
    w.ts(
        "session_end_date_time",
        "session.endDateTime",
        r.session.end.map(|t| t.0),
    );
    w.bool(
        "session_is_test",
        "session.isTest",
        r.session.is_test.map(|b| b.0),
    );
}

pub fn emit_segment<W: Emit>(w: &mut W, r: &SegmentRow) {
    let x = r.segment;
    segment_keys(w, r);
    call_context(w, r.session.call);
    session_context(w, r.session);
    w.ts(
        "start_date_time",
        "segment.startDateTime",
        x.start.map(|t| t.0),
    );
    w.ts("end_date_time", "segment.endDateTime", x.end.map(|t| t.0));
    w.f64(
        "duration_ms",
        "ms",
        "derived: endDateTime - startDateTime",
        duration_ms(x.start.map(|t| t.0), x.end.map(|t| t.0)),
    );
    w.group("failure_info_", "failureInfo.", |w| {
        failure(w, x.failure_info.as_ref())
    });
    w.i32(
        "media_count",
        "count",
        "derived: number of segment.media items",
        x.media.as_ref().map(|l| l.len() as i32),
    );
    w.group("caller_", "caller.", |w| endpoint(w, x.caller.as_ref()));
    w.group("callee_", "callee.", |w| endpoint(w, x.callee.as_ref()));
}

pub fn emit_stream<W: Emit>(w: &mut W, r: &StreamRow) {
    let seg = r.segment;
    segment_keys(w, seg);
    w.i32(
        "media_ordinal",
        "0-based",
        "key: position of the media line in segment.media",
        Some(r.media_ordinal as i32),
    );
    w.str("media_label", "media.label", s(&r.media.label));
    w.i32(
        "stream_ordinal",
        "0-based",
        "key: position of the stream in media.streams; null for a media line without streams",
        r.stream_ordinal.map(|o| o as i32),
    );
    call_context(w, seg.session.call);
    session_context(w, seg.session);
    w.ts(
        "segment_start_date_time",
        "segment.startDateTime",
        seg.segment.start.map(|t| t.0),
    );
    w.ts(
        "segment_end_date_time",
        "segment.endDateTime",
        seg.segment.end.map(|t| t.0),
    );
    w.str(
        "segment_failure_info_stage",
        "failureInfo.stage",
        seg.segment.failure_info.as_ref().and_then(|f| s(&f.stage)),
    );
    w.group("caller_", "segment.caller.", |w| {
        endpoint_summary(w, seg.segment.caller.as_ref())
    });
    w.group("callee_", "segment.callee.", |w| {
        endpoint_summary(w, seg.segment.callee.as_ref())
    });
    media_stream(w, r.stream);
    let m = r.media;
    w.group("caller_device_", "media.callerDevice.", |w| {
        device(w, m.caller_device.as_ref())
    });
    w.group("callee_device_", "media.calleeDevice.", |w| {
        device(w, m.callee_device.as_ref())
    });
    w.group("caller_network_", "media.callerNetwork.", |w| {
        network(w, m.caller_network.as_ref())
    });
    w.group("callee_network_", "media.calleeNetwork.", |w| {
        network(w, m.callee_network.as_ref())
    });
    crate::quality::columns::emit_stream_quality(w, r);
}

pub fn emit_hop<W: Emit>(w: &mut W, r: &HopRow) {
    segment_keys(w, r.segment);
    w.i32(
        "media_ordinal",
        "0-based",
        "key: position of the media line in segment.media",
        Some(r.media_ordinal as i32),
    );
    w.str("media_label", "media.label", s(&r.media.label));
    w.str(
        "side",
        "key: `caller` (media.callerNetwork) or `callee` (media.calleeNetwork)",
        Some(r.side).filter(|x| !x.is_empty()),
    );
    w.i32(
        "hop_ordinal",
        "0-based",
        "key: position of the hop in networkInfo.traceRouteHops",
        Some(r.ordinal as i32),
    );
    w.ts(
        "call_start_date_time",
        "callRecord.startDateTime",
        r.segment.session.call.rec.start.map(|t| t.0),
    );
    w.i32(
        "hop_count",
        "hops",
        "traceRouteHop.hopCount",
        r.hop.hop_count.map(|v| v.0),
    );
    w.str(
        "ip_address",
        "traceRouteHop.ipAddress",
        ne(&r.hop.ip_address),
    );
    w.f64(
        "round_trip_time_ms",
        "ms",
        "traceRouteHop.roundTripTime",
        r.hop.round_trip_time.map(|v| v.0),
    );
}

// ---------------------------------------------------------------------------------------------
// Reused groups

fn failure<W: Emit>(w: &mut W, f: Option<&FailureInfo>) {
    w.str("stage", "failureInfo.stage", f.and_then(|f| s(&f.stage)));
    w.str("reason", "failureInfo.reason", f.and_then(|f| s(&f.reason)));
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.as_bytes()[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// `participant`, `service` or `unknown`: from `@odata.type`, else from the properties present.
pub fn endpoint_kind(e: &Endpoint) -> &'static str {
    if let Some(t) = s(&e.odata_type) {
        if ends_with_ignore_case(t, "participantendpoint") {
            return "participant";
        }
        if ends_with_ignore_case(t, "serviceendpoint") {
            return "service";
        }
    }
    if e.name.is_some()
        || e.cpu_name.is_some()
        || e.cpu_cores_count.is_some()
        || e.cpu_processor_speed_in_mhz.is_some()
        || e.feedback.is_some()
        || e.identity.is_some()
        || e.associated_identity.is_some()
    {
        return "participant";
    }
    match e.user_agent.as_ref().map(user_agent_kind) {
        Some("service") => "service",
        Some("client") => "participant",
        _ => "unknown",
    }
}

/// `client`, `service` or `unknown`: from `@odata.type`, else from the properties present.
pub fn user_agent_kind(u: &UserAgent) -> &'static str {
    if let Some(t) = s(&u.odata_type) {
        if ends_with_ignore_case(t, "clientuseragent") {
            return "client";
        }
        if ends_with_ignore_case(t, "serviceuseragent") {
            return "service";
        }
    }
    if u.role.is_some() {
        "service"
    } else if u.platform.is_some()
        || u.product_family.is_some()
        || u.azure_ad_app_id.is_some()
        || u.communication_service_id.is_some()
    {
        "client"
    } else {
        "unknown"
    }
}

/// The id that identifies the endpoint's participant: `associatedIdentity.id`, else the id of the
/// first filled slot of the deprecated `identity` set.
fn endpoint_participant_id<'x>(e: &'x Endpoint) -> Option<&'x str> {
    e.associated_identity
        .as_ref()
        .and_then(|a| s(&a.parsed.id))
        .or_else(|| {
            e.identity
                .as_ref()
                .and_then(|i| i.parsed.primary())
                .and_then(|(_, i)| s(&i.id))
        })
}

fn endpoint<W: Emit>(w: &mut W, e: Option<&Endpoint>) {
    w.str("kind", "derived: `participant` / `service` / `unknown` from endpoint @odata.type, else from the properties present", e.map(endpoint_kind));
    w.str(
        "odata_type",
        "endpoint.@odata.type",
        e.and_then(|e| s(&e.odata_type)),
    );
    w.str(
        "participant_id",
        "derived: associatedIdentity.id, else the id of the first filled slot of the deprecated identity set",
        e.and_then(endpoint_participant_id),
    );
    w.str(
        "name",
        "participantEndpoint.name",
        e.and_then(|e| s(&e.name)),
    );
    w.str(
        "cpu_name",
        "participantEndpoint.cpuName",
        e.and_then(|e| s(&e.cpu_name)),
    );
    w.i32(
        "cpu_cores_count",
        "cores",
        "participantEndpoint.cpuCoresCount",
        e.and_then(|e| e.cpu_cores_count.map(|v| v.0)),
    );
    w.i32(
        "cpu_processor_speed_in_mhz",
        "MHz",
        "participantEndpoint.cpuProcessorSpeedInMhz",
        e.and_then(|e| e.cpu_processor_speed_in_mhz.map(|v| v.0)),
    );
    w.group("user_agent_", "userAgent.", |w| {
        user_agent(w, e.and_then(|e| e.user_agent.as_ref()))
    });
    w.group("associated_identity_", "associatedIdentity.", |w| {
        identity(w, e.and_then(|e| e.associated_identity.as_ref()))
    });
    w.group("identity_", "identity.", |w| {
        identity_set(w, e.and_then(|e| e.identity.as_ref()))
    });
    w.group("feedback_", "feedback.", |w| {
        feedback(w, e.and_then(|e| e.feedback.as_ref()))
    });
}

/// The endpoint columns a stream row carries for grouping without a join.
fn endpoint_summary<W: Emit>(w: &mut W, e: Option<&Endpoint>) {
    let ua = e.and_then(|e| e.user_agent.as_ref());
    w.str(
        "kind",
        "derived: `participant` / `service` / `unknown` (see segments)",
        e.map(endpoint_kind),
    );
    w.str(
        "participant_id",
        "derived: associatedIdentity.id, else the deprecated identity set's id",
        e.and_then(endpoint_participant_id),
    );
    w.str(
        "user_agent_platform",
        "clientUserAgent.platform",
        ua.and_then(|u| s(&u.platform)),
    );
    w.str(
        "user_agent_product_family",
        "clientUserAgent.productFamily",
        ua.and_then(|u| s(&u.product_family)),
    );
    w.str(
        "user_agent_role",
        "serviceUserAgent.role",
        ua.and_then(|u| s(&u.role)),
    );
    w.str(
        "user_agent_application_version",
        "userAgent.applicationVersion",
        ua.and_then(|u| s(&u.application_version)),
    );
}

fn user_agent<W: Emit>(w: &mut W, u: Option<&UserAgent>) {
    w.str("kind", "derived: `client` / `service` / `unknown` from userAgent @odata.type, else from the properties present", u.map(user_agent_kind));
    w.str(
        "odata_type",
        "userAgent.@odata.type",
        u.and_then(|u| s(&u.odata_type)),
    );
    w.str(
        "header_value",
        "userAgent.headerValue",
        u.and_then(|u| s(&u.header_value)),
    );
    w.str(
        "application_version",
        "userAgent.applicationVersion",
        u.and_then(|u| s(&u.application_version)),
    );
    w.str(
        "platform",
        "clientUserAgent.platform",
        u.and_then(|u| s(&u.platform)),
    );
    w.str(
        "product_family",
        "clientUserAgent.productFamily",
        u.and_then(|u| s(&u.product_family)),
    );
    w.str(
        "azure_ad_app_id",
        "clientUserAgent.azureADAppId",
        u.and_then(|u| s(&u.azure_ad_app_id)),
    );
    w.str(
        "communication_service_id",
        "clientUserAgent.communicationServiceId",
        u.and_then(|u| s(&u.communication_service_id)),
    );
    w.str("role", "serviceUserAgent.role", u.and_then(|u| s(&u.role)));
}

fn identity<W: Emit>(w: &mut W, i: Option<&WithRaw<Identity>>) {
    let p = i.map(|i| &i.parsed);
    w.str("id", "identity.id", p.and_then(|i| s(&i.id)));
    w.str(
        "display_name",
        "identity.displayName",
        p.and_then(|i| s(&i.display_name)),
    );
    w.str(
        "tenant_id",
        "identity.tenantId",
        p.and_then(|i| s(&i.tenant_id)),
    );
    w.str(
        "user_principal_name",
        "identity.userPrincipalName",
        p.and_then(|i| s(&i.user_principal_name)),
    );
    w.str(
        "odata_type",
        "identity.@odata.type",
        p.and_then(|i| s(&i.odata_type)),
    );
    let json = i.map(|i| compact_json(i.raw));
    w.str(
        "json",
        "derived: the whole identity as compact JSON (open type: keeps undeclared keys)",
        json.as_deref(),
    );
}

/// An identity set collapsed to its first filled slot, plus the whole set as JSON.
fn identity_set<W: Emit>(w: &mut W, set: Option<&WithRaw<IdentitySet>>) {
    let primary = set.and_then(|x| x.parsed.primary());
    let id = primary.map(|(_, i)| i);
    w.str(
        "kind",
        "derived: name of the first filled slot (user, phone, guest, applicationInstance, application, acsUser, …)",
        primary.map(|(k, _)| k),
    );
    w.str("id", "identity.id", id.and_then(|i| s(&i.id)));
    w.str(
        "display_name",
        "identity.displayName",
        id.and_then(|i| s(&i.display_name)),
    );
    w.str(
        "tenant_id",
        "identity.tenantId",
        id.and_then(|i| s(&i.tenant_id)),
    );
    w.str(
        "user_principal_name",
        "identity.userPrincipalName",
        id.and_then(|i| s(&i.user_principal_name)),
    );
    w.str(
        "endpoint_type",
        "communicationsIdentitySet.endpointType",
        set.and_then(|x| s(&x.parsed.endpoint_type)),
    );
    let json = set.map(|x| compact_json(x.raw));
    w.str(
        "json",
        "derived: the whole identity set as compact JSON (every slot, including undeclared ones)",
        json.as_deref(),
    );
}

fn feedback<W: Emit>(w: &mut W, f: Option<&UserFeedback>) {
    w.str(
        "rating",
        "userFeedback.rating",
        f.and_then(|f| s(&f.rating)),
    );
    w.str("text", "userFeedback.text", f.and_then(|f| s(&f.text)));
    let tokens: Option<serde_json::Map<String, serde_json::Value>> = f
        .and_then(|f| f.tokens)
        .and_then(|raw| serde_json::from_str(raw.get()).ok());
    w.list(
        "tokens",
        "derived: names of the feedbackTokenSet tokens whose value is true",
        tokens.as_ref().map(|m| {
            m.iter()
                .filter(|(_, v)| v.as_bool() == Some(true))
                .map(|(k, _)| k.as_str())
        }),
    );
    let json = f.and_then(|f| f.tokens).map(compact_json);
    w.str(
        "tokens_json",
        "userFeedback.tokens (feedbackTokenSet, open type) as compact JSON",
        json.as_deref(),
    );
}

fn media_stream<W: Emit>(w: &mut W, x: Option<&MediaStream>) {
    macro_rules! f {
        ($f:ident) => {
            x.and_then(|x| x.$f.map(|v| v.0))
        };
    }
    w.str(
        "stream_id",
        "mediaStream.streamId",
        x.and_then(|x| s(&x.stream_id)),
    );
    w.str(
        "stream_direction",
        "mediaStream.streamDirection",
        x.and_then(|x| s(&x.stream_direction)),
    );
    w.ts("start_date_time", "mediaStream.startDateTime", f!(start));
    w.ts("end_date_time", "mediaStream.endDateTime", f!(end));
    w.str(
        "audio_codec",
        "mediaStream.audioCodec",
        x.and_then(|x| s(&x.audio_codec)),
    );
    w.str(
        "video_codec",
        "mediaStream.videoCodec",
        x.and_then(|x| s(&x.video_codec)),
    );
    w.f64(
        "average_audio_degradation",
        "MOS points",
        "mediaStream.averageAudioDegradation",
        f!(average_audio_degradation),
    );
    w.f64(
        "average_audio_network_jitter_ms",
        "ms",
        "mediaStream.averageAudioNetworkJitter",
        f!(average_audio_network_jitter),
    );
    w.i64(
        "average_bandwidth_estimate_bps",
        "bits/s",
        "mediaStream.averageBandwidthEstimate",
        f!(average_bandwidth_estimate),
    );
    w.f64(
        "average_freeze_duration_ms",
        "ms",
        "mediaStream.averageFreezeDuration",
        f!(average_freeze_duration),
    );
    w.f64(
        "average_jitter_ms",
        "ms",
        "mediaStream.averageJitter",
        f!(average_jitter),
    );
    w.f64(
        "average_packet_loss_rate",
        "fraction 0-1",
        "mediaStream.averagePacketLossRate",
        f!(average_packet_loss_rate),
    );
    w.f64(
        "average_ratio_of_concealed_samples",
        "fraction 0-1",
        "mediaStream.averageRatioOfConcealedSamples",
        f!(average_ratio_of_concealed_samples),
    );
    w.f64(
        "average_received_frame_rate_fps",
        "frames/s",
        "mediaStream.averageReceivedFrameRate",
        f!(average_received_frame_rate),
    );
    w.f64(
        "average_round_trip_time_ms",
        "ms",
        "mediaStream.averageRoundTripTime",
        f!(average_round_trip_time),
    );
    w.f64(
        "average_video_frame_loss_percentage",
        "percent 0-100",
        "mediaStream.averageVideoFrameLossPercentage",
        f!(average_video_frame_loss_percentage),
    );
    w.f64(
        "average_video_frame_rate_fps",
        "frames/s",
        "mediaStream.averageVideoFrameRate",
        f!(average_video_frame_rate),
    );
    w.f64(
        "average_video_packet_loss_rate",
        "fraction 0-1",
        "mediaStream.averageVideoPacketLossRate",
        f!(average_video_packet_loss_rate),
    );
    w.bool(
        "is_audio_forward_error_correction_used",
        "mediaStream.isAudioForwardErrorCorrectionUsed",
        f!(is_audio_forward_error_correction_used),
    );
    w.f64(
        "low_frame_rate_ratio",
        "fraction 0-1",
        "mediaStream.lowFrameRateRatio",
        f!(low_frame_rate_ratio),
    );
    w.f64(
        "low_video_processing_capability_ratio",
        "fraction 0-1",
        "mediaStream.lowVideoProcessingCapabilityRatio",
        f!(low_video_processing_capability_ratio),
    );
    w.f64(
        "max_audio_network_jitter_ms",
        "ms",
        "mediaStream.maxAudioNetworkJitter",
        f!(max_audio_network_jitter),
    );
    w.f64(
        "max_jitter_ms",
        "ms",
        "mediaStream.maxJitter",
        f!(max_jitter),
    );
    w.f64(
        "max_packet_loss_rate",
        "fraction 0-1",
        "mediaStream.maxPacketLossRate",
        f!(max_packet_loss_rate),
    );
    w.f64(
        "max_ratio_of_concealed_samples",
        "fraction 0-1",
        "mediaStream.maxRatioOfConcealedSamples",
        f!(max_ratio_of_concealed_samples),
    );
    w.f64(
        "max_round_trip_time_ms",
        "ms",
        "mediaStream.maxRoundTripTime",
        f!(max_round_trip_time),
    );
    w.i64(
        "packet_utilization",
        "packets",
        "mediaStream.packetUtilization",
        f!(packet_utilization),
    );
    w.f64(
        "post_forward_error_correction_packet_loss_rate",
        "fraction 0-1",
        "mediaStream.postForwardErrorCorrectionPacketLossRate",
        f!(post_forward_error_correction_packet_loss_rate),
    );
    w.f64(
        "rms_freeze_duration_ms",
        "ms",
        "mediaStream.rmsFreezeDuration",
        f!(rms_freeze_duration),
    );
    w.bool(
        "was_media_bypassed",
        "mediaStream.wasMediaBypassed",
        f!(was_media_bypassed),
    );
}

fn device<W: Emit>(w: &mut W, d: Option<&DeviceInfo>) {
    macro_rules! f {
        ($f:ident) => {
            d.and_then(|d| d.$f.map(|v| v.0))
        };
    }
    w.str(
        "capture_device_driver",
        "deviceInfo.captureDeviceDriver",
        d.and_then(|d| s(&d.capture_device_driver)),
    );
    w.str(
        "capture_device_name",
        "deviceInfo.captureDeviceName",
        d.and_then(|d| s(&d.capture_device_name)),
    );
    w.f64(
        "capture_not_functioning_event_ratio",
        "fraction 0-1",
        "deviceInfo.captureNotFunctioningEventRatio",
        f!(capture_not_functioning_event_ratio),
    );
    w.f64(
        "cpu_insufficent_event_ratio",
        "fraction 0-1",
        "deviceInfo.cpuInsufficentEventRatio",
        f!(cpu_insufficent_event_ratio),
    );
    w.f64(
        "device_clipping_event_ratio",
        "fraction 0-1",
        "deviceInfo.deviceClippingEventRatio",
        f!(device_clipping_event_ratio),
    );
    w.f64(
        "device_glitch_event_ratio",
        "fraction 0-1",
        "deviceInfo.deviceGlitchEventRatio",
        f!(device_glitch_event_ratio),
    );
    w.i32(
        "howling_event_count",
        "count",
        "deviceInfo.howlingEventCount",
        f!(howling_event_count),
    );
    w.f64(
        "initial_signal_level_root_mean_square",
        "RMS",
        "deviceInfo.initialSignalLevelRootMeanSquare",
        f!(initial_signal_level_root_mean_square),
    );
    w.f64(
        "low_speech_level_event_ratio",
        "fraction 0-1",
        "deviceInfo.lowSpeechLevelEventRatio",
        f!(low_speech_level_event_ratio),
    );
    w.f64(
        "low_speech_to_noise_event_ratio",
        "fraction 0-1",
        "deviceInfo.lowSpeechToNoiseEventRatio",
        f!(low_speech_to_noise_event_ratio),
    );
    w.f64(
        "mic_glitch_rate",
        "glitches per 5 min",
        "deviceInfo.micGlitchRate",
        f!(mic_glitch_rate),
    );
    w.i32(
        "received_noise_level",
        "dBFS",
        "deviceInfo.receivedNoiseLevel",
        f!(received_noise_level),
    );
    w.i32(
        "received_signal_level",
        "dBFS",
        "deviceInfo.receivedSignalLevel",
        f!(received_signal_level),
    );
    w.str(
        "render_device_driver",
        "deviceInfo.renderDeviceDriver",
        d.and_then(|d| s(&d.render_device_driver)),
    );
    w.str(
        "render_device_name",
        "deviceInfo.renderDeviceName",
        d.and_then(|d| s(&d.render_device_name)),
    );
    w.f64(
        "render_mute_event_ratio",
        "fraction 0-1",
        "deviceInfo.renderMuteEventRatio",
        f!(render_mute_event_ratio),
    );
    w.f64(
        "render_not_functioning_event_ratio",
        "fraction 0-1",
        "deviceInfo.renderNotFunctioningEventRatio",
        f!(render_not_functioning_event_ratio),
    );
    w.f64(
        "render_zero_volume_event_ratio",
        "fraction 0-1",
        "deviceInfo.renderZeroVolumeEventRatio",
        f!(render_zero_volume_event_ratio),
    );
    w.i32(
        "sent_noise_level",
        "dBFS",
        "deviceInfo.sentNoiseLevel",
        f!(sent_noise_level),
    );
    w.i32(
        "sent_signal_level",
        "dBFS",
        "deviceInfo.sentSignalLevel",
        f!(sent_signal_level),
    );
    w.f64(
        "speaker_glitch_rate",
        "glitches per 5 min",
        "deviceInfo.speakerGlitchRate",
        f!(speaker_glitch_rate),
    );
}

fn network<W: Emit>(w: &mut W, n: Option<&NetworkInfo>) {
    macro_rules! f {
        ($f:ident) => {
            n.and_then(|n| n.$f.map(|v| v.0))
        };
    }
    macro_rules! t {
        ($f:ident) => {
            n.and_then(|n| ne(&n.$f))
        };
    }
    w.f64(
        "bandwidth_low_event_ratio",
        "fraction 0-1",
        "networkInfo.bandwidthLowEventRatio",
        f!(bandwidth_low_event_ratio),
    );
    w.str(
        "basic_service_set_identifier",
        "networkInfo.basicServiceSetIdentifier",
        t!(basic_service_set_identifier),
    );
    w.str(
        "connection_type",
        "networkInfo.connectionType",
        t!(connection_type),
    );
    w.f64(
        "delay_event_ratio",
        "fraction 0-1",
        "networkInfo.delayEventRatio",
        f!(delay_event_ratio),
    );
    w.str("dns_suffix", "networkInfo.dnsSuffix", t!(dns_suffix));
    w.str("ip_address", "networkInfo.ipAddress", t!(ip_address));
    w.i64(
        "link_speed_bps",
        "bits/s",
        "networkInfo.linkSpeed",
        f!(link_speed),
    );
    w.str("mac_address", "networkInfo.macAddress", t!(mac_address));
    w.str(
        "network_transport_protocol",
        "networkInfo.networkTransportProtocol",
        t!(network_transport_protocol),
    );
    w.i32("port", "", "networkInfo.port", f!(port));
    w.f64(
        "received_quality_event_ratio",
        "fraction 0-1",
        "networkInfo.receivedQualityEventRatio",
        f!(received_quality_event_ratio),
    );
    w.str(
        "reflexive_ip_address",
        "networkInfo.reflexiveIPAddress",
        t!(reflexive_ip_address),
    );
    w.str(
        "relay_ip_address",
        "networkInfo.relayIPAddress",
        t!(relay_ip_address),
    );
    w.i32("relay_port", "", "networkInfo.relayPort", f!(relay_port));
    w.f64(
        "sent_quality_event_ratio",
        "fraction 0-1",
        "networkInfo.sentQualityEventRatio",
        f!(sent_quality_event_ratio),
    );
    w.str("subnet", "networkInfo.subnet", t!(subnet));
    w.i32(
        "trace_route_hop_count",
        "count",
        "networkInfo.traceRouteHops (number of hops; the hops are rows of trace_route_hops)",
        n.and_then(|n| n.trace_route_hops.as_ref().map(|h| h.len() as i32)),
    );
    w.str("wifi_band", "networkInfo.wifiBand", t!(wifi_band));
    w.i32(
        "wifi_battery_charge_percent",
        "percent 0-100",
        "networkInfo.wifiBatteryCharge",
        f!(wifi_battery_charge),
    );
    w.i32(
        "wifi_channel",
        "",
        "networkInfo.wifiChannel",
        f!(wifi_channel),
    );
    w.str(
        "wifi_microsoft_driver",
        "networkInfo.wifiMicrosoftDriver",
        t!(wifi_microsoft_driver),
    );
    w.str(
        "wifi_microsoft_driver_version",
        "networkInfo.wifiMicrosoftDriverVersion",
        t!(wifi_microsoft_driver_version),
    );
    w.str(
        "wifi_radio_type",
        "networkInfo.wifiRadioType",
        t!(wifi_radio_type),
    );
    w.i32(
        "wifi_signal_strength_percent",
        "percent 0-100",
        "networkInfo.wifiSignalStrength",
        f!(wifi_signal_strength),
    );
    w.str(
        "wifi_vendor_driver",
        "networkInfo.wifiVendorDriver",
        t!(wifi_vendor_driver),
    );
    w.str(
        "wifi_vendor_driver_version",
        "networkInfo.wifiVendorDriverVersion",
        t!(wifi_vendor_driver_version),
    );
}
