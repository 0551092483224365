//! CQD's First/Second endpoint normalisation for a segment, and stream direction relative to it.
//!
//! CQD puts a server endpoint (conference server, mediation server, …) First whenever one is
//! involved, and a client Second unless both ends are servers (call-quality.md §1.5). Graph
//! speaks of caller and callee instead, so:
//!
//! * an endpoint is a server when it is a `serviceEndpoint` (`tables::endpoint_kind` = `service`);
//!   a `participantEndpoint`, an endpoint of unknown kind and a missing endpoint count as client;
//! * First is the server side when exactly one side is a server, and the caller when both sides
//!   are of the same kind (CQD breaks that tie by an internal user-agent order Graph does not
//!   expose; caller-first is the fixed tie-break call-quality.md §1.5 suggests);
//! * a stream is inbound when it flows First → Second (CQD *Stream Direction* First-to-Second):
//!   from the server to the client in client:server segments, where the client is the user, and
//!   from caller to callee in client:client (peer-to-peer) segments, where "inbound" therefore
//!   means "toward the callee". Between two servers no side is the user: inbound is null.

/// A side of a segment, in Graph's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Caller,
    Callee,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Caller => "caller",
            Side::Callee => "callee",
        }
    }
}

/// CQD *Is Server Pair*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerPair {
    ClientClient,
    ClientServer,
    ServerServer,
}

impl ServerPair {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerPair::ClientClient => "client:client",
            ServerPair::ClientServer => "client:server",
            ServerPair::ServerServer => "server:server",
        }
    }
}

/// Which Graph side is CQD's First, and what kind of pair the segment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Orientation {
    pub first: Side,
    pub pair: ServerPair,
}

/// Orients a segment from whether its caller and callee are servers.
pub fn orient(caller_is_server: bool, callee_is_server: bool) -> Orientation {
    match (caller_is_server, callee_is_server) {
        (false, false) => Orientation {
            first: Side::Caller,
            pair: ServerPair::ClientClient,
        },
        (true, false) => Orientation {
            first: Side::Caller,
            pair: ServerPair::ClientServer,
        },
        (false, true) => Orientation {
            first: Side::Callee,
            pair: ServerPair::ClientServer,
        },
        (true, true) => Orientation {
            first: Side::Caller,
            pair: ServerPair::ServerServer,
        },
    }
}

/// The sending side of a stream from Graph's `streamDirection` (case-insensitive);
/// `None` for a missing or unknown value.
pub fn sender(stream_direction: Option<&str>) -> Option<Side> {
    let d = stream_direction?.trim();
    if d.eq_ignore_ascii_case("callerToCallee") {
        Some(Side::Caller)
    } else if d.eq_ignore_ascii_case("calleeToCaller") {
        Some(Side::Callee)
    } else {
        None
    }
}

/// Whether a stream flows First → Second (toward the client / user); `None` between two servers
/// or when the direction is missing or unknown.
pub fn is_inbound(o: Orientation, stream_direction: Option<&str>) -> Option<bool> {
    if o.pair == ServerPair::ServerServer {
        return None;
    }
    Some(sender(stream_direction)? == o.first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_side_and_server_pair() {
        let t = |a, b| {
            let o = orient(a, b);
            (o.first.as_str(), o.pair.as_str())
        };
        assert_eq!(t(false, false), ("caller", "client:client"));
        assert_eq!(t(false, true), ("callee", "client:server"));
        assert_eq!(t(true, false), ("caller", "client:server"));
        assert_eq!(t(true, true), ("caller", "server:server"));
    }

    #[test]
    fn inbound_is_first_to_second() {
        let up = Some("callerToCallee");
        let down = Some("calleeToCaller");
        // Client caller, server callee (a user joined a meeting): server → client is inbound.
        let o = orient(false, true);
        assert_eq!(is_inbound(o, down), Some(true));
        assert_eq!(is_inbound(o, up), Some(false));
        // Server caller (the conference called the user out), client callee.
        let o = orient(true, false);
        assert_eq!(is_inbound(o, up), Some(true));
        assert_eq!(is_inbound(o, down), Some(false));
        // Peer to peer: toward the callee.
        let o = orient(false, false);
        assert_eq!(is_inbound(o, up), Some(true));
        assert_eq!(is_inbound(o, Some("CALLEETOCALLER")), Some(false));
        // Unknown direction, or two servers.
        assert_eq!(is_inbound(o, None), None);
        assert_eq!(is_inbound(o, Some("sideways")), None);
        assert_eq!(is_inbound(orient(true, true), up), None);
    }
}
