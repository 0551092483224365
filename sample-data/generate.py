#!/usr/bin/env python3
"""Regenerate callrec's sample input data and test fixtures.

Writes (relative to the repository root):

  sample-data/<day>/...                      valid Microsoft Graph callRecord exports in several layouts
  sample-data/README.md                      file -> layout -> coverage -> expected counts
  tests/fixtures/good/*.json                 small inputs for unit tests
  tests/fixtures/bad/*  (+ README.md)        inputs the tool must reject with a clear reason
  tests/fixtures/sample-data-expected.json   expected counts for sample-data/ (asserted by the Rust tests)
  tests/fixtures/fixtures-expected.json      expected counts / outcomes for tests/fixtures/{good,bad}

Python 3 standard library only. Deterministic: no clock, no randomness; every "random-looking" value comes
from SHA-256 of a fixed key, gzip members carry mtime 0. Running it twice gives byte-identical files.
All people, numbers, ids and domains are fictional (contoso.com / fabrikam.com, RFC 5737 addresses,
555 and Ofcom drama-range phone numbers). GUIDs are uuid5 values of fixed names.

Usage:  python3 sample-data/generate.py          (prints the JSON summary of expected counts)
"""

import gzip
import hashlib
import json
import os
import shutil
import sys
import uuid
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLE = HERE
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

GRAPH = "https://graph.microsoft.com/v1.0"
META = GRAPH + "/$metadata#communications/callRecords"
CTX_EXPANDED = META + "(sessions(segments()))/$entity"
CTX_EXPANDED_P2 = META + "(sessions(segments()),participants_v2())/$entity"
CTX_LIST = META

NS = uuid.UUID("6d1f3c52-9a0e-4b7c-8e21-5a4b3c2d1e0f")


