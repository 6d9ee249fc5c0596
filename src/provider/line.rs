//! Line devices: one per `[[lines]]` entry, with what TAPI asks of them (dev caps, status) and
//! how a dialled string becomes a Request-URI.

use crate::config::LineConfig;
use crate::sip::codec;
use crate::sip::message::{Host, NameAddr, Uri};
use crate::sip::transport::Peer;
use crate::tapi::consts::*;
use crate::tapi::{
    AddressCapsAnswer, DevCaps, LineDevStates, LineErr, MediaModes, LINEERR_INVALADDRESS,
};

/// The LINECALLSTATE_ values our calls go through.
const CALL_STATES: u32 = LINECALLSTATE_IDLE
    | LINECALLSTATE_OFFERING
    | LINECALLSTATE_ACCEPTED
    | LINECALLSTATE_DIALTONE
    | LINECALLSTATE_DIALING
    | LINECALLSTATE_RINGBACK
    | LINECALLSTATE_CONNECTED
    | LINECALLSTATE_PROCEEDING
    | LINECALLSTATE_ONHOLD
    | LINECALLSTATE_ONHOLDPENDTRANSFER
    | LINECALLSTATE_DISCONNECTED
    | LINECALLSTATE_UNKNOWN;

/// The LINECALLFEATURE_ bits our calls may offer in some state.
const CALL_FEATURES: u32 = LINECALLFEATURE_ACCEPT
    | LINECALLFEATURE_ANSWER
    | LINECALLFEATURE_BLINDTRANSFER
    | LINECALLFEATURE_COMPLETETRANSF
    | LINECALLFEATURE_DIAL
    | LINECALLFEATURE_DROP
    | LINECALLFEATURE_HOLD
    | LINECALLFEATURE_REDIRECT
    | LINECALLFEATURE_SETUPTRANSFER
    | LINECALLFEATURE_SWAPHOLD
    | LINECALLFEATURE_UNHOLD;

/// One line device and what calls need to know of it.
pub struct Line {
    pub cfg: LineConfig,
    /// Union of the media modes of the line's owners (TSPI_lineSetDefaultMediaDetection).
    pub media_detection: MediaModes,
    /// Our address as the registrar sees it (RFC 3581 `received`/`rport`), once learnt.
    pub public_address: Option<(Host, u16)>,
    /// lineForward of the line's address.
    pub forwarding: Forwarding,
    /// A reload removed it: its device ID stays taken (IDs of other lines do not move) but
    /// nothing reaches it any more.
    pub removed: bool,
}

/// Where the line's calls are forwarded (lineForward), as the gateway serves it: UNCOND and
/// BUSY answer new INVITEs with 302, NOANSW after so many rings of 6 s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    pub unconditional: Option<Uri>,
    pub busy: Option<Uri>,
    pub no_answer: Option<Uri>,
    pub num_rings_no_answer: u32,
    /// The list as the app gave it (mode, destination as dialled), for lineGetAddressStatus.
    pub entries: Vec<(u32, String)>,
}

impl Line {
    pub fn new(cfg: LineConfig) -> Self {
        Line {
            cfg,
            media_detection: MediaModes::NONE,
            public_address: None,
            forwarding: Forwarding::default(),
            removed: false,
        }
    }

    /// Whether some owner takes voice calls on the line.
    pub fn takes_calls(&self) -> bool {
        self.media_detection
            .intersects(MediaModes::INTERACTIVEVOICE | MediaModes::UNKNOWN)
    }

    /// Where out-of-dialog requests go: the outbound proxy when set, else `proxy`.
    pub fn proxy_peer(&self) -> Peer {
        Peer {
            transport: self.cfg.transport,
            addr: self.cfg.outbound_proxy.unwrap_or(self.cfg.proxy),
        }
    }

    /// Where REGISTER goes (the outbound proxy, when set, carries it there).
    pub fn registrar_peer(&self) -> Peer {
        Peer {
            transport: self.cfg.transport,
            addr: self.cfg.outbound_proxy.unwrap_or(self.cfg.registrar),
        }
    }

    /// Our address-of-record as a URI: `sip:user@domain`.
    pub fn aor(&self) -> Uri {
        Uri::sip(Some(&self.cfg.user), host_of(&self.cfg.domain), None)
    }

