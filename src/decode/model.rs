//! The Microsoft Graph callRecords model (v1.0 and beta) as borrowed Rust structs.
//!
//! Every struct is declared with `graph_object!`, which generates a hand-rolled map visitor
//! instead of `#[derive(Deserialize)]` for three reasons that real exports force on us:
//! unknown properties must be skipped (Graph adds properties over time), a repeated key must not
//! fail the record (the v1.0 list-sessions doc example repeats `@odata.type`; last one wins, as in
//! every JSON DOM), and strings must borrow from the input buffer so a record costs no per-field
//! allocation. Polymorphic types (`endpoint`, `userAgent`) are one struct holding the union of
//! their subtypes' properties; the flattener decides the subtype from `@odata.type` or shape.
//! Open types whose keys are not fixed (identity sets, feedback tokens) are kept as raw JSON next
//! to their parsed known slots, so nothing the service sent is lost.

use super::scalar::{Bool, DurationMs, Key, Str, TimestampUs, F64, I32, I64};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;
use std::marker::PhantomData;

macro_rules! graph_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident<'a> {
            $( $json:literal => $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, Clone)]
        pub struct $name<'a> {
            $( pub $field: $ty, )*
            #[doc(hidden)]
            pub _borrow: PhantomData<&'a str>,
        }

        impl<'de> Deserialize<'de> for $name<'de> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<'de>(PhantomData<&'de ()>);
                impl<'de> Visitor<'de> for V<'de> {
                    type Value = $name<'de>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                        let mut out = $name::default();
                        while let Some(key) = map.next_key::<Key<'de>>()? {
                            match key.0.as_ref() {
                                $( $json => out.$field = map.next_value()?, )*
                                _ => { map.next_value::<IgnoredAny>()?; }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V(PhantomData))
            }
        }
    };
}

/// A value kept both as its raw JSON text and parsed into its known parts.
#[derive(Debug, Clone)]
pub struct WithRaw<'a, T> {
    pub raw: &'a RawValue,
    pub parsed: T,
}

impl<'de, T: FromRaw<'de>> Deserialize<'de> for WithRaw<'de, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: &'de RawValue = Deserialize::deserialize(d)?;
        let parsed = T::from_raw(raw.get()).map_err(de::Error::custom)?;
        Ok(WithRaw { raw, parsed })
    }
}

/// How a [`WithRaw`] value is parsed from its raw text: a type may read the text twice.
pub trait FromRaw<'a>: Sized {
    fn from_raw(text: &'a str) -> serde_json::Result<Self>;
}

type S<'a> = Option<Str<'a>>;
type L<T> = Option<Vec<T>>;

graph_object! {
    /// A callRecord, plus the envelope keys that tell a record from a page, an error body or a
    /// change notification (one parse classifies a document and reads the record).
    pub struct CallRecord<'a> {
        "id" => id: S<'a>,
        "version" => version: Option<I64>,
        "type" => call_type: S<'a>,
        "modalities" => modalities: L<Str<'a>>,
        "lastModifiedDateTime" => last_modified: Option<TimestampUs>,
        "startDateTime" => start: Option<TimestampUs>,
        "endDateTime" => end: Option<TimestampUs>,
        "joinWebUrl" => join_web_url: S<'a>,
        "organizer" => organizer: Option<WithRaw<'a, IdentitySet<'a>>>,
        "participants" => participants: L<WithRaw<'a, IdentitySet<'a>>>,
        "organizer_v2" => organizer_v2: Option<Participant<'a>>,
        "participants_v2" => participants_v2: L<Participant<'a>>,
        "participants_v2@odata.nextLink" => participants_v2_next_link: S<'a>,
        "sessions" => sessions: L<Session<'a>>,
        "sessions@odata.nextLink" => sessions_next_link: S<'a>,
        // Envelope and foreign-document keys.
        "@odata.context" => odata_context: S<'a>,
        "@odata.nextLink" => odata_next_link: S<'a>,
        "value" => value: Option<Vec<&'a RawValue>>,
        "error" => error: Option<&'a RawValue>,
        "changeType" => change_type: Option<&'a RawValue>,
        "subscriptionId" => subscription_id: Option<&'a RawValue>,
        "resource" => resource: Option<&'a RawValue>,
    }
}

