//! CQD stream classification: modality from the media label, then good / poor / unclassified by
//! the rules of a named profile, with the reasons a stream is poor.
//!
//! Which Graph property feeds which CQD metric (call-quality.md §1.6):
//!
//! | CQD metric | Graph `mediaStream` property |
//! |---|---|
//! | Packet Utilization | `packetUtilization` |
//! | Round Trip (avg) | `averageRoundTripTime` (ms) |
//! | Packet Loss Rate (avg) | `averagePacketLossRate` |
//! | Jitter (avg) | `averageJitter` (ms) |
//! | Audio Degradation Avg | `averageAudioDegradation` |
//! | Ratio Concealed Samples Avg | `averageRatioOfConcealedSamples` |
//! | Video Local Frame Loss Percentage Avg | `averageVideoFrameLossPercentage` (0-100) |
//! | Video Frame Rate Avg | `averageVideoFrameRate` |
//! | Video Post FECPLR | `postForwardErrorCorrectionPacketLossRate` |
//!
//! There is no fallback from `averageJitter` to `averageAudioNetworkJitter`, nor from
//! `averageVideoFrameRate` to `averageReceivedFrameRate`: in CQD those are other metrics
//! (*Network Jitter Avg* over 20 s windows; *Received Frame Rate Average* over all video
//! streams), with other distributions, so substituting them would judge a stream by a rule that
//! was not made for it. A missing metric is simply missing. NaN counts as missing.

/// The named rule sets (call-quality.md §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
pub enum Profile {
    /// CQD since 2022: audio needs packetUtilization > 500 and then any of round trip > 500 ms,
    /// packet loss > 0.1, jitter > 30 ms; VBSS by codec (H264S) and direction.
    #[default]
    #[value(name = "cqd-current")]
    CqdCurrent,
    /// CQD before 2021: audio is poor on any of degradation > 1.0, round trip > 500 ms, packet
    /// loss > 0.1, jitter > 30 ms, concealed ratio > 0.07, with no packet gate; VBSS 50 % / 2 fps /
    /// 0.15.
    #[value(name = "cqd-legacy-5metric")]
    CqdLegacy5Metric,
}

impl Profile {
    pub const ALL: [Profile; 2] = [Profile::CqdCurrent, Profile::CqdLegacy5Metric];

    /// The name used on the command line, in `streams.quality_profile` and in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Profile::CqdCurrent => "cqd-current",
            Profile::CqdLegacy5Metric => "cqd-legacy-5metric",
        }
    }

    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// CQD media type, from Graph's `media.label`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modality {
    Audio,
    Video,
    /// Video-based screen sharing.
    Vbss,
    Data,
    Other,
}

impl Modality {
    /// `main-audio` → audio; `main-video`, `panoramic-video` → video;
    /// `applicationsharing-video`, `video-based-screen-sharing` → vbss; `data` → data; any other
    /// label (or none) → other. Case-insensitive.
    pub fn from_label(label: Option<&str>) -> Modality {
        let Some(l) = label.map(str::trim) else {
            return Modality::Other;
        };
        let is = |x: &str| l.eq_ignore_ascii_case(x);
        if is("main-audio") {
            Modality::Audio
        } else if is("main-video") || is("panoramic-video") {
            Modality::Video
        } else if is("applicationsharing-video") || is("video-based-screen-sharing") {
            Modality::Vbss
        } else if is("data") {
            Modality::Data
        } else {
            Modality::Other
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Audio => "audio",
            Modality::Video => "video",
            Modality::Vbss => "vbss",
            Modality::Data => "data",
            Modality::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    Good,
    Poor,
    Unclassified,
}

impl Quality {
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Good => "good",
            Quality::Poor => "poor",
            Quality::Unclassified => "unclassified",
        }
    }
}