    /// From for out-of-dialog requests (without tag).
    pub fn our_identity(&self) -> NameAddr {
        let mut from = NameAddr::new(self.aor());
        from.display_name = self.cfg.display_name.clone();
        from
    }

    pub fn dev_caps(&self) -> DevCaps {
        DevCaps {
            line_name: self.cfg.name.clone(),
            permanent_line_id: self.cfg.permanent_line_id,
            num_addresses: 1,
            media_modes: MediaModes::INTERACTIVEVOICE | MediaModes::UNKNOWN,
            max_num_active_calls: u32::MAX >> 1,
            line_features: LINEFEATURE_MAKECALL | LINEFEATURE_FORWARD,
            dev_cap_flags: LINEDEVCAPFLAGS_CLOSEDROP | LINEDEVCAPFLAGS_DIALDIALTONE,
            line_states: LineDevStates::RINGING
                | LineDevStates::INSERVICE
                | LineDevStates::OUTOFSERVICE
                | LineDevStates::OPEN
                | LineDevStates::CLOSE
                | LineDevStates::NUMCALLS
                | LineDevStates::REMOVED,
            answer_mode: LINEANSWERMODE_NONE,
            ring_modes: 1,
            address: self.address(),
        }
    }

    /// Our AOR as apps dial it: `sip:user@domain`.
    pub fn address(&self) -> String {
        format!("sip:{}@{}", self.cfg.user, self.cfg.domain)
    }

    /// lineGetAddressCaps of the line's one address: what the gateway really does there.
    pub fn address_caps(&self) -> AddressCapsAnswer {
        AddressCapsAnswer {
            address: self.address(),
            max_num_active_calls: u32::MAX >> 1,
            max_num_on_hold_calls: u32::MAX >> 1,
            max_num_on_hold_pending_calls: 1,
            call_states: CALL_STATES,
            call_features: CALL_FEATURES,
            address_features: LINEADDRFEATURE_MAKECALL | LINEADDRFEATURE_FORWARD,
            addr_cap_flags: LINEADDRCAPFLAGS_FWDNUMRINGS
                | LINEADDRCAPFLAGS_DIALED
                | LINEADDRCAPFLAGS_TRANSFERHELD
                | LINEADDRCAPFLAGS_FWDSTATUSVALID,
            transfer_modes: LINETRANSFERMODE_TRANSFER,
            forward_modes: LINEFORWARDMODE_UNCOND | LINEFORWARDMODE_BUSY | LINEFORWARDMODE_NOANSW,
            max_forward_entries: 3,
        }
    }

    /// Turns what an app dialled into a Request-URI:
    /// - `sip:`/`sips:` URIs are used as given;
    /// - `tel:+N` becomes `sip:+N@domain;user=phone` (RFC 3261 §19.1.6);
    /// - a bare number (digits, `+`, `*`, `#`, visual separators) becomes `sip:NUMBER@domain`.
    pub fn dest_uri(&self, dest: &str) -> Result<Uri, LineErr> {
        let dest = dest.trim();
        let lower = dest.to_ascii_lowercase();
        if lower.starts_with("sip:") || lower.starts_with("sips:") {
            return codec::parse_uri(dest).map_err(|_| LINEERR_INVALADDRESS);
        }
        if lower.starts_with("tel:") {
            let number = dest[4..].split(';').next().unwrap_or("");
            return self.phone_uri(number, true);
        }
        self.phone_uri(dest, false)
    }

    fn phone_uri(&self, number: &str, user_phone: bool) -> Result<Uri, LineErr> {
        let digits: String = number
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let valid = !digits.is_empty()
            && digits
                .char_indices()
                .all(|(i, c)| c.is_ascii_digit() || c == '*' || c == '#' || (c == '+' && i == 0))
            && digits != "+";
        if !valid {
            return Err(LINEERR_INVALADDRESS);
        }
        // `#` must be escaped in a SIP URI user part (RFC 3261 §25.1).
        let user = digits.replace('#', "%23");
        let mut uri = Uri::sip(Some(&user), host_of(&self.cfg.domain), None);
        if user_phone {
            uri.params.set("user", Some("phone"));
        }
        Ok(uri)
    }
}

/// A domain string as a URI host.
pub fn host_of(domain: &str) -> Host {
    let bare = domain.trim_start_matches('[').trim_end_matches(']');
    match bare.parse() {
        Ok(ip) => Host::Ip(ip),
        Err(_) => Host::Name(domain.to_string()),
    }
}
