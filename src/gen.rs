//! A deterministic generator of realistic callRecord archives, for benchmarks and soak tests.
//!
//! `callrec gen --size-mb N --seed S --out DIR` writes an archive shaped like real exports: group
//! calls with many sessions to a conference server, peer-to-peer calls with one or two segments,
//! audio, video, screen sharing and data media lines with every metric, both schema generations,
//! and the layouts a real archive mixes (single pretty or compact records, collection pages,
//! NDJSON, about 10% gzip). The same seed and size always give the same bytes.

use anyhow::Result;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// SplitMix64: tiny, fast, and stable across versions (unlike a crate's default RNG).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn f(&mut self, lo: f64, hi: f64) -> f64 {
        let x = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((lo + x * (hi - lo)) * 1e6).round() / 1e6
    }
    fn guid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn ts(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .expect("in range")
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn dur(ms: f64) -> String {
    format!("PT{:.3}S", ms / 1000.0)
}

struct Person {
    id: String,
    name: String,
    upn: String,
}

fn person(r: &mut Rng, tenant: &str) -> Person {
    let first = r.pick(&[
        "Alex", "Bea", "Chen", "Dana", "Eli", "Farah", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lina",
    ]);
    let last = r.pick(&[
        "Ng", "Olsen", "Park", "Quinn", "Rossi", "Sato", "Tran", "Ueda", "Vega", "Weber",
    ]);
    let id = r.guid();
    let _ = tenant;
    Person {
        upn: format!(
            "{}.{}{}@contoso.com",
            first.to_lowercase(),
            last.to_lowercase(),
            &id[..4]
        ),
        name: format!("{first} {last}"),
        id,
    }
}

fn device(r: &mut Rng) -> Value {
    json!({
        "captureDeviceDriver": r.pick(&["Microsoft: 10.0.22621.1", "Realtek: 6.0.9235.1", "Apple: 15.2"]),
        "captureDeviceName": r.pick(&["Microphone (Jabra Evolve2 65)", "Microphone Array (Realtek Audio)", "MacBook Pro Microphone"]),
        "captureNotFunctioningEventRatio": r.f(0.0, 0.02),
        "cpuInsufficentEventRatio": r.f(0.0, 0.05),
        "deviceClippingEventRatio": r.f(0.0, 0.03),
        "deviceGlitchEventRatio": r.f(0.0, 0.04),
        "howlingEventCount": r.below(3),
        "initialSignalLevelRootMeanSquare": r.f(20.0, 180.0),
        "lowSpeechLevelEventRatio": r.f(0.0, 0.1),
        "lowSpeechToNoiseEventRatio": r.f(0.0, 0.1),
        "micGlitchRate": r.f(0.0, 30.0),
        "receivedNoiseLevel": -(r.range(60, 90) as i64),
        "receivedSignalLevel": -(r.range(10, 40) as i64),
        "renderDeviceDriver": r.pick(&["Microsoft: 10.0.22621.1", "Realtek: 6.0.9235.1"]),
        "renderDeviceName": r.pick(&["Speakers (Jabra Evolve2 65)", "Speakers (Realtek Audio)", "MacBook Pro Speakers"]),
        "renderMuteEventRatio": r.f(0.0, 0.3),
        "renderNotFunctioningEventRatio": r.f(0.0, 0.01),
        "renderZeroVolumeEventRatio": r.f(0.0, 0.01),
        "sentNoiseLevel": -(r.range(60, 90) as i64),
        "sentSignalLevel": -(r.range(10, 40) as i64),
        "speakerGlitchRate": r.f(0.0, 20.0),
    })
}

fn network(r: &mut Rng, service: bool) -> Value {
    if service {
        return json!({
            "connectionType": "wired", "ipAddress": format!("52.114.{}.{}", r.below(256), r.below(256)),
            "subnet": "", "linkSpeed": 0, "macAddress": "", "port": r.range(3478, 3481),
            "networkTransportProtocol": "udp", "wifiBand": "unknown", "wifiRadioType": "unknown",
            "traceRouteHops": [], "reflexiveIPAddress": "", "relayIPAddress": "", "dnsSuffix": "",
            "sentQualityEventRatio": 0, "receivedQualityEventRatio": 0, "delayEventRatio": 0, "bandwidthLowEventRatio": 0,
        });
    }
    let wifi = r.chance(0.5);
    let site = r.below(40);
    let hops: Vec<Value> = if r.chance(0.2) {
        (0..r.range(2, 6))
            .map(|h| json!({"hopCount": h + 1, "ipAddress": format!("10.{site}.0.{}", h + 1), "roundTripTime": dur(r.f(1.0, 40.0))}))
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "bandwidthLowEventRatio": r.f(0.0, 0.05),
        "basicServiceSetIdentifier": if wifi { format!("00:1a:2b:{:02x}:{:02x}:{:02x}", r.below(256), r.below(256), r.below(256)) } else { String::new() },
        "connectionType": if wifi { "wifi" } else { r.pick(&["wired", "wired", "mobile", "tunnel"]) },
        "delayEventRatio": r.f(0.0, 0.05),
        "dnsSuffix": "corp.contoso.com",
        "ipAddress": format!("10.{site}.{}.{}", r.below(256), r.below(256)),
        "linkSpeed": if wifi { 866_700_000u64 } else if r.chance(0.05) { 4_294_967_295 } else { 1_000_000_000 },
        "macAddress": format!("00-1A-2B-{:02X}-{:02X}-{:02X}", r.below(256), r.below(256), r.below(256)),
        "networkTransportProtocol": if r.chance(0.9) { "udp" } else { "tcp" },
        "port": r.range(50000, 50059),
        "receivedQualityEventRatio": r.f(0.0, 0.1),
        "reflexiveIPAddress": format!("203.0.{}.{}", r.below(256), r.below(256)),
        "relayIPAddress": format!("52.115.{}.{}", r.below(256), r.below(256)),
        "relayPort": 3478,
        "sentQualityEventRatio": r.f(0.0, 0.1),
        "subnet": format!("10.{site}.{}.0", r.below(8)),
        "traceRouteHops": hops,
        "wifiBand": if wifi { r.pick(&["frequency24GHz", "frequency50GHz", "frequency50GHz"]) } else { "unknown" },
        "wifiBatteryCharge": if wifi { r.below(101) } else { 0 },
        "wifiChannel": if wifi { r.pick(&["1", "6", "11", "36", "44", "149"]).parse::<u32>().unwrap_or(1) } else { 0 },
        "wifiMicrosoftDriver": if wifi { "Microsoft Wi-Fi Direct Virtual Adapter" } else { "" },
        "wifiMicrosoftDriverVersion": if wifi { "10.0.22621.1" } else { "" },
        "wifiRadioType": if wifi { r.pick(&["wifi80211ac", "wifi80211ax", "wifi80211n"]) } else { "unknown" },
        "wifiSignalStrength": if wifi { r.range(30, 100) } else { 0 },
        "wifiVendorDriver": if wifi { "Intel(R) Wi-Fi 6E AX211 160MHz" } else { "" },
        "wifiVendorDriverVersion": if wifi { "22.200.0.6" } else { "" },
    })
}