/// One reason a stream is poor: the CQD "Poor Due To" metric that crossed its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Reason {
    RoundTrip = 1,
    PacketLoss = 2,
    Jitter = 4,
    Degradation = 8,
    ConcealedRatio = 16,
    VideoFrameLoss = 32,
    VideoFrameRate = 64,
    VideoPostFecPlr = 128,
}

impl Reason {
    /// Every reason, in the order they are listed in `poor_reasons`.
    pub const ALL: [Reason; 8] = [
        Reason::RoundTrip,
        Reason::PacketLoss,
        Reason::Jitter,
        Reason::Degradation,
        Reason::ConcealedRatio,
        Reason::VideoFrameLoss,
        Reason::VideoFrameRate,
        Reason::VideoPostFecPlr,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::RoundTrip => "round_trip",
            Reason::PacketLoss => "packet_loss",
            Reason::Jitter => "jitter",
            Reason::Degradation => "degradation",
            Reason::ConcealedRatio => "concealed_ratio",
            Reason::VideoFrameLoss => "video_frame_loss",
            Reason::VideoFrameRate => "video_frame_rate",
            Reason::VideoPostFecPlr => "video_post_fec_plr",
        }
    }
}

/// A set of [`Reason`]s (a bit set: no allocation per row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Reasons(u8);