graph_object! {
    /// participantBase: `organizer_v2` and `participants_v2[]` items.
    pub struct Participant<'a> {
        "id" => id: S<'a>,
        "identity" => identity: Option<WithRaw<'a, IdentitySet<'a>>>,
        "administrativeUnitInfos" => administrative_unit_infos: L<AdministrativeUnitInfo<'a>>,
    }
}

graph_object! {
    pub struct AdministrativeUnitInfo<'a> {
        "id" => id: S<'a>,
    }
}

/// graph.identitySet / communicationsIdentitySet slots, in the priority order the reference
/// recommends for picking the one that names the party.
const IDENTITY_SLOTS: [&str; 14] = [
    "user",
    "phone",
    "guest",
    "applicationInstance",
    "application",
    "acsUser",
    "azureCommunicationServicesUser",
    "spoolUser",
    "acsApplicationInstance",
    "spoolApplicationInstance",
    "encrypted",
    "onPremises",
    "device",
    "assertedIdentity",
];

/// graph.identitySet / communicationsIdentitySet, reduced to what the tables use: the first
/// filled slot (usually the only one) and `endpointType`. The whole set is kept as raw JSON by
/// [`WithRaw`], so nothing is lost.
///
/// Only the winning slot is held because a set with all fourteen slots took 1.7 KB, inlined
/// into every endpoint, segment and session: moving those structs was a tenth of parse time.
#[derive(Debug, Default, Clone)]
pub struct IdentitySet<'a> {
    /// Index in [`IDENTITY_SLOTS`] and value of the first filled slot.
    primary: Option<(usize, Identity<'a>)>,
    pub endpoint_type: S<'a>,
}

impl<'a> IdentitySet<'a> {
    /// The first filled slot, in the priority order the reference recommends, with its name.
    pub fn primary(&self) -> Option<(&'static str, &Identity<'a>)> {
        self.primary
            .as_ref()
            .map(|(i, id)| (IDENTITY_SLOTS[*i], id))
    }
}

impl<'a> FromRaw<'a> for IdentitySet<'a> {
    fn from_raw(text: &'a str) -> serde_json::Result<Self> {
        let mut d = serde_json::Deserializer::from_str(text);
        match d.deserialize_map(SetVisitor { keep_all: false })? {
            Some(set) => Ok(set),
            // A repeated key emptied the winning slot after lower ones were passed over: read
            // again keeping every slot (only hand-made input does this).
            None => serde_json::Deserializer::from_str(text)
                .deserialize_map(SetVisitor { keep_all: true })
                .map(|set| set.expect("a full read always resolves")),
        }
    }
}

/// Reads an identity set; repeated keys follow the last-one-wins rule of the other objects.
/// Without `keep_all` it keeps only the best slot so far, and gives `None` when a repeated key
/// nulls that slot (the next best was not kept).
struct SetVisitor {
    keep_all: bool,
}

impl<'de> Visitor<'de> for SetVisitor {
    type Value = Option<IdentitySet<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object (IdentitySet)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = IdentitySet::default();
        let mut all: Vec<Option<Identity<'de>>> = Vec::new();
        if self.keep_all {
            all.resize(IDENTITY_SLOTS.len(), None);
        }
        let mut lost = false;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let key = key.0.as_ref();
            if key == "endpointType" {
                out.endpoint_type = map.next_value()?;
                continue;
            }
            let Some(slot) = IDENTITY_SLOTS.iter().position(|s| *s == key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let value: Option<Identity<'de>> = map.next_value()?;
            if self.keep_all {
                all[slot] = value;
                continue;
            }
            let best = out.primary.as_ref().map(|(b, _)| *b);
            match value {
                Some(v) if best.is_none_or(|b| slot <= b) => out.primary = Some((slot, v)),
                None if best == Some(slot) => {
                    out.primary = None;
                    lost = true;
                }
                _ => {}
            }
        }
        if self.keep_all {
            out.primary = all
                .into_iter()
                .enumerate()
                .find_map(|(i, v)| v.map(|v| (i, v)));
        } else if lost {
            return Ok(None);
        }
        Ok(Some(out))
    }
}