fn stream(r: &mut Rng, dir: &str, label: &str) -> Value {
    let bad = r.chance(0.05);
    let video = label != "main-audio" && label != "data";
    json!({
        "streamId": r.range(100, 2_000_000_000).to_string(),
        "streamDirection": dir,
        "startDateTime": null,
        "endDateTime": null,
        "audioCodec": if label == "main-audio" { r.pick(&["opus", "satin", "silkWide", "g722"]) } else { "unknown" },
        "videoCodec": if video { r.pick(&["h264", "h264s", "av1", "h264uc"]) } else { "unknown" },
        "averageAudioDegradation": if bad { r.f(1.0, 2.5) } else { r.f(0.0, 0.8) },
        "averageAudioNetworkJitter": dur(r.f(1.0, if bad { 80.0 } else { 25.0 })),
        "averageBandwidthEstimate": r.range(500_000, 20_000_000),
        "averageFreezeDuration": dur(r.f(0.0, 500.0)),
        "averageJitter": dur(r.f(1.0, if bad { 90.0 } else { 25.0 })),
        "averagePacketLossRate": if bad { r.f(0.05, 0.3) } else { r.f(0.0, 0.02) },
        "averageRatioOfConcealedSamples": r.f(0.0, if bad { 0.2 } else { 0.05 }),
        "averageReceivedFrameRate": if video { r.f(5.0, 30.0) } else { 0.0 },
        "averageRoundTripTime": dur(r.f(10.0, if bad { 900.0 } else { 200.0 })),
        "averageVideoFrameLossPercentage": if video { r.f(0.0, if bad { 70.0 } else { 5.0 }) } else { 0.0 },
        "averageVideoFrameRate": if video { r.f(5.0, 30.0) } else { 0.0 },
        "averageVideoPacketLossRate": if video { r.f(0.0, 0.05) } else { 0.0 },
        "isAudioForwardErrorCorrectionUsed": r.chance(0.3),
        "lowFrameRateRatio": if video { r.f(0.0, 0.2) } else { 0.0 },
        "lowVideoProcessingCapabilityRatio": if video { r.f(0.0, 0.1) } else { 0.0 },
        "maxAudioNetworkJitter": dur(r.f(20.0, 150.0)),
        "maxJitter": dur(r.f(20.0, 150.0)),
        "maxPacketLossRate": r.f(0.0, 0.4),
        "maxRatioOfConcealedSamples": r.f(0.0, 0.4),
        "maxRoundTripTime": dur(r.f(50.0, 1500.0)),
        "packetUtilization": r.range(0, 90_000),
        "postForwardErrorCorrectionPacketLossRate": if video { r.f(0.0, 0.2) } else { 0.0 },
        "rmsFreezeDuration": dur(r.f(0.0, 900.0)),
        "wasMediaBypassed": false,
    })
}