def gid(*parts):
    """Deterministic made-up GUID, shaped like the random (version 4) GUIDs Graph uses."""
    digest = hashlib.sha256((str(NS) + ":" + ":".join(parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


class Det:
    """Deterministic value source (SHA-256 counter), stable across Python versions."""

    def __init__(self, *key):
        self.key = ":".join(str(k) for k in key)
        self.n = 0

    def u(self):
        self.n += 1
        h = hashlib.sha256(f"{self.key}#{self.n}".encode()).digest()
        return int.from_bytes(h[:8], "big") / 2.0**64

    def f(self, lo, hi, nd=4):
        v = round(lo + (hi - lo) * self.u(), nd)
        if 0 < v < 0.0001:  # keep Python from printing 1e-05 (valid JSON, but Graph never does it)
            v = 0.0001
        return v

    def i(self, lo, hi):
        return lo + int(self.u() * (hi - lo + 1))

    def pick(self, seq):
        return seq[int(self.u() * len(seq))]


# ---------------------------------------------------------------------------------------------------------
# time and duration helpers

def T(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc)


def iso(dt, digits=7):
    """RFC 3339 UTC with 0-7 fractional digits, like Graph ("...21.2169889Z", "...38Z", "...25.105Z")."""
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        return base + "Z"
    frac = f"{dt.microsecond:06d}" + str((dt.second * 7 + dt.minute * 3 + dt.microsecond) % 10)
    return base + "." + frac[:digits] + "Z"


def plus(dt, seconds):
    return dt + timedelta(seconds=seconds)


def dur(ms):
    """Milliseconds -> ISO 8601 duration as Graph prints it: 16 -> PT0.016S, 10 -> PT0.01S, 1000 -> PT1S."""
    txt = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")
    return f"PT{txt}S"


# ---------------------------------------------------------------------------------------------------------
# people and identities

TENANT = gid("tenant", "contoso")
TENANT_FAB = gid("tenant", "fabrikam")
AU_EMEA = gid("au", "emea-sales")
AU_NA = gid("au", "na-engineering")
AU_RD = gid("au", "research")


def user(key, name, local, tenant=TENANT, domain="contoso.com"):
    return {"kind": "user", "id": gid("user", key), "name": name, "upn": f"{local}@{domain}", "tenant": tenant}


def phone(number):
    return {"kind": "phone", "id": number, "name": None, "upn": None, "tenant": None}


def guest(key, name):
    return {"kind": "guest", "id": gid("guest", key), "name": name, "upn": None, "tenant": None}


def acs(key, name, resource):
    return {"kind": "acsUser", "id": f"8:acs:{resource}_{gid('acs', key)}", "name": name, "upn": None,
            "tenant": TENANT}


ILSE = user("ilse", "Ilse Varga", "ilse.varga")
TOMASZ = user("tomasz", "Tomasz Okafor", "tomasz.okafor")
PRIYA = user("priya", "Priya Lindqvist", "priya.lindqvist")
MATEO = user("mateo", "Mateo Brandt", "mateo.brandt")
AIKO = user("aiko", "Aiko Delacroix", "aiko.delacroix")
RAFAEL = user("rafael", "Rafael Nwosu", "rafael.nwosu")
HANNAH = user("hannah", "Hannah Keller", "hannah.keller")
JONAS = user("jonas", "Jonas Whitfield", "jonas.whitfield")
LEILA = user("leila", "Leila Haddad", "leila.haddad")
SAMIR = user("samir", "Samir Kowalczyk", "samir.kowalczyk")
ROOM = user("room-harbour", "Harbour Room (4th floor)", "room.harbour")
GRACE = user("grace", "Grace Fenwick (Fabrikam)", "grace.fenwick", tenant=TENANT_FAB, domain="fabrikam.com")
VISITOR = guest("visitor-1104", "Noor Alvarez (Guest)")
PSTN_US = phone("+14255550142")
PSTN_UK = phone("+442079460318")
ACS_RESOURCE = gid("acs-resource", "contoso-support")
ACS_AGENT = acs("support-widget", "Contoso Support Web Visitor", ACS_RESOURCE)

NULL_SLOTS = ["acsUser", "spoolUser", "phone", "guest", "encrypted", "onPremises", "acsApplicationInstance",
              "spoolApplicationInstance", "applicationInstance", "application", "device", "user"]


def leaf(p, upn=False, odata=None):
    d = {}
    if odata:
        d["@odata.type"] = odata
    d["id"] = p["id"]
    d["displayName"] = p["name"]
    d["tenantId"] = p["tenant"]
    if upn and p["upn"]:
        d["userPrincipalName"] = p["upn"]
    return d


def idset(p, typed=False, nulls=False):
    """Deprecated graph.identitySet (callRecord.organizer / participants[] / participantEndpoint.identity)."""
    d = {}
    if typed:
        d["@odata.type"] = "#microsoft.graph.identitySet"
    if nulls:
        for s in NULL_SLOTS:
            d[s] = None
    d[p["kind"]] = leaf(p)
    return d


def comm_idset(p, nulls=True, typed_leaf=True):
    """graph.communicationsIdentitySet (organizer_v2.identity / participants_v2[].identity)."""
    d = {}
    if nulls:
        for s in NULL_SLOTS:
            d[s] = None
    if p["kind"] == "user":
        d["user"] = leaf(p, upn=True, odata="#microsoft.graph.userIdentity" if typed_leaf else None)
    else:
        d[p["kind"]] = leaf(p)
    return d


def participant_v2(p, aus=None, nulls=True, extra=None, typed_leaf=True):
    d = {"id": p["id"], "identity": comm_idset(p, nulls=nulls, typed_leaf=typed_leaf)}
    if aus is not None:
        d["administrativeUnitInfos"] = [{"id": a} for a in aus]
    if extra:
        d.update(extra)
    return d


def assoc(p):
    """participantEndpoint.associatedIdentity: a flat graph.identity."""
    return {"id": p["id"], "displayName": p["name"], "tenantId": p["tenant"], "userPrincipalName": p["upn"]}


# ---------------------------------------------------------------------------------------------------------
# user agents and endpoints

TEAMS_APP = gid("app", "contoso-teams-desktop")
TEAMS_WEB_APP = gid("app", "contoso-teams-web")
ACS_APP = gid("app", "contoso-support-widget")

H_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
         "Safari/537.36 Edg/131.0.0.0 Teams/25290.205.3980.7023/49")
H_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 15_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Teams/25290.210.4011.1205/49")
H_WEB = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
         "Safari/537.36 TeamsWeb/25.10.3")
H_IOS = "Microsoft Teams/7.22.1 (iPhone16,2; iOS 18.1; Scale/3.00)"
H_ANDROID = "Teams/1416/1.0.0.2026101701/0 (Android 15; SM-S928B)"
H_ROOM = "Teams Rooms on Windows 5.2.115.0 (Windows 11 IoT Enterprise 24H2)"
H_HUB = "Teams/25290.205.3980.7023 SurfaceHub/3 (Windows 10 Team 2020 Update)"
H_VISION = "Microsoft Teams/7.22.0 (RealityDevice14,1; visionOS 3.1)"
H_ACS = "azsdk-js-communication-calling/1.31.1 (javascript Chrome 131.0.0.0; Windows NT 10.0)"
H_SFB = "UCCAPI/16.0.18227.20162 OC/16.0.18227.20162 (Skype for Business)"
H_MCU = "AVMCU/2026.10.30.4 (Microsoft Teams conferencing)"
H_MS = "MediationServer/2026.10.8.2 (Teams Direct Routing)"
H_SBC = "sbc01.contoso.com/ContosoEdge SBC 9.2.4"
H_ECHO = "EchoService/2026.9.1 (Teams test call)"


def cua(platform, family, header, app_version=None, aad=None, acs_id=None, typed=True):
    d = {}
    if typed:
        d["@odata.type"] = "#microsoft.graph.callRecords.clientUserAgent"
    d["headerValue"] = header
    if app_version is not None:
        d["applicationVersion"] = app_version
    d["platform"] = platform
    d["productFamily"] = family
    if aad is not None:
        d["azureADAppId"] = aad
    if acs_id is not None:
        d["communicationServiceId"] = acs_id
    return d


def sua(role, header=None, app_version=None, typed=True):
    d = {}
    if typed:
        d["@odata.type"] = "#microsoft.graph.callRecords.serviceUserAgent"
    if header is not None:
        d["headerValue"] = header
    if app_version is not None:
        d["applicationVersion"] = app_version
    d["role"] = role
    return d


CPU_I7 = ("13th Gen Intel(R) Core(TM) i7-1365U", 12, 1805)
CPU_M3 = ("Apple M3 Pro", 11, 4050)
CPU_RYZEN = ("AMD Ryzen 7 PRO 7840U w/ Radeon 780M Graphics", 16, 3301)
CPU_X1E = ("Snapdragon(R) X 12-core X1E80100 @ 3.40 GHz", 12, 3417)
CPU_ROOM = ("Intel(R) Core(TM) i5-1145G7E @ 2.60GHz", 8, 2611)
CPU_A17 = ("Apple A17 Pro", 6, 3780)
CPU_S24 = ("Qualcomm Snapdragon 8 Gen 3", 8, 3390)
CPU_M2 = ("Apple M2", 8, 3490)


def pep(p, ua, gen="new", machine=None, cpu=None, feedback=None, typed=True, idset_typed=False, extra=None):
    """participantEndpoint. gen: legacy (identity) / new (associatedIdentity + name/cpu) / both."""
    d = {}
    if typed:
        d["@odata.type"] = "#microsoft.graph.callRecords.participantEndpoint"
    if gen in ("new", "both"):
        if machine is not None:
            d["name"] = machine
        if cpu is not None:
            d["cpuName"], d["cpuCoresCount"], d["cpuProcessorSpeedInMhz"] = cpu
    d["userAgent"] = ua
    if gen in ("legacy", "both"):
        d["identity"] = idset(p, typed=idset_typed)
    if gen in ("new", "both"):
        d["associatedIdentity"] = assoc(p)
    if feedback is not None:
        d["feedback"] = feedback
    if extra:
        d.update(extra)
    return d


def sep(ua, typed=True):
    d = {}
    if typed:
        d["@odata.type"] = "#microsoft.graph.callRecords.serviceEndpoint"
    d["userAgent"] = ua
    return d


def mcu(typed=True):
    return sep(sua("skypeForBusinessAudioVideoMcu", H_MCU, "2026.10.30.4", typed=typed), typed=typed)


def feedback(rating, text=None, tokens=None):
    return {"rating": rating, "text": text, "tokens": {} if tokens is None else tokens}


# ---------------------------------------------------------------------------------------------------------
# networkInfo / deviceInfo / mediaStream

def hops(n, r):
    pool = ["192.168.1.1", "10.20.0.1", "203.0.113.9", "198.51.100.62"]
    out = []
    rtt = 1
    for k in range(n):
        rtt += r.i(1, 9)
        out.append({"hopCount": k + 1, "ipAddress": pool[k], "roundTripTime": dur(rtt)})
    return out


def drop_nulls(d):
    return {k: v for k, v in d.items() if v is not None}


def net(r, kind, *, n_hops=0, legacy=False, keep_nulls=True, **over):
    """networkInfo. kind: wifi | wired | mobile | service (conference server / gateway side)."""
    third = r.i(2, 250)
    if kind == "service":  # the short form most service sides get
        d = {"ipAddress": "", "subnet": "", "linkSpeed": 0, "connectionType": "unknown", "port": r.i(49152, 53247),
             "macAddress": "", "sentQualityEventRatio": 0, "receivedQualityEventRatio": 0, "delayEventRatio": 0,
             "bandwidthLowEventRatio": 0, "wifiBand": "unknown", "wifiRadioType": "unknown",
             "networkTransportProtocol": "udp", "traceRouteHops": []}
    elif kind == "service-full":  # every property, "" / null like real exports
        d = {
            "ipAddress": "", "subnet": "", "linkSpeed": 0, "connectionType": "unknown",
            "port": r.i(49152, 53247), "reflexiveIPAddress": "", "relayIPAddress": "", "relayPort": None,
            "macAddress": "", "dnsSuffix": "",
            "sentQualityEventRatio": 0, "receivedQualityEventRatio": 0, "delayEventRatio": 0,
            "bandwidthLowEventRatio": 0, "basicServiceSetIdentifier": "", "wifiBand": "unknown",
            "wifiBatteryCharge": None, "wifiChannel": None, "wifiMicrosoftDriver": "",
            "wifiMicrosoftDriverVersion": "", "wifiRadioType": "unknown", "wifiSignalStrength": None,
            "wifiVendorDriver": "", "wifiVendorDriverVersion": "", "networkTransportProtocol": "udp",
            "traceRouteHops": [],
        }
    else:
        if kind == "wifi":
            ip, subnet = f"192.168.{third}.{r.i(10, 200)}", f"192.168.{third}.0"
            link, ctype = r.pick([866700000, 1201000000, 573500000]), "wifi"
        elif kind == "wired":
            ip, subnet = f"10.{third}.{r.i(0, 255)}.{r.i(10, 200)}", f"10.{third}.0.0"
            link, ctype = 1000000000, "wired"
        else:  # mobile
            ip, subnet = f"100.{64 + third % 64}.{r.i(0, 255)}.{r.i(2, 250)}", None
            link, ctype = None, "mobile"
        d = {
            "ipAddress": ip, "subnet": subnet, "linkSpeed": link, "connectionType": ctype,
            "port": r.i(50000, 50059), "reflexiveIPAddress": f"203.0.113.{r.i(2, 250)}",
            "relayIPAddress": f"198.51.100.{r.i(2, 250)}", "relayPort": r.pick([3478, 3479, 3480, 3481]),
            "macAddress": "-".join(f"{r.i(0, 255):02X}" for _ in range(6)),
            "dnsSuffix": "corp.contoso.com" if ctype == "wired" else None,
            "sentQualityEventRatio": r.f(0, 0.08), "receivedQualityEventRatio": r.f(0, 0.12),
            "delayEventRatio": r.f(0, 0.05), "bandwidthLowEventRatio": r.f(0, 0.03),
            "basicServiceSetIdentifier": None, "wifiBand": "unknown", "wifiBatteryCharge": None,
            "wifiChannel": None, "wifiMicrosoftDriver": None, "wifiMicrosoftDriverVersion": None,
            "wifiRadioType": "unknown", "wifiSignalStrength": None, "wifiVendorDriver": None,
            "wifiVendorDriverVersion": None, "networkTransportProtocol": "udp", "traceRouteHops": hops(n_hops, r),
        }
        if kind == "wifi":
            d.update({
                "basicServiceSetIdentifier": ":".join(f"{r.i(0, 255):02x}" for _ in range(6)),
                "wifiBand": "frequency50GHz", "wifiBatteryCharge": r.i(20, 100), "wifiChannel": r.pick([36, 44, 149]),
                "wifiMicrosoftDriver": "Microsoft Wi-Fi Direct Virtual Adapter",
                "wifiMicrosoftDriverVersion": "Microsoft:10.0.26100.1882",
                "wifiRadioType": "wifi80211ax", "wifiSignalStrength": r.i(45, 99),
                "wifiVendorDriver": "Intel(R) Wi-Fi 6E AX211 160MHz", "wifiVendorDriverVersion": "Intel:23.80.0.4",
            })
    if legacy:  # exports from before 2022-06 lack these
        for k in ("networkTransportProtocol", "traceRouteHops"):
            d.pop(k, None)
    d.update(over)
    return d if keep_nulls else drop_nulls(d)


def dev(r, kind, keep_nulls=True, **over):
    """deviceInfo. kind: full (all 21 properties) | basic | mobile | service."""
    if kind == "service":
        d = {k: None for k in ("captureDeviceName", "renderDeviceName", "receivedSignalLevel",
                               "receivedNoiseLevel", "sentSignalLevel", "sentNoiseLevel")}
    elif kind == "basic":
        d = {
            "captureDeviceName": "Microphone (Jabra Evolve2 65)", "renderDeviceName": "Speakers (Jabra Evolve2 65)",
            "receivedSignalLevel": -r.i(8, 30), "receivedNoiseLevel": -r.i(60, 90),
            "initialSignalLevelRootMeanSquare": r.f(20, 160, 5),
            "micGlitchRate": r.i(0, 40), "speakerGlitchRate": r.i(0, 300),
        }
    elif kind == "mobile":
        d = {
            "captureDeviceName": "iPhone Microphone", "renderDeviceName": "Receiver",
            "receivedSignalLevel": -r.i(8, 30), "receivedNoiseLevel": -r.i(60, 90),
            "sentSignalLevel": -r.i(10, 30), "sentNoiseLevel": -r.i(60, 90),
        }
    else:
        d = {
            "captureDeviceName": "Echo Cancelling Speakerphone (Contoso Speak 750)",
            "captureDeviceDriver": "Microsoft: 10.0.26100.2033",
            "renderDeviceName": "Echo Cancelling Speakerphone (Contoso Speak 750)",
            "renderDeviceDriver": "Microsoft: 10.0.26100.2033",
            "receivedSignalLevel": -r.i(8, 30), "receivedNoiseLevel": -r.i(60, 90),
            "sentSignalLevel": -r.i(10, 30), "sentNoiseLevel": -r.i(60, 90),
            "initialSignalLevelRootMeanSquare": r.f(20, 160, 5),
            "captureNotFunctioningEventRatio": r.f(0, 0.01), "renderNotFunctioningEventRatio": r.f(0, 0.01),
            "cpuInsufficentEventRatio": r.f(0, 0.05), "deviceClippingEventRatio": r.f(0, 0.02),
            "deviceGlitchEventRatio": r.f(0, 0.03), "howlingEventCount": r.i(0, 2),
            "lowSpeechLevelEventRatio": r.f(0, 0.1), "lowSpeechToNoiseEventRatio": r.f(0, 0.1),
            "renderZeroVolumeEventRatio": r.f(0, 0.02), "renderMuteEventRatio": r.f(0, 0.2),
            "micGlitchRate": r.i(0, 60), "speakerGlitchRate": r.i(0, 900),
        }
    d.update(over)
    return d if keep_nulls else drop_nulls(d)


STREAM_KEYS_LEGACY_ONLY_ABSENT = ("audioCodec", "videoCodec", "averageFreezeDuration", "rmsFreezeDuration",
                                  "isAudioForwardErrorCorrectionUsed")


def stream(kind, direction, sid, r, secs, *, legacy=False, keep_nulls=True, codec=None, sip=None, **over):
    """mediaStream. kind: audio | video | vbss | appshare | data (data = every metric null)."""
    audio = kind == "audio"
    video = kind in ("video", "vbss", "appshare")
    data = kind == "data"

    def A(v):
        return v if audio else None

    def V(v):
        return v if video else None

    def M(v):
        return None if data else v

    jit, rtt = r.i(3, 24), r.i(18, 95)
    loss = r.f(0, 0.02, 6)
    fps_hi = 30 if kind == "video" else 15
    pps = {"audio": 50, "video": 110, "vbss": 30, "appshare": 22, "data": 0}[kind]
    s = {
        "streamId": str(sid),
        "streamDirection": direction,
        "averageAudioDegradation": A(r.f(0.05, 1.6, 6)),
        "averageJitter": M(dur(jit)),
        "maxJitter": M(dur(jit + r.i(4, 40))),
        "averagePacketLossRate": M(loss),
        "maxPacketLossRate": M(round(loss + r.f(0, 0.06, 6), 6)),
        "averageRatioOfConcealedSamples": A(r.f(0, 0.04, 6)),
        "maxRatioOfConcealedSamples": A(r.f(0.04, 0.12, 6)),
        "averageRoundTripTime": M(dur(rtt)),
        "maxRoundTripTime": M(dur(rtt + r.i(10, 120))),
        "packetUtilization": int(pps * secs * r.f(0.9, 1.0, 3)),
        "averageBandwidthEstimate": M(r.i(1500000, 40000000)),
        "wasMediaBypassed": A(False),
        "postForwardErrorCorrectionPacketLossRate": V(r.f(0, 0.01, 6)),
        "averageVideoFrameLossPercentage": V(r.f(0, 3, 4)),
        "averageReceivedFrameRate": V(r.f(fps_hi / 2, fps_hi, 4)),
        "lowFrameRateRatio": V(r.f(0, 0.2, 4)),
        "averageVideoPacketLossRate": V(r.f(0, 0.02, 6)),
        "averageVideoFrameRate": V(r.f(fps_hi / 2, fps_hi, 4)),
        "lowVideoProcessingCapabilityRatio": V(r.f(0, 0.1, 4)),
        "averageAudioNetworkJitter": A(dur(jit + r.i(5, 30))),
        "maxAudioNetworkJitter": A(dur(jit + r.i(35, 90))),
        "startDateTime": sip[0] if sip else None,
        "endDateTime": sip[1] if sip else None,
        "audioCodec": "unknown" if data else A(codec or r.pick(["opus", "satin", "satinFullband"])),
        "videoCodec": "unknown" if data else V(codec or r.pick(["h264", "h264", "av1", "h264s"])),
        "averageFreezeDuration": V(dur(r.i(0, 900))),
        "rmsFreezeDuration": V(dur(r.i(900, 2400))),
        "isAudioForwardErrorCorrectionUsed": A(r.u() < 0.5),
    }
    if legacy:
        for k in STREAM_KEYS_LEGACY_ONLY_ABSENT:
            s.pop(k)
    s.update(over)
    return s if keep_nulls else drop_nulls(s)


def media(label, caller_net, callee_net, caller_dev, callee_dev, streams, extra=None):
    d = {"label": label, "callerNetwork": caller_net, "calleeNetwork": callee_net,
         "callerDevice": caller_dev, "calleeDevice": callee_dev, "streams": streams}
    if extra:
        d.update(extra)
    return d


def sid_num(*key):
    return Det("ssrc", *key).i(1000, 4294967294)


KIND_OF_LABEL = {"main-audio": "audio", "main-video": "video", "applicationsharing-video": "appshare",
                 "video-based-screen-sharing": "vbss", "data": "data"}


def media_pair(ck, tag, label, secs, caller_net, callee_net, caller_dev, callee_dev, *, legacy=False,
               keep_nulls=True, codecs=(None, None), sip=None, over=(None, None), extra=None, no_streams=False):
    """A media line with the usual two streams (callerToCallee, calleeToCaller)."""
    kind = KIND_OF_LABEL[label]
    streams = []
    if not no_streams:
        for n, direction in enumerate(("callerToCallee", "calleeToCaller")):
            r = Det(ck, tag, label, direction)
            streams.append(stream(kind, direction, sid_num(ck, tag, label, direction), r, secs, legacy=legacy,
                                  keep_nulls=keep_nulls, codec=codecs[n], sip=sip, **(over[n] or {})))
    return media(label, caller_net, callee_net, caller_dev, callee_dev, streams, extra)


# ---------------------------------------------------------------------------------------------------------
# session / segment / record

def segment(seg_id, start, end, caller, callee, media_list, *, failure="absent", digits=7, ctx=None):
    d = {"startDateTime": iso(start, digits), "endDateTime": iso(end, digits), "id": seg_id,
         "caller": caller, "callee": callee}
    if failure != "absent":
        d["failureInfo"] = failure
    d["media"] = media_list
    return d


def session(sess_id, start, end, caller, callee, modalities, segments, *, is_test="absent", failure="absent",
            digits=7, segments_ctx=None, extra=None):
    d = {"modalities": modalities, "startDateTime": iso(start, digits), "endDateTime": iso(end, digits),
         "id": sess_id}
    if is_test != "absent":
        d["isTest"] = is_test
    d["caller"] = caller
    d["callee"] = callee
    if failure != "absent":
        d["failureInfo"] = failure
    if segments_ctx:
        d["segments@odata.context"] = segments_ctx
    d["segments"] = segments
    if extra:
        d.update(extra)
    return d


def record(cid, version, ctype, modalities, start, end, last_mod, *, context=None, id_first=False, join=None,
           organizer=None, participants=None, organizer_v2=None, participants_v2=None, p2_next=None,
           sessions=None, sessions_ctx=None, sessions_next=None, digits=7, extra=None, p2_ctx=True):
    d = {}
    if context:
        d["@odata.context"] = context
    if id_first:
        d["id"] = cid
    d["version"] = version
    d["type"] = ctype
    d["modalities"] = modalities
    d["lastModifiedDateTime"] = iso(last_mod, digits)
    d["startDateTime"] = iso(start, digits)
    d["endDateTime"] = iso(end, digits)
    if not id_first:
        d["id"] = cid
    if join:
        d["joinWebUrl"] = join
    if organizer is not None:
        d["organizer"] = organizer
    if participants is not None:
        d["participants"] = participants
    if organizer_v2 is not None:
        d["organizer_v2@odata.context"] = f"{META}('{cid}')/organizer_v2/$entity"
        d["organizer_v2"] = organizer_v2
    if participants_v2 is not None:
        if p2_ctx:
            d["participants_v2@odata.context"] = f"{META}('{cid}')/participants_v2"
        d["participants_v2"] = participants_v2
        if p2_next:
            d["participants_v2@odata.nextLink"] = p2_next
    if sessions is not None:
        if sessions_ctx:
            d["sessions@odata.context"] = sessions_ctx
        d["sessions"] = sessions
        if sessions_next:
            d["sessions@odata.nextLink"] = sessions_next
    if extra:
        d.update(extra)
    return d


def join_url(key):
    mid = hashlib.sha256(key.encode()).hexdigest()[:32]
    return (f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{mid}%40thread.v2/0?context="
            f"%7b%22Tid%22%3a%22{TENANT}%22%7d")


def mcu_session(ck, n, p, ua, start, end, labels, *, machine=None, cpu=None, kind="wired", n_hops=0, service_kind="service",
                dev_kind="basic", fb=None, modalities=None, keep_nulls=True, mcu_net_over=None, caller_net_over=None,
                media_over=None, session_extra=None, segment_failure="absent", is_test=False):
    """Participant -> conference server (AVMCU) session with one segment."""
    secs = (end - start).total_seconds()
    sess_id, seg_id = gid(ck, "session", str(n)), gid(ck, "segment", str(n), "1")
    media_over = media_over or {}
    ml = []
    for label in labels:
        r = Det(ck, n, label, "net")
        cnet = net(r, kind, n_hops=n_hops if label == "main-audio" else 0, keep_nulls=keep_nulls,
                   **(caller_net_over or {}))
        snet = net(r, service_kind, keep_nulls=keep_nulls, **(mcu_net_over or {}))
        audio = label == "main-audio"
        cdev = dev(r, dev_kind if audio else "basic", keep_nulls=keep_nulls)
        sdev = dev(r, "service", keep_nulls=keep_nulls)
        ml.append(media_pair(ck, n, label, secs, cnet, snet, cdev, sdev, keep_nulls=keep_nulls,
                             **media_over.get(label, {})))
    caller = pep(p, ua, machine=machine, cpu=cpu, feedback=fb)
    seg = segment(seg_id, start, end, caller, mcu(), ml, failure=segment_failure)
    mods = modalities or sorted({{"main-audio": "audio", "main-video": "video",
                                  "applicationsharing-video": "screenSharing",
                                  "video-based-screen-sharing": "videoBasedScreenSharing",
                                  "data": "data"}[lb] for lb in labels},
                                key=["audio", "video", "screenSharing", "videoBasedScreenSharing", "data"].index)
    return session(sess_id, start, end, caller, mcu(), mods, [seg], is_test=is_test, extra=session_extra)


# ---------------------------------------------------------------------------------------------------------
# the calls in sample-data/

CALL = {k: gid("call", k) for k in ["C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10",
                                    "C11", "C12", "C13", "C14"]}


def c01():
    """Group meeting, new schema, 3 sessions to the AVMCU, audio/video/screen sharing, poor feedback."""
    ck, cid = "C01", CALL["C01"]
    s = T("2026-11-02T09:00:04.118")
    e = plus(s, 47 * 60 + 27.5)
    sessions = [
        mcu_session(ck, 1, ILSE, cua("windows", "teams", H_WIN, "25290.205.3980.7023", TEAMS_APP),
                    plus(s, 0), plus(e, -1.2), ["main-audio", "main-video", "applicationsharing-video"],
                    machine="CTS-LT-0417", cpu=CPU_I7, kind="wifi", n_hops=3, dev_kind="full",
                    fb=feedback("poor", "Heard my own voice back whenever Tomasz was unmuted.",
                                {"NoSound": False, "Echo": True}),
                    caller_net_over={"futureProperty": {"x": 1}}, service_kind="service-full"),
        mcu_session(ck, 2, TOMASZ, cua("macOS", "teams", H_MAC, "25290.210.4011.1205", TEAMS_APP),
                    plus(s, 41.3), plus(e, -4.9), ["main-audio"],
                    machine="Tomasz-MBP", cpu=CPU_M3, kind="wired",
                    fb=feedback("good", None, {"NoSound": False, "Echo": False})),
        mcu_session(ck, 3, GRACE, cua("web", "teams", H_WEB, "25.10.3", TEAMS_WEB_APP),
                    plus(s, 95.0), plus(s, 31 * 60 + 12.25), ["main-audio", "video-based-screen-sharing"],
                    machine="FAB-WS-22", cpu=CPU_RYZEN, kind="wired",
                    mcu_net_over={"ipAddress": "198.51.100.20", "subnet": "198.51.100.0"}),
    ]
    return record(cid, 2, "groupCall", ["audio", "video", "screenSharing", "videoBasedScreenSharing"], s, e,
                  plus(e, 611.0), context=CTX_EXPANDED, join=join_url(ck),
                  organizer_v2=participant_v2(ILSE, [AU_EMEA, AU_RD]),
                  participants_v2=[participant_v2(ILSE, [AU_EMEA, AU_RD]), participant_v2(TOMASZ, []),
                                   participant_v2(GRACE)],
                  sessions=sessions)


def c02():
    """Peer-to-peer, old schema only (organizer/participants/identity), no 2022+ fields, ids reused."""
    ck, cid = "C02", CALL["C02"]
    s = T("2026-11-02T14:12:40.5")
    e = plus(s, 6 * 60 + 18.25)
    secs = (e - s).total_seconds()
    r = Det(ck, "net")
    caller = pep(PRIYA, cua("android", "teams", H_ANDROID), gen="legacy", idset_typed=True)
    callee = pep(MATEO, cua("windows", "skypeForBusiness", H_SFB), gen="legacy",
                 feedback=feedback("notRated"))
    m = media_pair(ck, 1, "main-audio", secs,
                   net(r, "wifi", legacy=True, keep_nulls=False),
                   net(r, "wired", legacy=True, keep_nulls=False, linkSpeed=4294967295,
                       macAddress="00-15-5D-3C-7A-00-00-E0"),
                   dev(r, "basic"), dev(r, "full"), legacy=True)
    seg = segment(cid, s, e, caller, callee, [m])  # session.id == segment.id == call id, like the docs
    sess = session(cid, s, e, caller, callee, ["audio"], [seg],
                   segments_ctx=f"{META}('{cid}')/sessions('{cid}')/segments")
    return record(cid, 1, "peerToPeer", ["audio"], s, e, plus(e, 452.0), context=CTX_EXPANDED,
                  organizer=idset(PRIYA), participants=[idset(PRIYA), idset(MATEO)],
                  sessions=[sess], sessions_ctx=f"{META}('{cid}')/sessions(segments())")


def c03():
    """PSTN call through Direct Routing: both schema generations, 1 session with 2 segments
    (user -> mediation server -> SBC gateway), SIP stream times, midcall failure on the gateway leg."""
    ck, cid = "C03", CALL["C03"]
    s = T("2026-11-03T07:45:12.301")
    e = plus(s, 12 * 60 + 3.7)
    secs = (e - s).total_seconds()
    sip = (iso(plus(s, 1.9)), iso(plus(e, -0.4)))
    leila_ua = cua("windows", "teams", H_WIN, "25290.205.3980.7023", TEAMS_APP)
    leila = pep(LEILA, leila_ua, gen="both", machine="CTS-LT-0233", cpu=CPU_X1E)
    pstn = pep(PSTN_US, cua("unknown", "unknown", None), gen="both")
    med = sep(sua("mediationServer", H_MS, "2026.10.8.2"))
    sbc = sep(sua("gateway", H_SBC))
    r1, r2 = Det(ck, "seg1"), Det(ck, "seg2")
    seg1 = segment(gid(ck, "segment", "1", "1"), s, plus(e, -0.4), leila, med, [
        media_pair(ck, "seg1", "main-audio", secs, net(r1, "wired", n_hops=0), net(r1, "service-full"),
                   dev(r1, "full"), dev(r1, "service"), codecs=("satin", "opus"))])
    seg2 = segment(gid(ck, "segment", "1", "2"), plus(s, 1.9), e, med, sbc, [
        media_pair(ck, "seg2", "main-audio", secs,
                   net(r2, "service-full", ipAddress="198.51.100.40", subnet="198.51.100.0"),
                   net(r2, "service-full", ipAddress="192.0.2.15", subnet="192.0.2.0", connectionType="wired"),
                   dev(r2, "service"), dev(r2, "service"), codecs=("pcmu", "pcmu"), sip=sip,
                   over=({"wasMediaBypassed": False, "isAudioForwardErrorCorrectionUsed": False},
                         {"wasMediaBypassed": True, "isAudioForwardErrorCorrectionUsed": False}))],
        failure={"stage": "midcall", "reason": "SBC sent BYE after 30 s without RTP (media timeout)"})
    sess = session(gid(ck, "session", "1"), s, e, leila, pstn, ["audio"], [seg1, seg2], is_test=False,
                   failure=None)
    return record(cid, 4, "peerToPeer", ["audio"], s, e, plus(e, 1802.0), context=CTX_EXPANDED,
                  organizer=idset(LEILA), participants=[idset(LEILA), idset(PSTN_US, nulls=True)],
                  organizer_v2=participant_v2(LEILA, [AU_EMEA]),
                  participants_v2=[participant_v2(LEILA, [AU_EMEA]), participant_v2(PSTN_US)],
                  sessions=[sess])


def c04_record():
    """Group meeting listed in a collection page (no sessions); its sessions are exported apart."""
    ck, cid = "C04", CALL["C04"]
    s = T("2026-11-02T10:30:00.75")
    e = plus(s, 15 * 60 + 44.0)
    return record(cid, 2, "groupCall", ["audio", "video"], s, e, plus(e, 905.0), id_first=True,
                  join=join_url(ck), organizer=idset(HANNAH), organizer_v2=participant_v2(HANNAH, [AU_NA]))


def c04_sessions():
    ck = "C04"
    s = T("2026-11-02T10:30:00.75")
    e = plus(s, 15 * 60 + 44.0)
    return [
        mcu_session(ck, "detached-1", ROOM, cua("roomSystem", "teams", H_ROOM, "5.2.115.0", TEAMS_APP),
                    plus(s, 0.4), plus(e, -0.3), ["main-audio", "main-video"], machine="MTR-HARBOUR-04",
                    cpu=CPU_ROOM, kind="wired", n_hops=4, dev_kind="full", keep_nulls=False),
        mcu_session(ck, "detached-2", JONAS, cua("iOS", "teams", H_IOS, "7.22.1", TEAMS_APP),
                    plus(s, 64.0), plus(e, -120.0), ["main-audio"], machine="Jonas's iPhone", cpu=CPU_A17,
                    kind="mobile", dev_kind="mobile", keep_nulls=False),
    ]


def c05_record():
    """Peer-to-peer call listed in a collection page; its participants_v2 page is exported apart."""
    ck, cid = "C05", CALL["C05"]
    s = T("2026-11-02T16:05:31")
    e = plus(s, 3 * 60 + 9)
    return record(cid, 1, "peerToPeer", ["audio"], s, e, plus(e, 300), id_first=True, digits=0,
                  organizer=idset(PRIYA), organizer_v2=participant_v2(PRIYA))


def c05_participants():
    return [participant_v2(PRIYA, [AU_EMEA]), participant_v2(SAMIR, [AU_NA, AU_RD])]


def c06_record():
    """Group call in the collection page WITH inline sessions: a video media line that never carried
    a stream ("streams": []), a data media line with all-null metrics, omit-nulls style streams."""
    ck, cid = "C06", CALL["C06"]
    s = T("2026-11-02T18:20:05.5")
    e = plus(s, 22 * 60 + 10)
    sess = mcu_session(ck, 1, MATEO, cua("windows", "teams", H_WIN, "25290.205.3980.7023", TEAMS_APP),
                       s, e, ["main-audio", "main-video", "data"], machine="CTS-DT-1180", cpu=CPU_RYZEN,
                       kind="wired", modalities=["audio", "video", "data"],
                       media_over={"main-video": {"no_streams": True}})
    return record(cid, 3, "groupCall", ["audio", "video", "data"], s, e, plus(e, 1200.0), id_first=True,
                  join=join_url(ck), organizer=idset(MATEO), organizer_v2=participant_v2(MATEO),
                  sessions=[sess])


def c07(version):
    """Same call exported twice: version 1 (1 session, 1 participant) and version 3 (3 sessions)."""
    ck, cid = "C07", CALL["C07"]
    s = T("2026-11-03T13:00:02.2")
    e = plus(s, 58 * 60 + 1.5)
    samir_ua = cua("windows", "teams", H_WIN, "25290.205.3980.7023", TEAMS_APP)
    if version == 1:
        sessions = [mcu_session(ck, 1, SAMIR, samir_ua, s, e, ["main-audio"], machine="CTS-LT-0588",
                                cpu=CPU_I7, kind="wifi", n_hops=2, dev_kind="full", keep_nulls=False)]
        return record(cid, 1, "groupCall", ["audio"], s, e, T("2026-11-03T14:20:00"), join=join_url(ck),
                      organizer_v2=participant_v2(SAMIR, [AU_NA]),
                      participants_v2=[participant_v2(SAMIR, [AU_NA])], sessions=sessions)
    sessions = [
        mcu_session(ck, 1, SAMIR, samir_ua, s, e, ["main-audio", "main-video"], machine="CTS-LT-0588",
                    cpu=CPU_I7, kind="wifi", n_hops=2, dev_kind="full"),
        mcu_session(ck, 2, RAFAEL, cua("windows", "teams", H_WIN, "25290.205.3980.7023", TEAMS_APP),
                    plus(s, 130), plus(e, -15), ["main-audio", "applicationsharing-video"],
                    machine="CTS-LT-0790", cpu=CPU_X1E, kind="wired"),
        mcu_session(ck, 3, ILSE, cua("macOS", "teams", H_MAC, "25290.210.4011.1205", TEAMS_APP),
                    plus(s, 300), plus(s, 1800), ["main-audio"], machine="Ilse-MBA", cpu=CPU_M2, kind="wifi"),
    ]
    return record(cid, 3, "groupCall", ["audio", "video", "screenSharing"], s, e, T("2026-11-04T02:10:00"),
                  join=join_url(ck), organizer_v2=participant_v2(SAMIR, [AU_NA]),
                  participants_v2=[participant_v2(SAMIR, [AU_NA]), participant_v2(RAFAEL, [AU_RD]),
                                   participant_v2(ILSE, [AU_EMEA, AU_RD])],
                  sessions=sessions)


def c08():
    """Peer-to-peer call that failed in call setup: old schema, session + segment failureInfo, no media."""
    ck, cid = "C08", CALL["C08"]
    s = T("2026-11-03T08:15:44.09")
    e = plus(s, 21.4)
    caller = pep(JONAS, cua("iOS", "teams", H_IOS), gen="legacy")
    callee = pep(LEILA, cua("windows", "teams", H_WIN), gen="legacy")
    fail = {"stage": "callSetup", "reason": "ICE connectivity checks failed: no usable candidate pair"}
    seg = segment(gid(ck, "segment", "1", "1"), s, e, caller, callee, [], failure=fail)
    sess = session(gid(ck, "session", "1"), s, e, caller, callee, ["audio"], [seg], failure=fail)
    return record(cid, 1, "peerToPeer", ["audio"], s, e, plus(e, 240.0), organizer=idset(JONAS),
                  participants=[idset(JONAS), idset(LEILA)], sessions=[sess])


def c09():
    """Group call whose export is incomplete (sessions@odata.nextLink not followed); Int64 as a string."""
    ck, cid = "C09", CALL["C09"]
    s = T("2026-11-03T15:00:00.004")
    e = plus(s, 61 * 60 + 33.3)
    sessions = [
        mcu_session(ck, 1, HANNAH, cua("windows", "teams", H_WIN, "25290.205.3980.7023", TEAMS_APP),
                    s, e, ["main-audio", "data"], machine="CTS-LT-0112", cpu=CPU_I7, kind="wifi",
                    modalities=["audio", "data"], keep_nulls=False,
                    media_over={"data": {"extra": {"futureProperty": {"x": 1}}}}),
        mcu_session(ck, 2, MATEO, cua("android", "teams", H_ANDROID, "1416/1.0.0.2026101701", TEAMS_APP),
                    plus(s, 12), plus(e, -60), ["main-audio"], machine="Pixel 9", cpu=CPU_S24,
                    kind="mobile", dev_kind="mobile", keep_nulls=False,
                    media_over={"main-audio": {"over": ({"packetUtilization": "1200"}, None)}}),
    ]
    return record(cid, 1, "groupCall", ["audio", "data"], s, e, plus(e, 700.0), join=join_url(ck),
                  organizer_v2=participant_v2(HANNAH, [AU_NA]),
                  participants_v2=[participant_v2(HANNAH, [AU_NA]), participant_v2(MATEO)],
                  sessions=sessions,
                  sessions_next=f"{GRAPH}/communications/callRecords/{cid}/sessions?$expand=segments"
                                f"&$skiptoken=" + hashlib.sha256(b"c09-sessions").hexdigest()[:40])


def c10():
    """Group call with participants_v2@odata.nextLink (incomplete participants), an anonymous guest,
    a client on an undocumented platform ("visionPro"), unknown property on a participant."""
    ck, cid = "C10", CALL["C10"]
    s = T("2026-11-04T11:00:00.5")
    e = plus(s, 44 * 60)
    sessions = [
        mcu_session(ck, 1, AIKO, cua("visionPro", "teams", H_VISION, "7.22.0", TEAMS_APP),
                    s, e, ["main-audio", "applicationsharing-video"], machine="Aiko's Apple Vision Pro",
                    cpu=CPU_M2, kind="wifi", keep_nulls=False),
        mcu_session(ck, 2, VISITOR, cua("web", "teams", H_WEB, "25.10.3"), plus(s, 200), plus(e, -30),
                    ["main-audio"], kind="wired", keep_nulls=False),
    ]
    # anonymous guest: associatedIdentity of a guest has no tenant / UPN
    sessions[1]["caller"]["associatedIdentity"] = {"id": VISITOR["id"], "displayName": VISITOR["name"]}
    sessions[1]["segments"][0]["caller"] = sessions[1]["caller"]
    return record(cid, 1, "groupCall", ["audio", "video", "screenSharing"], s, e, plus(e, 640.0),
                  context=CTX_EXPANDED_P2, join=join_url(ck), organizer_v2=participant_v2(AIKO, [AU_RD]),
                  participants_v2=[participant_v2(AIKO, [AU_RD]),
                                   participant_v2(VISITOR, extra={"futureProperty": {"x": 1}}),
                                   participant_v2(JONAS, [AU_NA])],
                  p2_next=f"{GRAPH}/communications/callRecords/{cid}/participants_v2?$skiptoken="
                          + hashlib.sha256(b"c10-participants").hexdigest()[:40],
                  sessions=sessions)


def c11():
    """Peer-to-peer video call crossing midnight UTC; 6 GHz Wi-Fi (undocumented wifiBand / radio type),
    mobile callee, a minute-long freeze duration (PT1M2.5S)."""
    ck, cid = "C11", CALL["C11"]
    s = T("2026-11-03T23:41:10.625")
    e = T("2026-11-04T00:26:45.0")
    secs = (e - s).total_seconds()
    caller = pep(AIKO, cua("iOS", "teams", H_IOS, "7.22.1", TEAMS_APP), machine="Aiko's iPad", cpu=CPU_M2,
                 feedback=feedback("good", "Video froze once on the train.", {"FrozenVideo": True}))
    callee = pep(TOMASZ, cua("android", "teams", H_ANDROID, "1416/1.0.0.2026101701", TEAMS_APP),
                 machine="Galaxy S24 Ultra", cpu=CPU_S24)
    ml = []
    for label in ("main-audio", "main-video"):
        r = Det(ck, label)
        cnet = net(r, "wifi", n_hops=2 if label == "main-audio" else 0, wifiBand="frequency6GHz",
                   wifiRadioType="wifi80211be", wifiChannel=37)
        tnet = net(r, "mobile")
        over = ({}, {"rmsFreezeDuration": "PT1M2.5S", "averageFreezeDuration": "PT4.2S"}) \
            if label == "main-video" else (None, None)
        ml.append(media_pair(ck, 1, label, secs, cnet, tnet, dev(r, "mobile" if label == "main-audio" else "basic"),
                             dev(r, "mobile"), over=over))
    seg = segment(gid(ck, "segment", "1", "1"), s, e, caller, callee, ml)
    sess = session(gid(ck, "session", "1"), s, e, caller, callee, ["audio", "video"], [seg], is_test=False)
    return record(cid, 2, "peerToPeer", ["audio", "video"], s, e, T("2026-11-04T00:41:02.3317"),
                  context=CTX_EXPANDED_P2, organizer_v2=participant_v2(AIKO, [AU_RD]),
                  participants_v2=[participant_v2(AIKO, [AU_RD]), participant_v2(TOMASZ)], sessions=[sess])


def c12():
    """Teams test call (isTest) to the echo service: p2p with a serviceEndpoint callee; unknown
    properties on the record and the session; one metric written as "NaN"."""
    ck, cid = "C12", CALL["C12"]
    s = T("2026-11-04T08:02:19.8")
    e = plus(s, 32.6)
    secs = (e - s).total_seconds()
    r = Det(ck, "net")
    caller = pep(RAFAEL, cua("windows", "teams", H_WIN, "25290.205.3980.7023", TEAMS_APP),
                 machine="CTS-LT-0790", cpu=CPU_X1E)
    echo = sep(sua("customBot", H_ECHO, "2026.9.1"))
    m = media_pair(ck, 1, "main-audio", secs, net(r, "wired", keep_nulls=False), net(r, "service"),
                   dev(r, "full"), dev(r, "service", keep_nulls=False), keep_nulls=False,
                   over=(None, {"averageRatioOfConcealedSamples": "NaN"}))
    seg = segment(gid(ck, "segment", "1", "1"), s, e, caller, echo, [m])
    sess = session(gid(ck, "session", "1"), s, e, caller, echo, ["audio"], [seg], is_test=True,
                   extra={"futureProperty": {"x": 1}})
    return record(cid, 1, "peerToPeer", ["audio"], s, e, plus(e, 180.0), context=CTX_EXPANDED,
                  organizer_v2=participant_v2(RAFAEL, [AU_RD]), participants_v2=[participant_v2(RAFAEL, [AU_RD])],
                  sessions=[sess], extra={"futureProperty": {"x": 1}})


def c13():
    """ACS web visitor -> Teams user (p2p): no @odata.type anywhere (SDK-stripped export), version as a
    string, clientUserAgent with every property, acsUser identity slot."""
    ck, cid = "C13", CALL["C13"]
    s = T("2026-11-04T09:10:03.3")
    e = plus(s, 9 * 60 + 41.9)
    secs = (e - s).total_seconds()
    caller = pep(ACS_AGENT, cua("web", "azureCommunicationServices", H_ACS, "1.31.1", ACS_APP, ACS_RESOURCE,
                                typed=False), typed=False, machine=None)
    caller["associatedIdentity"] = {"id": ACS_AGENT["id"], "displayName": ACS_AGENT["name"], "tenantId": TENANT}
    callee = pep(PRIYA, cua("iOS", "teams", H_IOS, "7.22.1", TEAMS_APP, typed=False), typed=False,
                 machine="Priya's iPhone", cpu=CPU_A17, feedback=feedback("excellent"))
    ml = []
    for label in ("main-audio", "main-video"):
        r = Det(ck, label)
        visitor_net = net(r, "wired", keep_nulls=False, dnsSuffix=None, reflexiveIPAddress="192.0.2.201")
        ml.append(media_pair(ck, 1, label, secs, visitor_net, net(r, "wifi", n_hops=0),
                             dev(r, "basic", keep_nulls=False), dev(r, "mobile")))
    seg = segment(gid(ck, "segment", "1", "1"), s, e, caller, callee, ml, digits=3)
    sess = session(gid(ck, "session", "1"), s, e, caller, callee, ["audio", "video"], [seg], is_test=False,
                   digits=3)
    acs_p = {"id": ACS_AGENT["id"], "identity": {"acsUser": {"id": ACS_AGENT["id"],
                                                            "displayName": ACS_AGENT["name"],
                                                            "tenantId": TENANT}, "user": None}}
    return record(cid, "2", "peerToPeer", ["audio", "video"], s, e, plus(e, 400.0), digits=3,
                  organizer_v2=acs_p,
                  participants_v2=[acs_p, participant_v2(PRIYA, [AU_EMEA], nulls=False, typed_leaf=False)],
                  sessions=[sess])


def c14():
    """Group call from a Teams Room and a Surface Hub; an unknown property on a stream."""
    ck, cid = "C14", CALL["C14"]
    s = T("2026-11-04T16:00:00.031")
    e = plus(s, 29 * 60 + 58.0)
    sessions = [
        mcu_session(ck, 1, ROOM, cua("roomSystem", "teams", H_ROOM, "5.2.115.0", TEAMS_APP),
                    s, e, ["main-audio", "main-video"], machine="MTR-HARBOUR-04", cpu=CPU_ROOM, kind="wired",
                    n_hops=2, dev_kind="full",
                    media_over={"main-video": {"over": ({"futureProperty": {"x": 1}}, None)}}),
        mcu_session(ck, 2, HANNAH, cua("surfaceHub", "teams", H_HUB, "25290.205.3980.7023", TEAMS_APP),
                    plus(s, 45), plus(e, -5), ["main-audio", "main-video", "applicationsharing-video"],
                    machine="HUB-3-NORTH", cpu=CPU_I7, kind="wifi", dev_kind="full"),
    ]
    return record(cid, 1, "groupCall", ["audio", "video", "screenSharing"], s, e, plus(e, 900.0),
                  join=join_url(ck), organizer_v2=participant_v2(HANNAH, [AU_NA]),
                  participants_v2=[participant_v2(HANNAH, [AU_NA]), participant_v2(ROOM, [])], sessions=sessions)


# ---------------------------------------------------------------------------------------------------------
# serialization

def dumps(obj, style="pretty", indent=2):
    if style == "compact":
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return json.dumps(obj, ensure_ascii=False, indent=indent, allow_nan=False)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def collection(context, values, next_link=None, next_first=False):
    d = {"@odata.context": context}
    if next_link and next_first:
        d["@odata.nextLink"] = next_link
    d["value"] = values
    if next_link and not next_first:
        d["@odata.nextLink"] = next_link
    return d


# ---------------------------------------------------------------------------------------------------------
# counting (done by reading the written bytes back, so the numbers describe the files as they are)

def decode_file(path):
    """-> list of (line_no or None, parsed JSON) for one input file; raises on anything invalid."""
    raw = open(path, "rb").read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    name = path[:-3] if path.endswith(".gz") else path
    if name.endswith((".ndjson", ".jsonl")):
        out = []
        for n, line in enumerate(text.split("\n"), 1):
            line = line.rstrip("\r")
            if line.strip():
                out.append((n, json.loads(line)))
        return out
    return [(None, json.loads(text))]


ZERO = dict(records=0, participants_v2=0, participants_legacy=0, organizer_v2=0, sessions=0, segments=0,
            media=0, media_without_streams=0, streams=0, trace_route_hops=0)


def count_sessions(sessions, c):
    for se in sessions or []:
        c["sessions"] += 1
        for sg in se.get("segments") or []:
            c["segments"] += 1
            for m in sg.get("media") or []:
                c["media"] += 1
                st = m.get("streams") or []
                c["streams"] += len(st)
                if not st:
                    c["media_without_streams"] += 1
                for side in ("callerNetwork", "calleeNetwork"):
                    c["trace_route_hops"] += len((m.get(side) or {}).get("traceRouteHops") or [])


def count_record(rec, c):
    c["records"] += 1
    c["participants_v2"] += len(rec.get("participants_v2") or [])
    c["participants_legacy"] += len(rec.get("participants") or [])
    c["organizer_v2"] += 1 if rec.get("organizer_v2") else 0
    count_sessions(rec.get("sessions"), c)


def classify(doc):
    """-> (kind, call_id_for_pages, items)."""
    ctx = doc.get("@odata.context", "") if isinstance(doc, dict) else ""
    if isinstance(doc, dict) and "value" in doc:
        if ctx.endswith("/sessions"):
            return "sessions_page", ctx.split("('")[1].split("')")[0], doc["value"]
        if ctx.endswith("/participants_v2"):
            return "participants_page", ctx.split("('")[1].split("')")[0], doc["value"]
        return "records_page", None, doc["value"]
    return "record", None, [doc]


def analyse(root, files):
    per_file, records, pages = {}, [], []
    for rel in files:
        c = dict(ZERO)
        ids = []
        kinds = set()
        for _line, doc in decode_file(os.path.join(root, rel)):
            kind, call_id, items = classify(doc)
            kinds.add(kind)
            if kind == "sessions_page":
                count_sessions(items, c)
                pages.append(("sessions", call_id, items, rel))
            elif kind == "participants_page":
                c["participants_v2"] += len(items)
                pages.append(("participants_v2", call_id, items, rel))
            else:
                for rec in items:
                    count_record(rec, c)
                    ids.append(rec["id"])
                    records.append((rec, rel))
        c["call_ids"] = ids
        c["kinds"] = sorted(kinds)
        per_file[rel] = c
    return per_file, records, pages


def latest(records):
    """Latest version wins per id (version compared as an integer; lastModifiedDateTime breaks ties)."""
    best = {}
    for rec, rel in records:
        key = (int(rec["version"]), rec["lastModifiedDateTime"])
        if rec["id"] not in best or key > best[rec["id"]][0]:
            best[rec["id"]] = (key, rec, rel)
    return {cid: (rec, rel) for cid, (_k, rec, rel) in best.items()}


def final_counts(records, pages):
    best = latest(records)
    c = dict(ZERO)
    per_call = {}
    for cid, (rec, rel) in sorted(best.items(), key=lambda kv: kv[1][0]["startDateTime"]):
        pc = dict(ZERO)
        count_record(rec, pc)
        for kind, call_id, items, prel in pages:
            if call_id != cid:
                continue
            if kind == "sessions":
                count_sessions(items, pc)
            else:
                pc["participants_v2"] += len(items)
        pc.pop("records")
        per_call[cid] = {"file": rel, "version": int(rec["version"]), "type": rec["type"],
                         "startDateTime": rec["startDateTime"], **pc}
        for k, v in pc.items():
            c[k] += v
    c["records"] = len(best)
    return c, per_call


# ---------------------------------------------------------------------------------------------------------
# schema coverage check (every property of the main complex types is present and non-null somewhere)

CANON = {
    "mediaStream": ["audioCodec", "averageAudioDegradation", "averageAudioNetworkJitter", "averageBandwidthEstimate",
                    "averageFreezeDuration", "averageJitter", "averagePacketLossRate",
                    "averageRatioOfConcealedSamples", "averageReceivedFrameRate", "averageRoundTripTime",
                    "averageVideoFrameLossPercentage", "averageVideoFrameRate", "averageVideoPacketLossRate",
                    "endDateTime", "isAudioForwardErrorCorrectionUsed", "lowFrameRateRatio",
                    "lowVideoProcessingCapabilityRatio", "maxAudioNetworkJitter", "maxJitter", "maxPacketLossRate",
                    "maxRatioOfConcealedSamples", "maxRoundTripTime", "packetUtilization",
                    "postForwardErrorCorrectionPacketLossRate", "rmsFreezeDuration", "startDateTime",
                    "streamDirection", "streamId", "videoCodec", "wasMediaBypassed"],
    "deviceInfo": ["captureDeviceDriver", "captureDeviceName", "captureNotFunctioningEventRatio",
                   "cpuInsufficentEventRatio", "deviceClippingEventRatio", "deviceGlitchEventRatio",
                   "howlingEventCount", "initialSignalLevelRootMeanSquare", "lowSpeechLevelEventRatio",
                   "lowSpeechToNoiseEventRatio", "micGlitchRate", "receivedNoiseLevel", "receivedSignalLevel",
                   "renderDeviceDriver", "renderDeviceName", "renderMuteEventRatio",
                   "renderNotFunctioningEventRatio", "renderZeroVolumeEventRatio", "sentNoiseLevel",
                   "sentSignalLevel", "speakerGlitchRate"],
    "networkInfo": ["bandwidthLowEventRatio", "basicServiceSetIdentifier", "connectionType", "delayEventRatio",
                    "dnsSuffix", "ipAddress", "linkSpeed", "macAddress", "networkTransportProtocol", "port",
                    "receivedQualityEventRatio", "reflexiveIPAddress", "relayIPAddress", "relayPort",
                    "sentQualityEventRatio", "subnet", "traceRouteHops", "wifiBand", "wifiBatteryCharge",
                    "wifiChannel", "wifiMicrosoftDriver", "wifiMicrosoftDriverVersion", "wifiRadioType",
                    "wifiSignalStrength", "wifiVendorDriver", "wifiVendorDriverVersion"],
    "participantEndpoint": ["associatedIdentity", "cpuCoresCount", "cpuName", "cpuProcessorSpeedInMhz",
                            "feedback", "identity", "name", "userAgent"],
    "clientUserAgent": ["azureADAppId", "communicationServiceId", "platform", "productFamily",
                        "applicationVersion", "headerValue"],
    "serviceUserAgent": ["role", "applicationVersion", "headerValue"],
    "session": ["id", "callee", "caller", "endDateTime", "failureInfo", "isTest", "modalities", "startDateTime",
                "segments"],
    "segment": ["id", "callee", "caller", "endDateTime", "failureInfo", "media", "startDateTime"],
    "callRecord": ["id", "endDateTime", "joinWebUrl", "lastModifiedDateTime", "modalities", "organizer",
                   "participants", "startDateTime", "type", "version", "organizer_v2", "participants_v2",
                   "sessions"],
    "traceRouteHop": ["hopCount", "ipAddress", "roundTripTime"],
}


def coverage(records, pages):
    seen = {k: set() for k in CANON}

    def mark(t, obj):
        for k, v in obj.items():
            if v not in (None, [], ""):
                seen[t].add(k)

    def endpoint(ep):
        ua = ep.get("userAgent") or {}
        mark("serviceUserAgent" if "role" in ua else "clientUserAgent", ua)
        if "role" not in ua:
            mark("participantEndpoint", ep)

    def sessions(ss):
        for se in ss or []:
            mark("session", se)
            endpoint(se["caller"])
            endpoint(se["callee"])
            for sg in se.get("segments") or []:
                mark("segment", sg)
                endpoint(sg["caller"])
                endpoint(sg["callee"])
                for m in sg.get("media") or []:
                    for st in m.get("streams") or []:
                        mark("mediaStream", st)
                    for side in ("callerDevice", "calleeDevice"):
                        mark("deviceInfo", m.get(side) or {})
                    for side in ("callerNetwork", "calleeNetwork"):
                        mark("networkInfo", m.get(side) or {})
                        for h in (m.get(side) or {}).get("traceRouteHops") or []:
                            mark("traceRouteHop", h)

    for rec, _rel in records:
        mark("callRecord", rec)
        sessions(rec.get("sessions"))
    for kind, _cid, items, _rel in pages:
        if kind == "sessions":
            sessions(items)
    missing = {t: sorted(set(props) - seen[t]) for t, props in CANON.items() if set(props) - seen[t]}
    return missing


# ---------------------------------------------------------------------------------------------------------
# sample-data/

LAYOUTS = {
    "single-pretty": "1 · single callRecord (GET …/{id}?$expand=sessions($expand=segments)), pretty-printed",
    "single-compact": "1 · single callRecord, compact (one line, no final newline)",
    "single-bom": "1 · single callRecord, UTF-8 BOM + CRLF pretty-print",
    "records-page": "2 · Graph collection page (value[] of callRecords + @odata.nextLink), compact as Graph sends it",
    "sessions-page": "5 · sessions page (…/callRecords('<id>')/sessions) exported apart from its call, compact",
    "participants-page": "6 · participants_v2 page (…/callRecords('<id>')/participants_v2)",
    "ndjson-lf": "3 · NDJSON, LF line endings, one record per line, one blank line",
    "jsonl-crlf": "3 · JSON Lines, CRLF line endings, one record per line, one blank line",
    "json-gz": "4 · gzip of a single callRecord (pretty)",
    "ndjson-gz": "4 · gzip of NDJSON (LF)",
}


def build_sample_data():
    for d in os.listdir(SAMPLE):
        p = os.path.join(SAMPLE, d)
        if os.path.isdir(p) and d.startswith("2026-"):
            shutil.rmtree(p)

    files = []  # (rel, layout, covers)

    def put(rel, data, layout, covers):
        write(os.path.join(SAMPLE, rel), data)
        files.append((rel, layout, covers))

    enc = lambda s: s.encode("utf-8")  # noqa: E731

    put(f"2026-11-02/callrecord-{CALL['C01']}.json", enc(dumps(c01()) + "\n"), "single-pretty",
        "C01 group meeting: 3 participants_v2 (administrativeUnitInfos), 3 sessions participant → AVMCU "
        "serviceEndpoint, main-audio + main-video + applicationsharing-video + video-based-screen-sharing, "
        "full deviceInfo, Wi-Fi with 3 trace-route hops, feedback poor {NoSound:false, Echo:true}, "
        "futureProperty on a networkInfo, \"\" addresses on the MCU side")
    put(f"2026-11-02/callrecord-{CALL['C02']}.json", enc(dumps(c02(), "compact")), "single-compact",
        "C02 peer-to-peer, OLD schema only (organizer/participants identitySets, endpoint identity, "
        "no codecs/transport/traceRouteHops), session.id = segment.id = call id, sessions@odata.context + "
        "segments@odata.context, linkSpeed 4294967295, feedback notRated tokens {}")
    page = collection(CTX_LIST, [c04_record(), c05_record(), c06_record()],
                      next_link=f"{GRAPH}/communications/callRecords?$filter=startDateTime%20ge%202026-11-02T00:00:00Z"
                                f"%20and%20startDateTime%20lt%202026-11-03T00:00:00Z&$skiptoken="
                                + hashlib.sha256(b"page-2").hexdigest()[:48])
    put("2026-11-02/callrecords-page-0001.json", enc(dumps(page, "compact") + "\n"), "records-page",
        "C04 + C05 as listed (organizer + organizer_v2, no sessions/participants_v2), C06 with inline sessions: "
        "main-video with \"streams\": [], data media with all-null metrics")
    put(f"2026-11-02/callrecord-{CALL['C04']}-sessions.json",
        enc(dumps(collection(f"{META}('{CALL['C04']}')/sessions", c04_sessions()), "compact") + "\n"),
        "sessions-page",
        "C04's 2 sessions (with segments) exported apart: Teams Room (roomSystem, 4 trace-route hops), "
        "iPhone on a mobile network")
    put(f"2026-11-02/callrecord-{CALL['C05']}-participants_v2.json",
        enc(dumps(collection(f"{META}('{CALL['C05']}')/participants_v2", c05_participants())) + "\n"),
        "participants-page", "C05's 2 participants_v2 exported apart")

    bom = "\ufeff" + dumps(c03()).replace("\n", "\r\n") + "\r\n"
    put(f"2026-11-03/callrecord-{CALL['C03']}.json", enc(bom), "single-bom",
        "C03 PSTN call (Direct Routing): BOTH schema generations, phone identity +14255550142, 1 session with "
        "2 segments (user → mediationServer → gateway), SIP stream start/end, pcmu, segment failureInfo midcall")
    lines = [dumps(c07(1), "compact"), dumps(c08(), "compact"), "", dumps(c09(), "compact")]
    put("2026-11-03/callrecords.ndjson", enc("\n".join(lines) + "\n"), "ndjson-lf",
        "C07 version 1 (superseded), C08 p2p failed in callSetup (old schema, media []), C09 with "
        "sessions@odata.nextLink (incomplete), packetUtilization \"1200\", data media, futureProperty on a media")
    put(f"2026-11-03/callrecord-{CALL['C11']}.json.gz", gz(enc(dumps(c11()) + "\n")), "json-gz",
        "C11 p2p audio+video crossing midnight UTC (23:41 → 00:26), wifiBand \"frequency6GHz\", "
        "wifiRadioType \"wifi80211be\", mobile callee, rmsFreezeDuration \"PT1M2.5S\"")

    lines = [dumps(c10(), "compact"), "", dumps(c12(), "compact")]
    put("2026-11-04/callrecords.jsonl", enc("\r\n".join(lines) + "\r\n"), "jsonl-crlf",
        "C10 with participants_v2@odata.nextLink, anonymous guest, platform \"visionPro\", futureProperty on a "
        "participant; C12 Teams test call (isTest) to a customBot serviceEndpoint, futureProperty on record "
        "and session, \"NaN\" metric")
    lines = [dumps(c07(3), "compact"), dumps(c13(), "compact"), dumps(c14(), "compact")]
    put("2026-11-04/batch-02/callrecords.ndjson.gz", gz(enc("\n".join(lines) + "\n")), "ndjson-gz",
        "C07 version 3 (wins over version 1), C13 ACS visitor → Teams user with NO @odata.type anywhere, "
        "version \"2\" as a string, clientUserAgent with all 6 properties, acsUser identity slot; C14 Teams "
        "Room + Surface Hub group call, futureProperty on a stream")
    return files


def sample_summary(files):
    rels = [f[0] for f in files]
    per_file, records, pages = analyse(SAMPLE, rels)
    # sanity checks on the tree itself
    ids = {rec["id"] for rec, _ in records}
    for kind, cid, items, rel in pages:
        assert cid in ids, f"{rel}: page for unknown call {cid}"
    inline_session_ids = {se["id"] for rec, _ in records for se in rec.get("sessions") or []}
    for kind, cid, items, rel in pages:
        if kind == "sessions":
            assert not inline_session_ids & {s["id"] for s in items}, rel
    missing = coverage(records, pages)
    assert not missing, f"schema coverage incomplete: {missing}"
    total_bytes = sum(os.path.getsize(os.path.join(SAMPLE, r)) for r in rels)
    assert total_bytes < 300 * 1024, total_bytes
    raw = open(os.path.join(SAMPLE, [r for r in rels if "C03" in r or CALL["C03"] in r][0]), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in open(os.path.join(SAMPLE, "2026-11-04/callrecords.jsonl"), "rb").read()
    assert b"\r" not in open(os.path.join(SAMPLE, "2026-11-03/callrecords.ndjson"), "rb").read()

    totals = dict(ZERO)
    for c in per_file.values():
        for k in ZERO:
            totals[k] += c[k]
    by_id = {}
    for rec, rel in records:
        by_id.setdefault(rec["id"], []).append((int(rec["version"]), rel))
    totals.update({
        "files": len(rels),
        "gz_files": sum(r.endswith(".gz") for r in rels),
        "bytes": total_bytes,
        "unique_call_ids": len(ids),
        "superseded_records": len(records) - len(ids),
        "records_with_sessions_nextlink": sum("sessions@odata.nextLink" in r for r, _ in records),
        "records_with_participants_v2_nextlink": sum("participants_v2@odata.nextLink" in r for r, _ in records),
        "sessions_pages": sum(p[0] == "sessions" for p in pages),
        "participants_v2_pages": sum(p[0] == "participants_v2" for p in pages),
    })
    fin, per_call = final_counts(records, pages)
    fin["call_records"] = fin.pop("records")
    by_day = {}
    for cid, pc in per_call.items():
        by_day[pc["startDateTime"][:10]] = by_day.get(pc["startDateTime"][:10], 0) + 1
    layout_of = {f[0]: f[1] for f in files}
    out_files = {}
    for rel in rels:
        c = per_file[rel]
        out_files[rel] = {"layout": layout_of[rel], "gz": rel.endswith(".gz"),
                          **{k: c[k] for k in ZERO}, "call_ids": c["call_ids"]}
    dup = [cid for cid, v in by_id.items() if len(v) > 1]
    special = {
        "duplicate_call_id": {cid: [{"version": v, "file": f} for v, f in sorted(by_id[cid])] for cid in dup},
        "incomplete_sessions": [r["id"] for r, _ in records if "sessions@odata.nextLink" in r],
        "incomplete_participants_v2": [r["id"] for r, _ in records if "participants_v2@odata.nextLink" in r],
        "sessions_page_for": [p[1] for p in pages if p[0] == "sessions"],
        "participants_v2_page_for": [p[1] for p in pages if p[0] == "participants_v2"],
        "crosses_midnight_utc": [cid for cid, pc in per_call.items()
                                 if pc["startDateTime"][:10] != latest(records)[cid][0]["endDateTime"][:10]],
        "calls_by_start_date_utc": dict(sorted(by_day.items())),
        "call_key": {k: v for k, v in CALL.items()},
    }
    return {
        "_about": "Expected counts for sample-data/, generated by sample-data/generate.py. 'files' and 'totals' "
                  "count what the files contain as read (every version of a record); 'totals_latest' counts "
                  "what remains after keeping only the latest version of each call id (version, then "
                  "lastModifiedDateTime) and attaching the detached sessions / participants_v2 pages to their "
                  "call. media = media lines; streams = mediaStream objects; trace_route_hops = hops over "
                  "callerNetwork + calleeNetwork of every media line; participants_legacy = entries of the "
                  "deprecated callRecord.participants array; organizer_v2 = records carrying organizer_v2.",
        "files": out_files,
        "totals": totals,
        "totals_latest": fin,
        "calls_latest": per_call,
        "special": special,
    }


# ---------------------------------------------------------------------------------------------------------
# tests/fixtures/good

def good_minimal():
    return {"id": gid("fixture", "minimal"), "version": 1, "type": "peerToPeer",
            "startDateTime": "2026-11-05T10:00:00Z", "endDateTime": "2026-11-05T10:05:30Z",
            "lastModifiedDateTime": "2026-11-05T10:20:00Z", "modalities": ["audio"]}


def good_p2p_full():
    """Every mediaStream / deviceInfo / networkInfo property with a distinct, recognisable value."""
    cid = gid("fixture", "p2p-full")
    caller_p = user("fx-caller", "Alex Caller", "alex.caller")
    callee_p = user("fx-callee", "Bea Callee", "bea.callee")

    def ua(platform, header, ver):
        return cua(platform, "teams", header, ver, gid("app", "fixture-teams"), gid("acs-resource", "fixture"))

    caller = pep(caller_p, ua("windows", "FixtureCaller/1.0", "1.0.0.1"), gen="both", machine="CALLER-PC",
                 cpu=("Fixture CPU Caller", 8, 2100))
    callee = pep(callee_p, ua("macOS", "FixtureCallee/2.0", "2.0.0.2"), gen="both", machine="CALLEE-MAC",
                 cpu=("Fixture CPU Callee", 10, 3200),
                 feedback=feedback("fair", "fixture feedback text", {"NoSound": False, "Echo": True}))

    def network(p):  # p = 1 caller, 2 callee; every value distinct across properties and sides
        return {
            "ipAddress": f"10.0.{p}.10", "subnet": f"10.0.{p}.0", "linkSpeed": 100000000 * p,
            "connectionType": "wifi" if p == 1 else "wired", "port": 50000 + 10 * p,
            "reflexiveIPAddress": f"203.0.113.{p}", "relayIPAddress": f"198.51.100.{p}", "relayPort": 3477 + p,
            "macAddress": f"0{p}-00-00-00-00-0{p}", "dnsSuffix": f"side{p}.contoso.com",
            "sentQualityEventRatio": [0.111, 0.121][p - 1], "receivedQualityEventRatio": [0.112, 0.122][p - 1],
            "delayEventRatio": [0.113, 0.123][p - 1], "bandwidthLowEventRatio": [0.114, 0.124][p - 1],
            "basicServiceSetIdentifier": f"0{p}:bb:cc:dd:ee:ff",
            "wifiBand": ["frequency50GHz", "frequency24GHz"][p - 1], "wifiBatteryCharge": 60 + p,
            "wifiChannel": 40 + p, "wifiMicrosoftDriver": f"MS Driver {p}", "wifiMicrosoftDriverVersion": f"MS:{p}.0",
            "wifiRadioType": ["wifi80211ax", "wifi80211ac"][p - 1], "wifiSignalStrength": 70 + p,
            "wifiVendorDriver": f"Vendor Driver {p}", "wifiVendorDriverVersion": f"V:{p}.0",
            "networkTransportProtocol": ["udp", "tcp"][p - 1],
            "traceRouteHops": [{"hopCount": 1, "ipAddress": "192.168.0.1", "roundTripTime": "PT0.004S"},
                               {"hopCount": 2, "ipAddress": "203.0.113.254", "roundTripTime": "PT0.011S"}]
            if p == 1 else [],
        }

    def device(p):  # ratios 0.21x (caller) / 0.22x (callee)
        x = [0.21, 0.22][p - 1]
        return {
            "captureDeviceDriver": f"CaptureDriver-{p}", "captureDeviceName": f"Microphone-{p}",
            "captureNotFunctioningEventRatio": round(x + 0.001, 3), "cpuInsufficentEventRatio": round(x + 0.002, 3),
            "deviceClippingEventRatio": round(x + 0.003, 3), "deviceGlitchEventRatio": round(x + 0.004, 3),
            "howlingEventCount": 2 + p, "initialSignalLevelRootMeanSquare": 100.5 + p,
            "lowSpeechLevelEventRatio": round(x + 0.005, 3), "lowSpeechToNoiseEventRatio": round(x + 0.006, 3),
            "micGlitchRate": 6.5 + p, "receivedNoiseLevel": -60 - p, "receivedSignalLevel": -10 - p,
            "renderDeviceDriver": f"RenderDriver-{p}", "renderDeviceName": f"Speaker-{p}",
            "renderMuteEventRatio": round(x + 0.007, 3), "renderNotFunctioningEventRatio": round(x + 0.008, 3),
            "renderZeroVolumeEventRatio": round(x + 0.009, 3), "sentNoiseLevel": -70 - p, "sentSignalLevel": -20 - p,
            "speakerGlitchRate": 8.5 + p,
        }

    streams = [
        {"streamId": "1001", "streamDirection": "callerToCallee", "audioCodec": "opus", "videoCodec": "h264",
         "averageAudioDegradation": 0.5, "averageAudioNetworkJitter": "PT0.025S",
         "averageBandwidthEstimate": 1000001, "averageFreezeDuration": "PT0.4S", "averageJitter": "PT0.021S",
         "averagePacketLossRate": 0.0123, "averageRatioOfConcealedSamples": 0.0201,
         "averageReceivedFrameRate": 24.5, "averageRoundTripTime": "PT0.045S",
         "averageVideoFrameLossPercentage": 1.25, "averageVideoFrameRate": 25.5,
         "averageVideoPacketLossRate": 0.0031, "startDateTime": "2026-11-05T11:00:01.5Z",
         "endDateTime": "2026-11-05T11:09:59.5Z", "isAudioForwardErrorCorrectionUsed": True,
         "lowFrameRateRatio": 0.061, "lowVideoProcessingCapabilityRatio": 0.071,
         "maxAudioNetworkJitter": "PT0.052S", "maxJitter": "PT0.033S", "maxPacketLossRate": 0.0456,
         "maxRatioOfConcealedSamples": 0.0802, "maxRoundTripTime": "PT0.091S", "packetUtilization": 29950,
         "postForwardErrorCorrectionPacketLossRate": 0.0011, "rmsFreezeDuration": "PT0.8S",
         "wasMediaBypassed": False},
        {"streamId": "2002", "streamDirection": "calleeToCaller", "audioCodec": "satin", "videoCodec": "av1",
         "averageAudioDegradation": 1.5, "averageAudioNetworkJitter": "PT0.026S",
         "averageBandwidthEstimate": 2000002, "averageFreezeDuration": "PT1.4S", "averageJitter": "PT0.022S",
         "averagePacketLossRate": 0.0234, "averageRatioOfConcealedSamples": 0.0302,
         "averageReceivedFrameRate": 14.5, "averageRoundTripTime": "PT0.046S",
         "averageVideoFrameLossPercentage": 2.25, "averageVideoFrameRate": 15.5,
         "averageVideoPacketLossRate": 0.0042, "startDateTime": "2026-11-05T11:00:02.5Z",
         "endDateTime": "2026-11-05T11:09:58.5Z", "isAudioForwardErrorCorrectionUsed": False,
         "lowFrameRateRatio": 0.062, "lowVideoProcessingCapabilityRatio": 0.072,
         "maxAudioNetworkJitter": "PT0.062S", "maxJitter": "PT0.044S", "maxPacketLossRate": 0.0567,
         "maxRatioOfConcealedSamples": 0.0903, "maxRoundTripTime": "PT0.092S", "packetUtilization": 29800,
         "postForwardErrorCorrectionPacketLossRate": 0.0022, "rmsFreezeDuration": "PT1.8S",
         "wasMediaBypassed": True},
    ]
    m = media("main-audio", network(1), network(2), device(1), device(2), streams)
    s, e = T("2026-11-05T11:00:00"), T("2026-11-05T11:10:00")
    seg = segment(gid("fixture", "p2p-full", "segment"), s, e, caller, callee, [m], digits=0)
    sess = session(gid("fixture", "p2p-full", "session"), s, e, caller, callee, ["audio"], [seg], is_test=False,
                   digits=0)
    return record(cid, 1, "peerToPeer", ["audio"], s, e, T("2026-11-05T11:30:00"), context=CTX_EXPANDED,
                  digits=0, organizer=idset(caller_p), participants=[idset(caller_p), idset(callee_p)],
                  organizer_v2=participant_v2(caller_p, [gid("au", "fixture")]),
                  participants_v2=[participant_v2(caller_p, [gid("au", "fixture")]), participant_v2(callee_p)],
                  sessions=[sess])


def good_group_call():
    ck, cid = "FX-GROUP", gid("fixture", "group-call")
    s = T("2026-11-05T13:00:00.5")
    e = plus(s, 30 * 60)
    p1 = user("fx-g1", "Gina One", "gina.one")
    p2 = user("fx-g2", "Gus Two", "gus.two")
    p3 = user("fx-g3", "Gwen Three", "gwen.three")
    ua = lambda pf: cua(pf, "teams", "FixtureTeams/1.0", "1.0.0.0", gid("app", "fixture-teams"))  # noqa: E731
    sessions = [
        mcu_session(ck, 1, p1, ua("windows"), s, e, ["main-audio", "main-video", "applicationsharing-video"],
                    machine="G1-PC", cpu=CPU_I7, kind="wifi", dev_kind="full"),
        mcu_session(ck, 2, p2, ua("macOS"), plus(s, 60), e, ["main-audio", "main-video"], machine="G2-MAC",
                    cpu=CPU_M3, kind="wired"),
        mcu_session(ck, 3, p3, ua("web"), plus(s, 120), plus(e, -60), ["main-audio"], machine="G3-WEB",
                    cpu=CPU_RYZEN, kind="wired"),
    ]
    return record(cid, 1, "groupCall", ["audio", "video", "screenSharing"], s, e, plus(e, 600), context=CTX_EXPANDED,
                  join=join_url(ck), organizer_v2=participant_v2(p1),
                  participants_v2=[participant_v2(p1), participant_v2(p2), participant_v2(p3)], sessions=sessions)


def small_record(key, start):
    """A small valid record (1 session, 1 segment, 1 main-audio media, 2 streams) for the bad fixtures."""
    cid = gid("fixture", key)
    s = T(start)
    e = plus(s, 120)
    p1, p2 = user(f"{key}-a", f"{key} A", f"{key}.a"), user(f"{key}-b", f"{key} B", f"{key}.b")
    r = Det("fixture", key)
    caller = pep(p1, cua("windows", "teams", "FixtureTeams/1.0"))
    callee = pep(p2, cua("iOS", "teams", "FixtureTeams/1.0"))
    m = media_pair("fixture", key, "main-audio", 120, net(r, "wired"), net(r, "wifi"), dev(r, "basic"),
                   dev(r, "mobile"))
    seg = segment(gid("fixture", key, "seg"), s, e, caller, callee, [m], digits=0)
    sess = session(gid("fixture", key, "sess"), s, e, caller, callee, ["audio"], [seg], digits=0)
    return record(cid, 1, "peerToPeer", ["audio"], s, e, plus(e, 300), digits=0,
                  organizer_v2=participant_v2(p1), participants_v2=[participant_v2(p1), participant_v2(p2)],
                  sessions=[sess])


def build_fixtures():
    good_dir, bad_dir = os.path.join(FIXTURES, "good"), os.path.join(FIXTURES, "bad")
    for d in (good_dir, bad_dir):
        if os.path.isdir(d):
            shutil.rmtree(d)
    enc = lambda s: s.encode("utf-8")  # noqa: E731
    good = {"minimal.json": good_minimal(), "p2p-full.json": good_p2p_full(), "group-call.json": good_group_call()}
    for name, obj in good.items():
        write(os.path.join(good_dir, name), enc(dumps(obj) + "\n"))

    # name -> (bytes, what is wrong, expected outcome, good records kept, (rejection level, count))
    # level: file (the whole file), record (one callRecord), line (NDJSON lines), session (orphan sessions)
    bad = {}
    full = dumps(small_record("truncated", "2026-11-05T08:00:00"))
    bad["truncated.json"] = (enc(full[: len(full) * 3 // 5]),
                             "a callRecord cut off at 60 % of its bytes (unexpected end of input)",
                             "file rejected: JSON parse error (EOF); 0 records", 0, ("file", 1))
    bad["empty.json"] = (b"", "0 bytes", "file rejected: empty input; 0 records", 0, ("file", 1))
    bad["not-json.json"] = (b"callRecords export for 2026-11-04 failed: HTTP 429 Too Many Requests, "
                            b"retry after 30 seconds\n",
                            "plain text", "file rejected: not JSON; 0 records", 0, ("file", 1))
    bad["graph-error.json"] = (enc(dumps({"error": {
        "code": "NotFound",
        "message": f"Call record with id '{gid('fixture', 'expired')}' was not found or has expired "
                   "(records are kept 30 days).",
        "innerError": {"date": "2026-11-05T08:00:00", "request-id": gid("req", "1"),
                       "client-request-id": gid("req", "2")}}}) + "\n"),
        "a Graph error body {\"error\":{code,message,innerError}} saved instead of a record",
        "file rejected: Graph error response (code NotFound, message …); 0 records", 0, ("file", 1))
    bad["notification.json"] = (enc(dumps({"value": [
        {"subscriptionId": gid("sub", "1"), "clientState": "contoso-callrec-secret-7731",
         "changeType": "created", "resource": f"communications/callRecords/{CALL['C01']}",
         "subscriptionExpirationDateTime": "2026-11-06T00:00:00.000+00:00",
         "resourceData": {"@odata.type": "#Microsoft.Graph.callRecord",
                          "@odata.id": f"communications/callRecords/{CALL['C01']}", "id": CALL["C01"]},
         "tenantId": TENANT},
        {"subscriptionId": gid("sub", "1"), "clientState": "contoso-callrec-secret-7731",
         "changeType": "updated", "resource": f"communications/callRecords/{CALL['C07']}",
         "subscriptionExpirationDateTime": "2026-11-06T00:00:00.000+00:00",
         "resourceData": {"@odata.type": "#Microsoft.Graph.callrecord",
                          "@odata.id": f"communications/callRecords/{CALL['C07']}", "id": CALL["C07"]},
         "tenantId": TENANT}]}) + "\n"),
        "a change-notification collection (value[] of {subscriptionId, changeType, resource, resourceData}); "
        "it carries only call ids, no callRecord",
        "file rejected (or skipped with a reason): change notification, not callRecords; 0 records", 0,
        ("file", 1))
    wrong = small_record("wrong-type", "2026-11-05T08:10:00")
    wrong["sessions"] = "see sessions.json"
    bad["wrong-type.json"] = (enc(dumps(wrong) + "\n"), "a callRecord whose \"sessions\" is a string",
                              "record rejected: sessions must be an array; 0 records", 0, ("record", 1))
    bad["array-of-numbers.json"] = (b"[1,2,3]\n", "a JSON array of numbers",
                                    "file rejected: a top-level array of numbers is no Graph layout (if the tool accepts "
                                    "arrays of records, each of the 3 items is rejected as not an object); 0 records",
                                    0, ("file", 1))
    blob = b"".join(hashlib.sha256(f"blob{i}".encode()).digest() for i in range(4))
    bad["binary.json"] = (b"\x00\xff\xfe\x89PNG\r\n\x1a\n" + blob,
                          "binary bytes (NUL, 0xFF, a PNG signature, 128 hash bytes): not UTF-8",
                          "file rejected: invalid UTF-8 / not JSON; 0 records", 0, ("file", 1))
    bad["bad.json.gz"] = (enc(dumps(small_record("not-gzip", "2026-11-05T08:20:00"), "compact") + "\n"),
                          "named .gz but is plain (uncompressed) JSON: no 1f 8b gzip magic",
                          "file rejected: not a gzip stream (invalid gzip header); its record is NOT read; "
                          "0 records", 0, ("file", 1))
    m_good = [small_record(f"mixed-{n}", f"2026-11-05T09:0{n}:00") for n in (1, 2, 3)]
    mixed_lines = [dumps(m_good[0], "compact"),
                   '{"id": "' + gid("fixture", "mixed-broken") + '", "version": 1, "type": "groupCall",',
                   dumps(m_good[1], "compact"), "42", dumps(m_good[2], "compact")]
    bad["mixed.ndjson"] = (enc("\n".join(mixed_lines) + "\n"),
                           "5 NDJSON lines: good, malformed JSON (line 2), good, a bare number (line 4), good",
                           "3 records kept (lines 1, 3, 5), 2 lines rejected (line 2: parse error; line 4: not an "
                           "object)", 3, ("line", 2))
    orphan_id = gid("fixture", "orphan-call")
    orphan = small_record("orphan", "2026-11-05T09:30:00")["sessions"]
    bad["orphan-sessions.json"] = (enc(dumps(collection(f"{META}('{orphan_id}')/sessions", orphan)) + "\n"),
                                   f"a sessions page for call {orphan_id}, which exists in no file",
                                   "sessions rejected/reported as orphans (no call record for the id); 0 records, "
                                   "1 session not emitted", 0, ("session", 1))
    pstn = collection(GRAPH + "/$metadata#Collection(microsoft.graph.callRecords.pstnCallLogRow)", [{
        "id": gid("pstn", "row1"), "callId": "1901334577_842219660@192.0.2.77", "userId": ILSE["id"],
        "userPrincipalName": ILSE["upn"], "userDisplayName": ILSE["name"],
        "startDateTime": "2026-11-04T10:00:05.1190342Z", "endDateTime": "2026-11-04T10:04:17.1190342Z",
        "duration": 252, "charge": 0.00, "callType": "user_out", "currency": "EUR",
        "calleeNumber": "+442079460318", "usageCountryCode": "DE", "tenantCountryCode": "DE",
        "connectionCharge": 0.00, "callerNumber": "+4930901820***", "destinationContext": "International",
        "destinationName": "United Kingdom", "conferenceId": None, "licenseCapability": "MCOPSTN2",
        "inventoryType": "Subscriber", "operator": "Microsoft", "callDurationSource": "microsoft"}])
    pstn["@odata.count"] = 1
    bad["pstn-log.json"] = (enc(dumps(pstn) + "\n"),
                            "a getPstnCalls page (Collection(microsoft.graph.callRecords.pstnCallLogRow)) with one "
                            "row: a different payload type whose rows have an id",
                            "file rejected (or skipped with a reason): PSTN call log, not callRecords; 0 records",
                            0, ("file", 1))
    bd = small_record("bad-duration", "2026-11-05T09:40:00")
    bd["sessions"][0]["segments"][0]["media"][0]["streams"][0]["averageJitter"] = "fast"
    bad["bad-duration.json"] = (enc(dumps(bd) + "\n"), "a callRecord whose first stream has averageJitter \"fast\"",
                                "record rejected: invalid ISO 8601 duration \"fast\" at "
                                "sessions[0].segments[0].media[0].streams[0].averageJitter; 0 records", 0, ("record", 1))
    nid = small_record("no-id", "2026-11-05T09:50:00")
    del nid["id"]
    bad["no-id.json"] = (enc(dumps(nid) + "\n"), "a callRecord without \"id\"",
                         "record rejected: missing id; 0 records", 0, ("record", 1))
    for name, (data, *_rest) in bad.items():
        write(os.path.join(bad_dir, name), data)

    # expected counts
    good_counts = {}
    for name in good:
        pf, recs, pages = analyse(good_dir, [name])
        c = pf[name]
        good_counts[name] = {k: c[k] for k in ZERO} | {"call_ids": c["call_ids"]}
    assert not coverage([(good["p2p-full.json"], "p2p-full.json")], []).get("mediaStream")
    assert not coverage([(good["p2p-full.json"], "p2p-full.json")], []).get("deviceInfo")
    assert not coverage([(good["p2p-full.json"], "p2p-full.json")], []).get("networkInfo")
    mixed_counts = dict(ZERO)
    for rec in m_good:
        count_record(rec, mixed_counts)
    bad_counts = {}
    for name, (_d, wrong_txt, outcome, n_good, (level, n_rej)) in bad.items():
        entry = {"what_is_wrong": wrong_txt, "expected": outcome, "good_records": n_good,
                 "rejected_level": level, "rejected_count": n_rej}
        if name == "mixed.ndjson":
            entry["good_call_ids"] = [r["id"] for r in m_good]
            entry["good_counts"] = mixed_counts
            entry["rejected_lines"] = [2, 4]
        bad_counts[name] = entry
    return good_counts, bad_counts


# ---------------------------------------------------------------------------------------------------------
# READMEs

def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    return "\n".join(out)


def write_sample_readme(files, summary):
    cols = ["records", "participants_v2", "participants_legacy", "sessions", "segments", "media", "streams",
            "trace_route_hops"]
    covers = {f[0]: f[2] for f in files}
    rows = []
    for rel, c in summary["files"].items():
        rows.append([f"`{rel}`", LAYOUTS[c["layout"]], covers[rel]] + [c[k] for k in cols])
    t = summary["totals"]
    rows.append(["**total as read**", f"{t['files']} files, {t['gz_files']} gzip, {t['bytes']} bytes", ""]
                + [t[k] for k in cols])
    f = summary["totals_latest"]
    rows.append(["**total after latest-version dedup**", f"{f['call_records']} distinct calls", "C07 v1 dropped"]
                + [f["call_records"]] + [f[k] for k in cols[1:]])
    calls = "\n".join(f"| {k} | `{v}` | {summary['calls_latest'][v]['type']} | "
                      f"{summary['calls_latest'][v]['startDateTime']} | v{summary['calls_latest'][v]['version']} | "
                      f"`{summary['calls_latest'][v]['file']}` |"
                      for k, v in CALL.items())
    text = f"""# sample-data

Realistic, **100 % valid** Microsoft Graph `callRecord` exports for `callrec` (all names, ids, phone numbers,
addresses and domains are fictional). The tool must read every file here and exit 0.

Generated by [`generate.py`](generate.py) (Python 3 stdlib, deterministic): `python3 sample-data/generate.py`
rewrites the `2026-11-*` folders, this README, `tests/fixtures/good/`, `tests/fixtures/bad/`,
`tests/fixtures/sample-data-expected.json` and `tests/fixtures/fixtures-expected.json`, and prints the summary
JSON. Do not edit the data by hand; change the script and re-run it.

Only `*.json`, `*.ndjson`, `*.jsonl` and their `.gz` forms are input; `generate.py` and this `README.md` live
in the same tree and must be skipped by extension.

## Files and expected counts

Counts per file are what the file contains as read. `media` = media lines, `streams` = mediaStream objects,
`trace_route_hops` = hops over `callerNetwork` + `calleeNetwork` of every media line, `participants_legacy` =
entries of the deprecated `callRecord.participants` array. File names carry the call GUID; the call keys
C01…C14 are listed below. The same numbers, machine-readable, are in
`tests/fixtures/sample-data-expected.json` (`files`, `totals`, `totals_latest`, `calls_latest`, `special`).

{md_table(["file", "layout", "what it covers", "records", "participants_v2", "participants (legacy)",
           "sessions", "segments", "media", "streams", "trace-route hops"], rows)}

Other totals (as read): {t['unique_call_ids']} unique call ids, {t['superseded_records']} superseded record,
{t['media_without_streams']} media line without streams, {t['organizer_v2']} records with `organizer_v2`,
{t['records_with_sessions_nextlink']} record with `sessions@odata.nextLink`,
{t['records_with_participants_v2_nextlink']} record with `participants_v2@odata.nextLink`,
{t['sessions_pages']} detached sessions page, {t['participants_v2_pages']} participants_v2 page.
Calls by UTC start date (latest versions): {json.dumps(summary['special']['calls_by_start_date_utc'])}.

## Calls

| key | call id | type | startDateTime | version kept | file of the kept version |
|---|---|---|---|---|---|
{calls}

## Cases a reader must handle

- **Latest version wins**: C07 appears as version 1 in `2026-11-03/callrecords.ndjson` (1 session,
  1 participant) and as version 3 in `2026-11-04/batch-02/callrecords.ndjson.gz` (3 sessions, 3 participants,
  later `lastModifiedDateTime`). Only version 3 may reach the output. Session 1 has the same id in both.
- **Detached pages**: `callrecord-<C04>-sessions.json` holds the sessions of C04, whose record is in the
  collection page without sessions (list pages carry none); `callrecord-<C05>-participants_v2.json` holds the
  participants of C05. The pages' call id is only in `@odata.context` (`…/callRecords('<id>')/sessions`).
  Their session ids differ from every inline session id.
- **Incomplete exports**: C09 still carries `sessions@odata.nextLink`, C10 `participants_v2@odata.nextLink`.
  Both are valid; the tool should keep their data and flag them as incomplete.
- **Schema generations**: C02 and C08 are old-schema only (`organizer`, `participants`, endpoint
  `identity`); C03 carries both generations (plus a PSTN `phone` identity); the collection-page records have
  `organizer` + `organizer_v2`; all others are new-schema (`organizer_v2`, `participants_v2` with
  `administrativeUnitInfos`, `associatedIdentity`, endpoint `name`/`cpu*`, `isTest`).
- **Polymorphism without `@odata.type`**: C13 has no `@odata.type` on any endpoint, user agent or identity.
- **Value variants**: `"version": "2"` (C13) and `"packetUtilization": "1200"` (C09) are Int64 as strings;
  `"averageRatioOfConcealedSamples": "NaN"` (C12); undocumented enum members `"platform": "visionPro"` (C10),
  `"wifiBand": "frequency6GHz"` and `"wifiRadioType": "wifi80211be"` (C11); the member after
  `unknownFutureValue` `"productFamily": "azureCommunicationServices"` (C13); `"platform": "unknown"` /
  `"productFamily": "unknown"` and `"headerValue": null` on the PSTN endpoint (C03); `"futureProperty": {{"x": 1}}` on a record and a session (C12), a networkInfo
  (C01), a media line (C09), a participant (C10) and a stream (C14); `""` for addresses on service sides;
  all-null `data` streams (C06; in C09 the same streams with the nulls omitted); omit-values=nulls style
  (null properties absent) in C02's networks, the C04 sessions page, C07 version 1, C09, C10, C12 and C13;
  `linkSpeed` 4294967295 (C02); durations `"PT0.01S"`-style and `"PT1M2.5S"` (C11); timestamps with 0, 3 and
  7 fractional digits; `"streams": []` on one media line (C06).
- **Failures and feedback**: C08 session + segment `failureInfo` stage `callSetup` (segment `media: []`);
  C03 segment 2 stage `midcall`; feedback `poor` with text and tokens `{{"NoSound":false,"Echo":true}}`
  (C01), `notRated` with `tokens: {{}}` (C02).
- **Multi-segment session**: C03 session 1 = segment 1 (Teams user → `mediationServer`) + segment 2
  (`mediationServer` → `gateway`), the second with SIP stream `startDateTime`/`endDateTime` and
  `wasMediaBypassed` true/false.
- **Encodings / framing**: UTF-8 BOM + CRLF (C03 file), compact one-line JSON without final newline (C02),
  NDJSON with LF and a blank line, JSON Lines with CRLF and a blank line, gzip single and gzip NDJSON
  (mtime 0), a file two folders deep (`2026-11-04/batch-02/`). C11 starts 2026-11-03 23:41 UTC and ends
  2026-11-04 00:26 UTC.
"""
    write(os.path.join(SAMPLE, "README.md"), text.encode("utf-8"))


def write_bad_readme(bad_counts):
    rows = [[f"`{n}`", c["what_is_wrong"], c["expected"]] for n, c in bad_counts.items()]
    text = f"""# tests/fixtures/bad

Inputs that `callrec` must reject **with a clear reason** (file name, line number for NDJSON, and why),
without losing the good data next to them. Generated by `sample-data/generate.py`; machine-readable
expectations are in `tests/fixtures/fixtures-expected.json` (`bad`).

Run over this folder, the tool should emit exactly the 3 good records of `mixed.ndjson` (call ids in
`fixtures-expected.json`, each with 2 participants_v2, 1 session, 1 segment, 1 media, 2 streams) and report
every other file (or record / line) below as rejected. Whether such a run exits non-zero is the tool's policy;
what matters is that nothing here crashes it and nothing here is silently accepted.

{md_table(["file", "what is wrong", "expected outcome"], rows)}

Notes:
- `notification.json` and `pstn-log.json` are valid JSON of real Graph payload types that are not
  callRecords; they must be recognised (by `@odata.context` / shape) and not flattened as records, even
  though the PSTN row has an `id`.
- `bad.json.gz` contains a valid uncompressed record (a renamed file). The expectation is a gzip error, not
  a silent fallback to plain JSON.
- `orphan-sessions.json`: the call id appears only in `@odata.context`; there is no record with that id in
  this folder or in `sample-data/`.
"""
    write(os.path.join(FIXTURES, "bad", "README.md"), text.encode("utf-8"))


def main():
    files = build_sample_data()
    summary = sample_summary(files)
    good_counts, bad_counts = build_fixtures()
    write(os.path.join(FIXTURES, "sample-data-expected.json"), (dumps(summary) + "\n").encode("utf-8"))
    fx = {"_about": "Expected counts / outcomes for tests/fixtures/good and tests/fixtures/bad, generated by "
                    "sample-data/generate.py. Count keys mean the same as in sample-data-expected.json.",
          "good": good_counts, "bad": bad_counts}
    write(os.path.join(FIXTURES, "fixtures-expected.json"), (dumps(fx) + "\n").encode("utf-8"))
    write_sample_readme(files, summary)
    write_bad_readme(bad_counts)
    folder = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(SAMPLE) for f in fs
                 if "__pycache__" not in d)
    assert folder < 300_000, f"sample-data/ is {folder} bytes (limit 300 KB incl. generate.py and README.md)"
    json.dump({"files": {k: {kk: vv for kk, vv in v.items() if kk != "call_ids"}
                         for k, v in summary["files"].items()},
               "totals": summary["totals"], "totals_latest": summary["totals_latest"],
               "good": {k: {kk: vv for kk, vv in v.items() if kk != "call_ids"} for k, v in good_counts.items()},
               "bad": {k: {"good_records": v["good_records"], "rejected": [v["rejected_level"], v["rejected_count"]]}
                       for k, v in bad_counts.items()}},
              sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