impl Reasons {
    pub fn insert(&mut self, r: Reason) {
        self.0 |= r as u8;
    }
    pub fn contains(self, r: Reason) -> bool {
        self.0 & r as u8 != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The reasons in [`Reason::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL.into_iter().filter(move |r| self.contains(*r))
    }
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        self.iter().map(Reason::as_str)
    }
}

/// The outcome for one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    pub quality: Quality,
    /// Empty unless `quality` is poor.
    pub reasons: Reasons,
}

impl Classification {
    pub const UNCLASSIFIED: Classification = Classification {
        quality: Quality::Unclassified,
        reasons: Reasons(0),
    };

    fn judged(reasons: Reasons) -> Classification {
        Classification {
            quality: if reasons.is_empty() {
                Quality::Good
            } else {
                Quality::Poor
            },
            reasons,
        }
    }

    /// `poor_reasons` as written: the names (an empty list when good), none when unclassified.
    pub fn reason_names(&self) -> Option<impl Iterator<Item = &'static str>> {
        (self.quality != Quality::Unclassified).then(|| self.reasons.names())
    }
}

/// The metrics of one stream that the classifiers read. `None` = not reported.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics<'a> {
    pub packet_utilization: Option<i64>,
    pub round_trip_ms: Option<f64>,
    pub packet_loss_rate: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub audio_degradation: Option<f64>,
    pub concealed_ratio: Option<f64>,
    /// Percent, 0-100.
    pub video_frame_loss_percent: Option<f64>,
    pub video_frame_rate_fps: Option<f64>,
    pub post_fec_packet_loss_rate: Option<f64>,
    pub video_codec: Option<&'a str>,
    /// Whether the stream flows toward the client ("Second") side: see `endpoints`.
    pub is_inbound: Option<bool>,
}

/// NaN is "not reported".
fn present(v: Option<f64>) -> Option<f64> {
    v.filter(|x| !x.is_nan())
}

/// A duration in ms as the threshold sees it: rounded to the nanosecond, so float noise from the
/// ISO 8601 conversion (`PT0.03S` → 30.000000000000004) cannot push a value across a threshold.
fn present_ms(v: Option<f64>) -> Option<f64> {
    present(v).map(|x| {
        if x.is_finite() {
            (x * 1e6).round() / 1e6
        } else {
            x
        }
    })
}

/// Thresholds (call-quality.md §1.1, §1.2).
pub mod thresholds {
    pub const AUDIO_PACKET_UTILIZATION_GATE: i64 = 500;
    pub const AUDIO_ROUND_TRIP_MS: f64 = 500.0;
    pub const AUDIO_PACKET_LOSS_RATE: f64 = 0.1;
    pub const AUDIO_JITTER_MS: f64 = 30.0;
    pub const AUDIO_DEGRADATION: f64 = 1.0;
    pub const AUDIO_CONCEALED_RATIO: f64 = 0.07;
    pub const VIDEO_FRAME_LOSS_PERCENT: f64 = 50.0;
    pub const VIDEO_FRAME_RATE_FPS: f64 = 7.0;
    pub const VIDEO_POST_FEC_PLR: f64 = 0.15;
    pub const VBSS_FRAME_LOSS_PERCENT: f64 = 50.0;
    pub const VBSS_FRAME_RATE_FPS: f64 = 1.0;
    pub const VBSS_LEGACY_FRAME_RATE_FPS: f64 = 2.0;
    pub const VBSS_LEGACY_POST_FEC_PLR: f64 = 0.15;
}

use thresholds::*;

/// Classifies one stream of `modality` by `profile`.
pub fn classify(profile: Profile, modality: Modality, m: &Metrics) -> Classification {
    match (modality, profile) {
        (Modality::Audio, Profile::CqdCurrent) => {
            let gate = m.packet_utilization.unwrap_or(0);
            if gate <= AUDIO_PACKET_UTILIZATION_GATE {
                return Classification::UNCLASSIFIED;
            }
            any_of(&audio_checks(m)[..3])
        }
        (Modality::Audio, Profile::CqdLegacy5Metric) => any_of(&audio_checks(m)),
        // The video rule is the same in both profiles (the freeze classifier score is not in
        // Graph).
        (Modality::Video, _) => video_cascade(
            m,
            VIDEO_FRAME_LOSS_PERCENT,
            VIDEO_FRAME_RATE_FPS,
            VIDEO_POST_FEC_PLR,
        ),
        (Modality::Vbss, Profile::CqdLegacy5Metric) => video_cascade(
            m,
            VBSS_FRAME_LOSS_PERCENT,
            VBSS_LEGACY_FRAME_RATE_FPS,
            VBSS_LEGACY_POST_FEC_PLR,
        ),
        (Modality::Vbss, Profile::CqdCurrent) => {
            let h264s = m
                .video_codec
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("h264s"));
            if !h264s && m.is_inbound == Some(true) {
                // Frame loss, only for inbound streams of codecs other than H264S.
                match present(m.video_frame_loss_percent) {
                    Some(v) => judge(Reason::VideoFrameLoss, v > VBSS_FRAME_LOSS_PERCENT),
                    None => Classification::UNCLASSIFIED,
                }
            } else if h264s || m.is_inbound == Some(false) {
                // Frame rate, for every outbound stream and for H264S either way.
                match present(m.video_frame_rate_fps) {
                    Some(v) => judge(Reason::VideoFrameRate, v < VBSS_FRAME_RATE_FPS),
                    None => Classification::UNCLASSIFIED,
                }
            } else {
                // Direction unknown (server:server, or no streamDirection): no rule applies.
                Classification::UNCLASSIFIED
            }
        }
        // Data and other labels (including RDP application sharing, whose CQD metrics Graph
        // does not have) cannot be classified.
        (Modality::Data | Modality::Other, _) => Classification::UNCLASSIFIED,
    }
}

/// The audio metrics with their thresholds, in `poor_reasons` order: the current rules read the
/// first three, the legacy rules all five.
fn audio_checks(m: &Metrics) -> [(Reason, Option<f64>, f64); 5] {
    [
        (
            Reason::RoundTrip,
            present_ms(m.round_trip_ms),
            AUDIO_ROUND_TRIP_MS,
        ),
        (
            Reason::PacketLoss,
            present(m.packet_loss_rate),
            AUDIO_PACKET_LOSS_RATE,
        ),
        (Reason::Jitter, present_ms(m.jitter_ms), AUDIO_JITTER_MS),
        (
            Reason::Degradation,
            present(m.audio_degradation),
            AUDIO_DEGRADATION,
        ),
        (
            Reason::ConcealedRatio,
            present(m.concealed_ratio),
            AUDIO_CONCEALED_RATIO,
        ),
    ]
}

fn judge(reason: Reason, poor: bool) -> Classification {
    let mut r = Reasons::default();
    if poor {
        r.insert(reason);
    }
    Classification::judged(r)
}

/// Poor when any present metric is above its threshold; unclassified when none is present.
fn any_of(checks: &[(Reason, Option<f64>, f64)]) -> Classification {
    let mut any = false;
    let mut reasons = Reasons::default();
    for &(reason, value, limit) in checks {
        if let Some(v) = value {
            any = true;
            if v > limit {
                reasons.insert(reason);
            }
        }
    }
    if any {
        Classification::judged(reasons)
    } else {
        Classification::UNCLASSIFIED
    }
}

/// The first present metric decides: frame loss > `loss`, else frame rate < `fps`, else post-FEC
/// packet loss > `plr`; none present → unclassified.
fn video_cascade(m: &Metrics, loss: f64, fps: f64, plr: f64) -> Classification {
    if let Some(v) = present(m.video_frame_loss_percent) {
        judge(Reason::VideoFrameLoss, v > loss)
    } else if let Some(v) = present(m.video_frame_rate_fps) {
        judge(Reason::VideoFrameRate, v < fps)
    } else if let Some(v) = present(m.post_fec_packet_loss_rate) {
        judge(Reason::VideoPostFecPlr, v > plr)
    } else {
        Classification::UNCLASSIFIED
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Profile::*;
    use Quality::*;

    const NAN: f64 = f64::NAN;

    fn audio(
        pu: Option<i64>,
        rtt: Option<f64>,
        plr: Option<f64>,
        jit: Option<f64>,
    ) -> Metrics<'static> {
        Metrics {
            packet_utilization: pu,
            round_trip_ms: rtt,
            packet_loss_rate: plr,
            jitter_ms: jit,
            ..Default::default()
        }
    }

    fn run(p: Profile, modality: Modality, m: &Metrics) -> (Quality, Vec<&'static str>) {
        let c = classify(p, modality, m);
        let names: Vec<_> = c.reasons.names().collect();
        if c.quality != Poor {
            assert!(names.is_empty(), "{c:?}");
        }
        (c.quality, names)
    }

    #[test]
    fn modality_from_label() {
        let cases = [
            (Some("main-audio"), "audio"),
            (Some("MAIN-AUDIO"), "audio"),
            (Some("main-video"), "video"),
            (Some("Panoramic-Video"), "video"),
            (Some("applicationsharing-video"), "vbss"),
            (Some("video-based-screen-sharing"), "vbss"),
            (Some("data"), "data"),
            (Some("DATA"), "data"),
            (Some("applicationsharing"), "other"),
            (Some("main-audio-x"), "other"),
            (Some(""), "other"),
            (None, "other"),
        ];
        for (label, want) in cases {
            assert_eq!(Modality::from_label(label).as_str(), want, "{label:?}");
        }
    }

    #[test]
    fn profile_names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(Profile::from_name(p.name()), Some(p));
        }
        assert_eq!(Profile::default(), CqdCurrent);
        assert_eq!(Profile::from_name("cqd"), None);
    }

    /// Audio, current rules: the packet gate, then each metric at, just below and just above its
    /// threshold.
    #[test]
    fn audio_current_truth_table() {
        let a = Modality::Audio;
        let ok = (Some(10.0), Some(0.01), Some(5.0));
        let t = |pu, rtt, plr, jit| run(CqdCurrent, a, &audio(pu, rtt, plr, jit));
        // Gate: > 500 packets needed; missing or at the gate → unclassified, even when bad.
        assert_eq!(
            t(None, Some(900.0), Some(0.5), Some(90.0)),
            (Unclassified, vec![])
        );
        assert_eq!(
            t(Some(500), Some(900.0), Some(0.5), Some(90.0)),
            (Unclassified, vec![])
        );
        assert_eq!(t(Some(0), ok.0, ok.1, ok.2), (Unclassified, vec![]));
        assert_eq!(t(Some(501), ok.0, ok.1, ok.2), (Good, vec![]));
        // Round trip: > 500 ms.
        assert_eq!(t(Some(501), Some(500.0), ok.1, ok.2), (Good, vec![]));
        assert_eq!(t(Some(501), Some(499.9), ok.1, ok.2), (Good, vec![]));
        assert_eq!(
            t(Some(501), Some(500.001), ok.1, ok.2),
            (Poor, vec!["round_trip"])
        );
        // Packet loss: > 0.1.
        assert_eq!(t(Some(501), ok.0, Some(0.1), ok.2), (Good, vec![]));
        assert_eq!(t(Some(501), ok.0, Some(0.0999), ok.2), (Good, vec![]));
        assert_eq!(
            t(Some(501), ok.0, Some(0.1001), ok.2),
            (Poor, vec!["packet_loss"])
        );
        // Jitter: > 30 ms.
        assert_eq!(t(Some(501), ok.0, ok.1, Some(30.0)), (Good, vec![]));
        assert_eq!(t(Some(501), ok.0, ok.1, Some(29.99)), (Good, vec![]));
        assert_eq!(
            t(Some(501), ok.0, ok.1, Some(30.01)),
            (Poor, vec!["jitter"])
        );
        // All three, in a fixed order.
        assert_eq!(
            t(Some(100_000), Some(501.0), Some(0.2), Some(31.0)),
            (Poor, vec!["round_trip", "packet_loss", "jitter"])
        );
        // Missing metrics: judged on the ones present.
        assert_eq!(t(Some(501), None, None, Some(31.0)), (Poor, vec!["jitter"]));
        assert_eq!(t(Some(501), None, Some(0.05), None), (Good, vec![]));
        assert_eq!(
            t(Some(501), Some(600.0), None, None),
            (Poor, vec!["round_trip"])
        );
        assert_eq!(t(Some(501), None, None, None), (Unclassified, vec![]));
        // NaN is missing.
        assert_eq!(
            t(Some(501), Some(NAN), Some(NAN), Some(NAN)),
            (Unclassified, vec![])
        );
        assert_eq!(
            t(Some(501), Some(NAN), Some(0.2), Some(NAN)),
            (Poor, vec!["packet_loss"])
        );
        assert_eq!(
            t(Some(501), Some(NAN), Some(0.0), Some(NAN)),
            (Good, vec![])
        );
        // Infinity is a value.
        assert_eq!(
            t(Some(501), Some(f64::INFINITY), None, None),
            (Poor, vec!["round_trip"])
        );
        // The legacy-only metrics do not count in the current rules.
        let m = Metrics {
            packet_utilization: Some(1000),
            audio_degradation: Some(4.0),
            concealed_ratio: Some(0.9),
            ..Default::default()
        };
        assert_eq!(run(CqdCurrent, a, &m), (Unclassified, vec![]));
        let m = Metrics {
            round_trip_ms: Some(20.0),
            ..m
        };
        assert_eq!(run(CqdCurrent, a, &m), (Good, vec![]));
    }

    /// Audio, legacy five-metric rules: no gate; each of five metrics at and around its
    /// threshold.
    #[test]
    fn audio_legacy_truth_table() {
        let a = Modality::Audio;
        let base = Metrics {
            round_trip_ms: Some(10.0),
            packet_loss_rate: Some(0.01),
            jitter_ms: Some(5.0),
            audio_degradation: Some(0.2),
            concealed_ratio: Some(0.01),
            ..Default::default()
        };
        let t = |m: Metrics| run(CqdLegacy5Metric, a, &m);
        assert_eq!(t(base), (Good, vec![]));
        // No packet gate: low or missing utilization does not matter.
        assert_eq!(
            t(Metrics {
                packet_utilization: Some(3),
                ..base
            }),
            (Good, vec![])
        );
        type Setter = fn(&mut Metrics, f64);
        let cases: [(Setter, f64, f64, f64, &str); 5] = [
            (
                |m, v| m.round_trip_ms = Some(v),
                500.0,
                499.9,
                500.1,
                "round_trip",
            ),
            (
                |m, v| m.packet_loss_rate = Some(v),
                0.1,
                0.099,
                0.101,
                "packet_loss",
            ),
            (|m, v| m.jitter_ms = Some(v), 30.0, 29.9, 30.1, "jitter"),
            (
                |m, v| m.audio_degradation = Some(v),
                1.0,
                0.99,
                1.01,
                "degradation",
            ),
            (
                |m, v| m.concealed_ratio = Some(v),
                0.07,
                0.069,
                0.071,
                "concealed_ratio",
            ),
        ];
        for (set, at, below, above, name) in cases {
            for (v, want) in [
                (at, (Good, vec![])),
                (below, (Good, vec![])),
                (above, (Poor, vec![name])),
            ] {
                let mut m = base;
                set(&mut m, v);
                assert_eq!(t(m), want, "{name} = {v}");
                // The same metric alone (all others missing).
                let mut alone = Metrics::default();
                set(&mut alone, v);
                assert_eq!(t(alone), want, "{name} = {v} alone");
                // NaN for this metric: judged on the others.
                let mut nan = base;
                set(&mut nan, NAN);
                assert_eq!(t(nan), (Good, vec![]), "{name} NaN");
            }
        }
        assert_eq!(
            t(Metrics {
                round_trip_ms: Some(501.0),
                packet_loss_rate: Some(0.11),
                jitter_ms: Some(31.0),
                audio_degradation: Some(1.1),
                concealed_ratio: Some(0.08),
                ..Default::default()
            }),
            (
                Poor,
                vec![
                    "round_trip",
                    "packet_loss",
                    "jitter",
                    "degradation",
                    "concealed_ratio"
                ]
            )
        );
        assert_eq!(t(Metrics::default()), (Unclassified, vec![]));
        assert_eq!(
            t(Metrics {
                round_trip_ms: Some(NAN),
                packet_loss_rate: Some(NAN),
                jitter_ms: Some(NAN),
                audio_degradation: Some(NAN),
                concealed_ratio: Some(NAN),
                packet_utilization: Some(10_000),
                ..Default::default()
            }),
            (Unclassified, vec![])
        );
    }

    /// Video (both profiles): frame loss > 50 %, else frame rate < 7, else post-FEC PLR > 0.15.
    #[test]
    fn video_truth_table() {
        for p in Profile::ALL {
            let t = |loss: Option<f64>, fps: Option<f64>, plr: Option<f64>| {
                run(
                    p,
                    Modality::Video,
                    &Metrics {
                        video_frame_loss_percent: loss,
                        video_frame_rate_fps: fps,
                        post_fec_packet_loss_rate: plr,
                        ..Default::default()
                    },
                )
            };
            // Step 1 decides when present, even if the later metrics are bad.
            assert_eq!(t(Some(50.0), Some(1.0), Some(0.9)), (Good, vec![]), "{p}");
            assert_eq!(t(Some(49.9), None, None), (Good, vec![]));
            assert_eq!(
                t(Some(50.1), Some(30.0), Some(0.0)),
                (Poor, vec!["video_frame_loss"])
            );
            // Step 2 when frame loss is missing (or NaN).
            assert_eq!(t(None, Some(7.0), Some(0.9)), (Good, vec![]));
            assert_eq!(t(None, Some(7.1), None), (Good, vec![]));
            assert_eq!(
                t(None, Some(6.99), Some(0.0)),
                (Poor, vec!["video_frame_rate"])
            );
            assert_eq!(
                t(Some(NAN), Some(6.0), None),
                (Poor, vec!["video_frame_rate"])
            );
            // Step 3.
            assert_eq!(t(None, None, Some(0.15)), (Good, vec![]));
            assert_eq!(t(None, None, Some(0.149)), (Good, vec![]));
            assert_eq!(
                t(None, None, Some(0.151)),
                (Poor, vec!["video_post_fec_plr"])
            );
            assert_eq!(
                t(Some(NAN), Some(NAN), Some(0.2)),
                (Poor, vec!["video_post_fec_plr"])
            );
            // None → unclassified.
            assert_eq!(t(None, None, None), (Unclassified, vec![]));
            assert_eq!(t(Some(NAN), Some(NAN), Some(NAN)), (Unclassified, vec![]));
            // Audio metrics do not classify video.
            let m = Metrics {
                round_trip_ms: Some(900.0),
                packet_utilization: Some(10_000),
                ..Default::default()
            };
            assert_eq!(run(p, Modality::Video, &m), (Unclassified, vec![]));
        }
    }

    fn vbss(
        codec: Option<&'static str>,
        inbound: Option<bool>,
        loss: Option<f64>,
        fps: Option<f64>,
        plr: Option<f64>,
    ) -> Metrics<'static> {
        Metrics {
            video_codec: codec,
            is_inbound: inbound,
            video_frame_loss_percent: loss,
            video_frame_rate_fps: fps,
            post_fec_packet_loss_rate: plr,
            ..Default::default()
        }
    }

    /// VBSS, current rules: frame loss > 50 % for inbound non-H264S streams; frame rate < 1 for
    /// outbound streams and H264S either way.
    #[test]
    fn vbss_current_truth_table() {
        let t = |m: Metrics| run(CqdCurrent, Modality::Vbss, &m);
        let inb = Some(true);
        let out = Some(false);
        // Inbound, not H264S: frame loss only.
        assert_eq!(
            t(vbss(Some("h264"), inb, Some(50.0), Some(0.1), None)),
            (Good, vec![])
        );
        assert_eq!(
            t(vbss(Some("h264"), inb, Some(49.0), None, None)),
            (Good, vec![])
        );
        assert_eq!(
            t(vbss(Some("h264"), inb, Some(50.5), Some(30.0), None)),
            (Poor, vec!["video_frame_loss"])
        );
        assert_eq!(
            t(vbss(None, inb, Some(51.0), None, None)),
            (Poor, vec!["video_frame_loss"]),
            "a missing codec is not H264S"
        );
        assert_eq!(
            t(vbss(Some("h264"), inb, None, Some(0.5), Some(0.9))),
            (Unclassified, vec![])
        );
        assert_eq!(
            t(vbss(Some("h264"), inb, Some(NAN), Some(0.5), None)),
            (Unclassified, vec![])
        );
        // Outbound, any codec: frame rate < 1.
        assert_eq!(
            t(vbss(Some("h264"), out, Some(99.0), Some(1.0), None)),
            (Good, vec![])
        );
        assert_eq!(
            t(vbss(Some("h264"), out, None, Some(1.5), None)),
            (Good, vec![])
        );
        assert_eq!(
            t(vbss(Some("h264"), out, Some(0.0), Some(0.99), None)),
            (Poor, vec!["video_frame_rate"])
        );
        assert_eq!(
            t(vbss(Some("h264"), out, Some(99.0), None, Some(0.9))),
            (Unclassified, vec![])
        );
        assert_eq!(
            t(vbss(Some("h264"), out, None, Some(NAN), None)),
            (Unclassified, vec![])
        );
        // H264S, either direction or none: frame rate < 1; frame loss is ignored.
        for dir in [inb, out, None] {
            assert_eq!(
                t(vbss(Some("h264s"), dir, Some(99.0), Some(1.0), None)),
                (Good, vec![])
            );
            assert_eq!(
                t(vbss(Some("H264S"), dir, Some(0.0), Some(0.5), None)),
                (Poor, vec!["video_frame_rate"])
            );
            assert_eq!(
                t(vbss(Some("h264s"), dir, Some(99.0), None, None)),
                (Unclassified, vec![])
            );
        }
        // Direction unknown, not H264S: no rule applies.
        assert_eq!(
            t(vbss(Some("h264"), None, Some(99.0), Some(0.1), Some(0.9))),
            (Unclassified, vec![])
        );
    }

    /// VBSS, legacy rules: the cascade 50 % / < 2 fps / > 0.15 whatever the codec and direction.
    #[test]
    fn vbss_legacy_truth_table() {
        for (codec, dir) in [
            (Some("h264s"), Some(true)),
            (Some("h264"), Some(false)),
            (None, None),
        ] {
            let t = |loss, fps, plr| {
                run(
                    CqdLegacy5Metric,
                    Modality::Vbss,
                    &vbss(codec, dir, loss, fps, plr),
                )
            };
            assert_eq!(t(Some(50.0), Some(0.1), Some(0.9)), (Good, vec![]));
            assert_eq!(t(Some(50.1), None, None), (Poor, vec!["video_frame_loss"]));
            assert_eq!(t(None, Some(2.0), Some(0.9)), (Good, vec![]));
            assert_eq!(t(None, Some(1.99), None), (Poor, vec!["video_frame_rate"]));
            assert_eq!(
                t(Some(NAN), Some(1.0), None),
                (Poor, vec!["video_frame_rate"])
            );
            assert_eq!(t(None, None, Some(0.15)), (Good, vec![]));
            assert_eq!(
                t(None, None, Some(0.16)),
                (Poor, vec!["video_post_fec_plr"])
            );
            assert_eq!(t(None, None, None), (Unclassified, vec![]));
        }
    }

    #[test]
    fn data_and_other_are_never_classified() {
        let bad = Metrics {
            packet_utilization: Some(100_000),
            round_trip_ms: Some(900.0),
            packet_loss_rate: Some(0.5),
            jitter_ms: Some(90.0),
            audio_degradation: Some(3.0),
            concealed_ratio: Some(0.5),
            video_frame_loss_percent: Some(90.0),
            video_frame_rate_fps: Some(0.1),
            post_fec_packet_loss_rate: Some(0.9),
            video_codec: Some("h264"),
            is_inbound: Some(true),
        };
        for p in Profile::ALL {
            for m in [Modality::Data, Modality::Other] {
                let c = classify(p, m, &bad);
                assert_eq!(c, Classification::UNCLASSIFIED);
                assert!(c.reason_names().is_none());
            }
        }
    }

    #[test]
    fn reason_names_are_empty_when_good_and_absent_when_unclassified() {
        let good = classify(
            CqdCurrent,
            Modality::Audio,
            &audio(Some(600), Some(1.0), None, None),
        );
        assert_eq!(good.reason_names().map(|r| r.count()), Some(0));
        let un = classify(
            CqdCurrent,
            Modality::Audio,
            &audio(None, Some(1.0), None, None),
        );
        assert!(un.reason_names().is_none());
    }

    /// Durations arrive as ISO 8601 strings: exactly 30 ms / 500 ms are not above the threshold.
    #[test]
    fn iso_durations_at_the_threshold() {
        use crate::decode::scalar::parse_iso8601_duration_ms as ms;
        let t = |rtt: &str, jit: &str| {
            run(
                CqdCurrent,
                Modality::Audio,
                &audio(Some(501), ms(rtt), None, ms(jit)),
            )
        };
        assert_eq!(t("PT0.5S", "PT0.03S"), (Good, vec![]));
        assert_eq!(
            t("PT0.5000001S", "PT0.0300001S"),
            (Poor, vec!["round_trip", "jitter"])
        );
        assert_eq!(t("PT0.029S", "PT0.0301S"), (Poor, vec!["jitter"]));
    }
}