fn client_endpoint(r: &mut Rng, p: &Person, tenant: &str, legacy: bool) -> Value {
    let platform = r.pick(&["windows", "windows", "macOS", "iOS", "android", "web"]);
    let mut e = json!({
        "@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
        "name": format!("PC-{}", &p.id[..6]),
        "cpuName": r.pick(&["Intel(R) Core(TM) i7-1365U", "Apple M2 Pro", "AMD Ryzen 7 7840U"]),
        "cpuCoresCount": r.pick(&["4", "8", "10", "12"]).parse::<u32>().unwrap_or(8),
        "cpuProcessorSpeedInMhz": r.range(1800, 3600),
        "userAgent": {
            "@odata.type": "#microsoft.graph.callRecords.clientUserAgent",
            "headerValue": format!("Teams/{} (Desktop; {platform})", r.pick(&["24215.1007.3082.1590", "24243.1309.3132.617"])),
            "applicationVersion": r.pick(&["24215.1007.3082.1590", "24243.1309.3132.617", "1.7.00.26062"]),
            "platform": platform,
            "productFamily": "teams",
            "azureADAppId": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
            "communicationServiceId": null,
        },
        "associatedIdentity": {"id": p.id, "displayName": p.name, "tenantId": tenant, "userPrincipalName": p.upn},
    });
    if legacy {
        e["identity"] = json!({"user": {"id": p.id, "displayName": p.name, "tenantId": tenant}});
    }
    if r.chance(0.1) {
        e["feedback"] = json!({"rating": r.pick(&["poor", "bad", "good", "excellent", "notRated"]), "text": null, "tokens": {"NoSound": false, "Echo": r.chance(0.5)}});
    }
    e
}