graph_object! {
    /// graph.identity and its subtypes (open type: the declared and commonly sent keys).
    pub struct Identity<'a> {
        "id" => id: S<'a>,
        "displayName" => display_name: S<'a>,
        "tenantId" => tenant_id: S<'a>,
        "userPrincipalName" => user_principal_name: S<'a>,
        "@odata.type" => odata_type: S<'a>,
    }
}

graph_object! {
    pub struct Session<'a> {
        "id" => id: S<'a>,
        "caller" => caller: Option<Endpoint<'a>>,
        "callee" => callee: Option<Endpoint<'a>>,
        "startDateTime" => start: Option<TimestampUs>,
        "endDateTime" => end: Option<TimestampUs>,
        "failureInfo" => failure_info: Option<FailureInfo<'a>>,
        "isTest" => is_test: Option<Bool>,
        "modalities" => modalities: L<Str<'a>>,
        "segments" => segments: L<Segment<'a>>,
        "segments@odata.nextLink" => segments_next_link: S<'a>,
    }
}

graph_object! {
    pub struct Segment<'a> {
        "id" => id: S<'a>,
        "caller" => caller: Option<Endpoint<'a>>,
        "callee" => callee: Option<Endpoint<'a>>,
        "startDateTime" => start: Option<TimestampUs>,
        "endDateTime" => end: Option<TimestampUs>,
        "failureInfo" => failure_info: Option<FailureInfo<'a>>,
        "media" => media: L<Media<'a>>,
    }
}

graph_object! {
    /// endpoint = participantEndpoint | serviceEndpoint (union of their properties).
    pub struct Endpoint<'a> {
        "@odata.type" => odata_type: S<'a>,
        "userAgent" => user_agent: Option<UserAgent<'a>>,
        "associatedIdentity" => associated_identity: Option<WithRaw<'a, Identity<'a>>>,
        "identity" => identity: Option<WithRaw<'a, IdentitySet<'a>>>,
        "feedback" => feedback: Option<UserFeedback<'a>>,
        "name" => name: S<'a>,
        "cpuName" => cpu_name: S<'a>,
        "cpuCoresCount" => cpu_cores_count: Option<I32>,
        "cpuProcessorSpeedInMhz" => cpu_processor_speed_in_mhz: Option<I32>,
    }
}

graph_object! {
    /// userAgent = clientUserAgent | serviceUserAgent (union of their properties).
    pub struct UserAgent<'a> {
        "@odata.type" => odata_type: S<'a>,
        "headerValue" => header_value: S<'a>,
        "applicationVersion" => application_version: S<'a>,
        "platform" => platform: S<'a>,
        "productFamily" => product_family: S<'a>,
        "azureADAppId" => azure_ad_app_id: S<'a>,
        "communicationServiceId" => communication_service_id: S<'a>,
        "role" => role: S<'a>,
    }
}

graph_object! {
    pub struct UserFeedback<'a> {
        "rating" => rating: S<'a>,
        "text" => text: S<'a>,
        "tokens" => tokens: Option<&'a RawValue>,
    }
}

graph_object! {
    pub struct FailureInfo<'a> {
        "stage" => stage: S<'a>,
        "reason" => reason: S<'a>,
    }
}

graph_object! {
    pub struct Media<'a> {
        "label" => label: S<'a>,
        "callerDevice" => caller_device: Option<DeviceInfo<'a>>,
        "calleeDevice" => callee_device: Option<DeviceInfo<'a>>,
        "callerNetwork" => caller_network: Option<NetworkInfo<'a>>,
        "calleeNetwork" => callee_network: Option<NetworkInfo<'a>>,
        "streams" => streams: L<MediaStream<'a>>,
    }
}

graph_object! {
    pub struct MediaStream<'a> {
        "streamId" => stream_id: S<'a>,
        "streamDirection" => stream_direction: S<'a>,
        "startDateTime" => start: Option<TimestampUs>,
        "endDateTime" => end: Option<TimestampUs>,
        "audioCodec" => audio_codec: S<'a>,
        "videoCodec" => video_codec: S<'a>,
        "averageAudioDegradation" => average_audio_degradation: Option<F64>,
        "averageAudioNetworkJitter" => average_audio_network_jitter: Option<DurationMs>,
        "averageBandwidthEstimate" => average_bandwidth_estimate: Option<I64>,
        "averageFreezeDuration" => average_freeze_duration: Option<DurationMs>,
        "averageJitter" => average_jitter: Option<DurationMs>,
        "averagePacketLossRate" => average_packet_loss_rate: Option<F64>,
        "averageRatioOfConcealedSamples" => average_ratio_of_concealed_samples: Option<F64>,
        "averageReceivedFrameRate" => average_received_frame_rate: Option<F64>,
        "averageRoundTripTime" => average_round_trip_time: Option<DurationMs>,
        "averageVideoFrameLossPercentage" => average_video_frame_loss_percentage: Option<F64>,
        "averageVideoFrameRate" => average_video_frame_rate: Option<F64>,
        "averageVideoPacketLossRate" => average_video_packet_loss_rate: Option<F64>,
        "isAudioForwardErrorCorrectionUsed" => is_audio_forward_error_correction_used: Option<Bool>,
        "lowFrameRateRatio" => low_frame_rate_ratio: Option<F64>,
        "lowVideoProcessingCapabilityRatio" => low_video_processing_capability_ratio: Option<F64>,
        "maxAudioNetworkJitter" => max_audio_network_jitter: Option<DurationMs>,
        "maxJitter" => max_jitter: Option<DurationMs>,
        "maxPacketLossRate" => max_packet_loss_rate: Option<F64>,
        "maxRatioOfConcealedSamples" => max_ratio_of_concealed_samples: Option<F64>,
        "maxRoundTripTime" => max_round_trip_time: Option<DurationMs>,
        "packetUtilization" => packet_utilization: Option<I64>,
        "postForwardErrorCorrectionPacketLossRate" => post_forward_error_correction_packet_loss_rate: Option<F64>,
        "rmsFreezeDuration" => rms_freeze_duration: Option<DurationMs>,
        "wasMediaBypassed" => was_media_bypassed: Option<Bool>,
    }
}

graph_object! {
    pub struct DeviceInfo<'a> {
        "captureDeviceDriver" => capture_device_driver: S<'a>,
        "captureDeviceName" => capture_device_name: S<'a>,
        "captureNotFunctioningEventRatio" => capture_not_functioning_event_ratio: Option<F64>,
        "cpuInsufficentEventRatio" => cpu_insufficent_event_ratio: Option<F64>,
        "deviceClippingEventRatio" => device_clipping_event_ratio: Option<F64>,
        "deviceGlitchEventRatio" => device_glitch_event_ratio: Option<F64>,
        "howlingEventCount" => howling_event_count: Option<I32>,
        "initialSignalLevelRootMeanSquare" => initial_signal_level_root_mean_square: Option<F64>,
        "lowSpeechLevelEventRatio" => low_speech_level_event_ratio: Option<F64>,
        "lowSpeechToNoiseEventRatio" => low_speech_to_noise_event_ratio: Option<F64>,
        "micGlitchRate" => mic_glitch_rate: Option<F64>,
        "receivedNoiseLevel" => received_noise_level: Option<I32>,
        "receivedSignalLevel" => received_signal_level: Option<I32>,
        "renderDeviceDriver" => render_device_driver: S<'a>,
        "renderDeviceName" => render_device_name: S<'a>,
        "renderMuteEventRatio" => render_mute_event_ratio: Option<F64>,
        "renderNotFunctioningEventRatio" => render_not_functioning_event_ratio: Option<F64>,
        "renderZeroVolumeEventRatio" => render_zero_volume_event_ratio: Option<F64>,
        "sentNoiseLevel" => sent_noise_level: Option<I32>,
        "sentSignalLevel" => sent_signal_level: Option<I32>,
        "speakerGlitchRate" => speaker_glitch_rate: Option<F64>,
    }
}