fn service_endpoint(role: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.callRecords.serviceEndpoint",
        "userAgent": {"@odata.type": "#microsoft.graph.callRecords.serviceUserAgent", "headerValue": null, "applicationVersion": null, "role": role},
    })
}

fn media_lines(r: &mut Rng, service_callee: bool) -> Vec<Value> {
    let mut labels = vec!["main-audio"];
    if r.chance(0.5) {
        labels.push("main-video");
    }
    if r.chance(0.15) {
        labels.push(if r.chance(0.5) {
            "applicationsharing-video"
        } else {
            "video-based-screen-sharing"
        });
    }
    if r.chance(0.1) {
        labels.push("data");
    }
    labels
        .into_iter()
        .map(|label| {
            json!({
                "label": label,
                "callerDevice": device(r),
                "calleeDevice": if service_callee { json!({}) } else { device(r) },
                "callerNetwork": network(r, false),
                "calleeNetwork": network(r, service_callee),
                "streams": [stream(r, "callerToCallee", label), stream(r, "calleeToCaller", label)],
            })
        })
        .collect()
}

/// One call record as JSON.
fn record(r: &mut Rng, day_start_us: i64) -> Value {
    let tenant = "dc368399-474c-4d40-900c-6265431fd81f";
    let id = r.guid();
    let group = r.chance(0.6);
    let start = day_start_us + r.below(86_400) as i64 * 1_000_000 + r.below(1_000_000) as i64;
    let len_us = r.range(60, 3600) as i64 * 1_000_000;
    let legacy = r.chance(0.3);
    let n_people = if group {
        if r.chance(0.05) {
            r.range(13, 40)
        } else {
            r.range(2, 12)
        }
    } else {
        2
    } as usize;
    let people: Vec<Person> = (0..n_people).map(|_| person(r, tenant)).collect();
    let sessions: Vec<Value> = if group {
        people
            .iter()
            .map(|p| {
                let s_start = start + r.below(60) as i64 * 1_000_000;
                let s_end = start + len_us - r.below(60) as i64 * 1_000_000;
                let caller = client_endpoint(r, p, tenant, legacy);
                let callee = service_endpoint("skypeForBusinessAudioVideoMcu");
                json!({
                    "id": r.guid(), "startDateTime": ts(s_start), "endDateTime": ts(s_end), "isTest": false,
                    "modalities": ["audio", "video"],
                    "caller": caller.clone(), "callee": callee.clone(),
                    "failureInfo": if r.chance(0.02) { json!({"stage": "midcall", "reason": "Media connectivity lost"}) } else { Value::Null },
                    "segments": [{
                        "id": r.guid(), "startDateTime": ts(s_start), "endDateTime": ts(s_end),
                        "caller": caller, "callee": callee, "failureInfo": null,
                        "media": media_lines(r, true),
                    }],
                })
            })
            .collect()
    } else {
        let caller = client_endpoint(r, &people[0], tenant, legacy);
        let callee = client_endpoint(r, &people[1], tenant, legacy);
        let n_seg = if r.chance(0.1) { 2 } else { 1 };
        let segments: Vec<Value> = (0..n_seg)
            .map(|k| {
                let seg_start = start + k * len_us / n_seg;
                json!({
                    "id": r.guid(), "startDateTime": ts(seg_start), "endDateTime": ts(seg_start + len_us / n_seg),
                    "caller": caller.clone(), "callee": callee.clone(), "failureInfo": null,
                    "media": media_lines(r, false),
                })
            })
            .collect();
        vec![json!({
            "id": id, "startDateTime": ts(start), "endDateTime": ts(start + len_us), "isTest": false,
            "modalities": ["audio"], "caller": caller, "callee": callee, "segments": segments,
        })]
    };
    let organizer = &people[0];
    let mut rec = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords(sessions(segments()))/$entity",
        "version": r.range(1, 3),
        "type": if group { "groupCall" } else { "peerToPeer" },
        "modalities": ["audio", "video"],
        "lastModifiedDateTime": ts(start + len_us + 600_000_000),
        "startDateTime": ts(start),
        "endDateTime": ts(start + len_us),
        "id": id,
        "joinWebUrl": if group { json!(format!("https://teams.microsoft.com/l/meetup-join/{}", r.guid())) } else { Value::Null },
        "organizer_v2": {"id": organizer.id, "identity": {"user": {"id": organizer.id, "displayName": organizer.name, "tenantId": tenant, "userPrincipalName": organizer.upn}}},
        "participants_v2": people.iter().map(|p| json!({"id": p.id, "identity": {"user": {"id": p.id, "displayName": p.name, "tenantId": tenant}}})).collect::<Vec<_>>(),
        "sessions": sessions,
    });
    if legacy {
        rec["organizer"] = json!({"user": {"id": organizer.id, "displayName": organizer.name, "tenantId": tenant}});
        rec["participants"] = people
            .iter()
            .map(|p| json!({"user": {"id": p.id, "displayName": p.name}}))
            .collect();
    }
    rec
}

/// 2026-10-01T00:00:00Z: the first day of every generated archive.
const DAY0_US: i64 = 1_790_812_800_000_000;

/// `n` generated records as compact JSON text (for micro-benchmarks).
pub fn sample_records(n: usize, seed: u64) -> Vec<String> {
    let mut r = Rng(seed);
    (0..n)
        .map(|_| record(&mut r, DAY0_US).to_string())
        .collect()
}

/// Totals of a generated archive.
#[derive(Debug, Default, serde::Serialize)]
pub struct GenSummary {
    pub files: u64,
    pub records: u64,
    pub bytes: u64,
    pub gzip_files: u64,
}

/// Writes an archive of about `size_bytes` (uncompressed JSON) under `out`.
pub fn generate(out: &Path, size_bytes: u64, seed: u64) -> Result<GenSummary> {
    let mut r = Rng(seed);
    let mut s = GenSummary::default();
    while s.bytes < size_bytes {
        let day = (s.files / 600) as i64;
        let day_us = DAY0_US + day * 86_400_000_000;
        let dir = out.join(&ts(day_us)[..10]);
        fs_err::create_dir_all(&dir)?;
        let layout = r.below(100);
        let (name, text) = if layout < 90 {
            let rec = record(&mut r, day_us);
            s.records += 1;
            let text = if r.chance(0.5) {
                serde_json::to_string_pretty(&rec)?
            } else {
                serde_json::to_string(&rec)?
            };
            (format!("callrecord-{:06}.json", s.files), text)
        } else if layout < 97 {
            let n = r.range(2, 5);
            let recs: Vec<Value> = (0..n).map(|_| record(&mut r, day_us)).collect();
            s.records += n;
            let page = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords", "value": recs, "@odata.nextLink": "https://graph.microsoft.com/v1.0/communications/callRecords?$skiptoken=x"});
            (
                format!("page-{:06}.json", s.files),
                serde_json::to_string(&page)?,
            )
        } else {
            let n = r.range(5, 15);
            let mut text = String::new();
            for _ in 0..n {
                text += &serde_json::to_string(&record(&mut r, day_us))?;
                text.push('\n');
            }
            s.records += n;
            (format!("records-{:06}.ndjson", s.files), text)
        };
        s.bytes += text.len() as u64;
        s.files += 1;
        if r.chance(0.1) {
            let f = fs_err::File::create(dir.join(format!("{name}.gz")))?;
            let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            gz.write_all(text.as_bytes())?;
            gz.finish()?;
            s.gzip_files += 1;
        } else {
            fs_err::write(dir.join(name), text)?;
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn day0_is_the_first_of_october_2026() {
        let t = chrono::DateTime::from_timestamp_micros(super::DAY0_US).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-10-01T00:00:00+00:00");
    }
}