graph_object! {
    pub struct NetworkInfo<'a> {
        "bandwidthLowEventRatio" => bandwidth_low_event_ratio: Option<F64>,
        "basicServiceSetIdentifier" => basic_service_set_identifier: S<'a>,
        "connectionType" => connection_type: S<'a>,
        "delayEventRatio" => delay_event_ratio: Option<F64>,
        "dnsSuffix" => dns_suffix: S<'a>,
        "ipAddress" => ip_address: S<'a>,
        "linkSpeed" => link_speed: Option<I64>,
        "macAddress" => mac_address: S<'a>,
        "networkTransportProtocol" => network_transport_protocol: S<'a>,
        "port" => port: Option<I32>,
        "receivedQualityEventRatio" => received_quality_event_ratio: Option<F64>,
        "reflexiveIPAddress" => reflexive_ip_address: S<'a>,
        "relayIPAddress" => relay_ip_address: S<'a>,
        "relayPort" => relay_port: Option<I32>,
        "sentQualityEventRatio" => sent_quality_event_ratio: Option<F64>,
        "subnet" => subnet: S<'a>,
        "traceRouteHops" => trace_route_hops: L<TraceRouteHop<'a>>,
        "wifiBand" => wifi_band: S<'a>,
        "wifiBatteryCharge" => wifi_battery_charge: Option<I32>,
        "wifiChannel" => wifi_channel: Option<I32>,
        "wifiMicrosoftDriver" => wifi_microsoft_driver: S<'a>,
        "wifiMicrosoftDriverVersion" => wifi_microsoft_driver_version: S<'a>,
        "wifiRadioType" => wifi_radio_type: S<'a>,
        "wifiSignalStrength" => wifi_signal_strength: Option<I32>,
        "wifiVendorDriver" => wifi_vendor_driver: S<'a>,
        "wifiVendorDriverVersion" => wifi_vendor_driver_version: S<'a>,
    }
}

graph_object! {
    pub struct TraceRouteHop<'a> {
        "hopCount" => hop_count: Option<I32>,
        "ipAddress" => ip_address: S<'a>,
        "roundTripTime" => round_trip_time: Option<DurationMs>,
    }
}

impl<'a> FromRaw<'a> for Identity<'a> {
    fn from_raw(text: &'a str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }
}

/// The raw JSON text without insignificant whitespace: the same content gives the same text
/// whether the export was pretty-printed or compact. Borrows when the input is already compact.
/// (Key order is kept as sent; re-sorting through a JSON DOM cost more than the rest of the row.)
pub fn compact_json(raw: &RawValue) -> std::borrow::Cow<'_, str> {
    let text = raw.get();
    let bytes = text.as_bytes();
    // Byte-level: whitespace, quotes and backslashes are ASCII and never occur inside a UTF-8
    // multi-byte sequence, so copying the spans between skipped bytes keeps the text valid.
    // The output buffer is only allocated once a whitespace byte outside a string is seen.
    // Most of the text is inside strings: jump to each string's next quote or backslash with
    // memchr instead of stepping byte by byte (this ran at 6 instructions per byte).
    let mut out: Option<String> = None;
    let (mut i, mut start) = (0usize, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b == b'"' {
            while let Some(k) = memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                i += k + 1;
                if bytes[i - 1] == b'"' {
                    break;
                }
                i = (i + 1).min(bytes.len()); // the escaped byte
            }
        } else if b.is_ascii_whitespace() {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[start..i - 1]);
            start = i;
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[start..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_last_wins_and_unknown_keys_are_skipped() {
        let json =
            r##"{"@odata.type":"#a","name":"x","@odata.type":"#b","future":{"deep":[1,2]}}"##;
        let e: Endpoint = serde_json::from_str(json).unwrap();
        assert_eq!(e.odata_type.unwrap().as_str(), "#b");
        assert_eq!(e.name.unwrap().as_str(), "x");
    }

    #[test]
    fn nulls_are_absent_and_wrong_types_fail() {
        let s: Session =
            serde_json::from_str(r#"{"id":"s","failureInfo":null,"segments":null}"#).unwrap();
        assert!(s.failure_info.is_none() && s.segments.is_none());
        let err =
            serde_json::from_str::<CallRecord>(r#"{"id":"x","sessions":"nope"}"#).unwrap_err();
        assert!(err.to_string().contains("sequence"), "{err}");
    }

    #[test]
    fn identity_set_keeps_the_first_filled_slot_under_repeats() {
        let primary = |json: &str| {
            let w: WithRaw<IdentitySet> = serde_json::from_str(json).unwrap();
            w.parsed
                .primary()
                .map(|(slot, id)| (slot, id.id.as_ref().unwrap().as_str().to_owned()))
        };
        let p = |slot: &'static str, id: &str| Some((slot, id.to_owned()));
        // A lower-priority slot first, then a higher one: the higher one wins.
        assert_eq!(
            primary(r#"{"device":{"id":"d"},"user":{"id":"u"}}"#),
            p("user", "u")
        );
        // A higher-priority slot first: a later lower one does not replace it.
        assert_eq!(
            primary(r#"{"user":{"id":"u"},"device":{"id":"d"},"endpointType":"x"}"#),
            p("user", "u")
        );
        // A repeated key: the last value wins.
        assert_eq!(
            primary(r#"{"user":{"id":"u1"},"user":{"id":"u2"}}"#),
            p("user", "u2")
        );
        // The winning slot emptied by a repeat: the next filled slot, read again in full.
        assert_eq!(
            primary(r#"{"phone":{"id":"p"},"user":{"id":"u"},"guest":{"id":"g"},"user":null}"#),
            p("phone", "p")
        );
        assert_eq!(primary(r#"{"user":{"id":"u"},"user":null}"#), None);
        assert_eq!(primary(r#"{"user":null,"application":null}"#), None);
        let w: WithRaw<IdentitySet> =
            serde_json::from_str(r#"{"endpointType":"default","user":{"id":"u"}}"#).unwrap();
        assert_eq!(w.parsed.endpoint_type.unwrap().as_str(), "default");
        assert!(serde_json::from_str::<WithRaw<IdentitySet>>(r#"{"user":5}"#).is_err());
    }

    #[test]
    fn compact_json_drops_only_whitespace_outside_strings() {
        let cases = [
            ("{\"a\":1}", "{\"a\":1}"),
            ("{ \"a b\" : \" x \" }", "{\"a b\":\" x \"}"),
            // An escaped backslash ends right before the closing quote.
            ("[ \"c:\\\\\" , \"q\\\" \" ]", "[\"c:\\\\\",\"q\\\" \"]"),
            (
                "{\n\t\"n\": [ 1 ,\r\n 2 ],\n \"e\": \"\u{e9} \\n\" }",
                "{\"n\":[1,2],\"e\":\"\u{e9} \\n\"}",
            ),
            ("\"\"", "\"\""),
            (" 7 ", "7"),
        ];
        for (input, want) in cases {
            let raw: &RawValue = serde_json::from_str(input).unwrap();
            assert_eq!(compact_json(raw), want, "{input:?}");
        }
    }

    #[test]
    fn identity_set_primary_slot() {
        let w: WithRaw<IdentitySet> =
            serde_json::from_str(r#"{"user":null,"phone":{"id":"+15550100"},"future":1}"#).unwrap();
        let (slot, id) = w.parsed.primary().unwrap();
        assert_eq!(
            (slot, id.id.as_ref().unwrap().as_str()),
            ("phone", "+15550100")
        );
        assert_eq!(
            compact_json(w.raw),
            r#"{"user":null,"phone":{"id":"+15550100"},"future":1}"#
        );
        assert!(matches!(compact_json(w.raw), std::borrow::Cow::Borrowed(_)));
        let pretty: &RawValue =
            serde_json::from_str("{ \"a\" : [ 1, \"x y\\\" \u{e9} z\" ],\n \"b\":{} }").unwrap();
        assert_eq!(
            compact_json(pretty),
            "{\"a\":[1,\"x y\\\" \u{e9} z\"],\"b\":{}}"
        );
    }
}
