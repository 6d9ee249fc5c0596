//! The wire protocol of docs/api.md, sans-I/O: JSON-RPC 2.0 lines parsed into typed
//! [`Request`]s (protocol errors -32700/-32600/-32601/-32602 decided here, before the core),
//! and TAPISRV's typed [`Output`]s written as JSON texts (results, LINEERR_ errors, TAPI message
//! notifications). This is the only place that knows the JSON shape of the API.

use std::fmt::Write as _;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::tapi::consts::{LINE_GATHERDIGITS, LINE_REPLY};
use crate::tapi::{
    AddressCapsAnswer, AddressStates, AddressStatusAnswer, Answer, CallInfoAnswer,
    CallStatusAnswer, DevCaps, DeviceId, Fault, ForwardEntry, HCall, HLine, HLineApp, HPhone,
    HPhoneApp, LineDevStates, LineDevStatusAnswer, LineErr, LineMessage, Output, ReplyTag, Request,
    SessionId, Stamp,
};

/// JSON-RPC protocol error codes (JSON-RPC 2.0 §5.1).
pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
pub const METHOD_NOT_FOUND: i32 = -32601;
pub const INVALID_PARAMS: i32 = -32602;
/// The API's own error (docs/api.md "Security"): no `authenticate`, or a wrong token.
pub const UNAUTHENTICATED: i32 = -32001;

/// A line that is not a request we serve: the fault to answer it with.
pub fn fault(tag: Option<ReplyTag>, code: i32, message: impl Into<String>) -> Fault {
    Fault {
        tag,
        code,
        message: message.into(),
    }
}

/// Parses one line into its tag and typed request, or the fault to answer.
pub fn parse_request(line: &str) -> Result<(ReplyTag, Request), Fault> {
    match parse_plain(line) {
        Some(parsed) => Ok(parsed),
        None => parse_tree(line),
    }
}

/// The envelope's members as raw JSON text (the rest of the object is ignored, as
/// [`parse_tree`] ignores it).
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Option<&'a RawValue>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

/// The common case without building a `serde_json::Value` tree (about half the cost of
/// reading a request): a well-formed request whose id is digits or a string without escapes,
/// whose method has no escapes and whose params deserialise. Anything else (an error, a
/// duplicate member, an unusual id) is `None`, and [`parse_tree`] decides it, so both paths
/// give the same answer and every error its usual text.
fn parse_plain(line: &str) -> Option<(ReplyTag, Request)> {
    let envelope: Envelope = serde_json::from_str(line).ok()?;
    if envelope.jsonrpc?.get() != "\"2.0\"" {
        return None;
    }
    let id = envelope.id?.get();
    let plain_string = id.len() >= 2 && id.starts_with('"') && !id.contains('\\');
    let digits = (1..=19).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit());
    if !(plain_string || (digits && (id == "0" || !id.starts_with('0')))) {
        return None;
    }
    let method = envelope.method?.get();
    let method = method.strip_prefix('"')?.strip_suffix('"')?;
    if method.contains('\\') {
        return None;
    }
    let params = envelope.params.map_or("{}", RawValue::get);
    let request = parse_call(method, params).ok()?;
    Some((ReplyTag::new(id.to_string()), request))
}

/// Reads a request through a `serde_json::Value` tree: the reference path, which decides
/// every request [`parse_plain`] leaves (and all errors).
fn parse_tree(line: &str) -> Result<(ReplyTag, Request), Fault> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| fault(None, PARSE_ERROR, format!("Parse error: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(fault(
            None,
            INVALID_REQUEST,
            "Invalid Request: not an object",
        ));
    };
    let id = obj.remove("id").unwrap_or(Value::Null);
    let tag =
        matches!(id, Value::Number(_) | Value::String(_)).then(|| ReplyTag::new(id.to_string()));
    let (Some(tag), Some("2.0")) = (tag.clone(), obj.get("jsonrpc").and_then(Value::as_str)) else {
        return Err(fault(
            tag,
            INVALID_REQUEST,
            "Invalid Request: needs jsonrpc \"2.0\", a method and an id",
        ));
    };
    let Some(Value::String(method)) = obj.remove("method") else {
        return Err(fault(
            Some(tag),
            INVALID_REQUEST,
            "Invalid Request: no method",
        ));
    };
    let params = obj
        .remove("params")
        .unwrap_or(Value::Object(Default::default()));
    let request =
        parse_call(&method, params).map_err(|(code, msg)| fault(Some(tag.clone()), code, msg))?;
    Ok((tag, request))
}

type ParseResult<T> = Result<T, (i32, String)>;

/// Where a method's params are read from: their raw text ([`parse_plain`]) or the parsed tree
/// ([`parse_tree`]).
trait ParamsSource {
    fn read<T: DeserializeOwned>(self) -> ParseResult<T>;
}

impl ParamsSource for Value {
    fn read<T: DeserializeOwned>(self) -> ParseResult<T> {
        serde_json::from_value(self).map_err(|e| (INVALID_PARAMS, format!("Invalid params: {e}")))
    }
}

impl ParamsSource for &str {
    fn read<T: DeserializeOwned>(self) -> ParseResult<T> {
        serde_json::from_str(self).map_err(|e| (INVALID_PARAMS, format!("Invalid params: {e}")))
    }
}

fn params<T: DeserializeOwned>(p: impl ParamsSource) -> ParseResult<T> {
    p.read()
}

fn parse_call(method: &str, p: impl ParamsSource) -> ParseResult<Request> {
    Ok(match method {
        "lineInitializeEx" => {
            let p: InitializeParams = params(p)?;
            Request::LineInitializeEx {
                app_name: p.app_name,
                api_version: p.api_version,
                options: p.options,
                completion_key: p.completion_key,
                resumable: p.resumable,
            }
        }
        "lineShutdown" => Request::LineShutdown {
            app: params::<AppParams>(p)?.app(),
        },
        "lineNegotiateAPIVersion" => {
            let p: NegotiateParams = params(p)?;
            Request::LineNegotiateApiVersion {
                app: HLineApp(p.h_line_app),
                device: DeviceId(p.device_id),
                low: p.api_low_version,
                high: p.api_high_version,
            }
        }
        "lineGetDevCaps" => {
            let p: DevCapsParams = params(p)?;
            Request::LineGetDevCaps {
                app: HLineApp(p.h_line_app),
                device: DeviceId(p.device_id),
                api_version: p.api_version,
            }
        }
        "lineOpen" => {
            let p: OpenParams = params(p)?;
            Request::LineOpen {
                app: HLineApp(p.h_line_app),
                device: p.device_id,
                api_version: p.api_version,
                callback_instance: p.callback_instance,
                privileges: p.privileges,
                media_modes: p.media_modes,
            }
        }
        "lineClose" => Request::LineClose {
            line: params::<LineParams>(p)?.line(),
        },
        "lineSetStatusMessages" => {
            let p: StatusMessagesParams = params(p)?;
            Request::LineSetStatusMessages {
                line: HLine(p.h_line),
                line_states: LineDevStates(p.line_states),
                address_states: AddressStates(p.address_states),
            }
        }
        "lineGetLineDevStatus" => Request::LineGetLineDevStatus {
            line: params::<LineParams>(p)?.line(),
        },
        "lineMakeCall" => {
            let p: DestParams<LineParams> = params(p)?;
            Request::LineMakeCall {
                line: p.target.line(),
                dest: p.dest_address,
            }
        }
        "lineAccept" => Request::LineAccept {
            call: params::<CallParams>(p)?.call(),
        },
        "lineAnswer" => Request::LineAnswer {
            call: params::<CallParams>(p)?.call(),
        },
        "lineDrop" => Request::LineDrop {
            call: params::<CallParams>(p)?.call(),
        },
        "lineRedirect" => {
            let p: DestParams<CallParams> = params(p)?;
            Request::LineRedirect {
                call: p.target.call(),
                dest: p.dest_address,
            }
        }
        "lineDeallocateCall" => Request::LineDeallocateCall {
            call: params::<CallParams>(p)?.call(),
        },
        "lineGetCallInfo" => Request::LineGetCallInfo {
            call: params::<CallParams>(p)?.call(),
        },
        "lineGetCallStatus" => Request::LineGetCallStatus {
            call: params::<CallParams>(p)?.call(),
        },
        "lineSetCallPrivilege" => {
            let p: CallPrivilegeParams = params(p)?;
            Request::LineSetCallPrivilege {
                call: HCall(p.h_call),
                privilege: p.call_privilege,
            }
        }
        "lineGetMessage" => {
            let p: GetMessageParams = params(p)?;
            Request::LineGetMessage {
                app: HLineApp(p.h_line_app),
                timeout: p.timeout,
            }
        }
        "lineHold" => Request::LineHold {
            call: params::<CallParams>(p)?.call(),
        },
        "lineUnhold" => Request::LineUnhold {
            call: params::<CallParams>(p)?.call(),
        },
        "lineSwapHold" => {
            let p: SwapHoldParams = params(p)?;
            Request::LineSwapHold {
                active: HCall(p.h_active_call),
                held: HCall(p.h_held_call),
            }
        }
        "lineBlindTransfer" => {
            let p: DestParams<CallParams> = params(p)?;
            Request::LineBlindTransfer {
                call: p.target.call(),
                dest: p.dest_address,
            }
        }
        "lineSetupTransfer" => Request::LineSetupTransfer {
            call: params::<CallParams>(p)?.call(),
        },
        "lineDial" => {
            let p: DestParams<CallParams> = params(p)?;
            Request::LineDial {
                call: p.target.call(),
                dest: p.dest_address,
            }
        }
        "lineCompleteTransfer" => {
            let p: CompleteTransferParams = params(p)?;
            Request::LineCompleteTransfer {
                call: HCall(p.h_call),
                consult: HCall(p.h_consult_call),
                mode: p.transfer_mode,
            }
        }
        "lineForward" => {
            let p: ForwardParams = params(p)?;
            Request::LineForward {
                line: HLine(p.h_line),
                all_addresses: p.all_addresses,
                forwards: p
                    .forward_list
                    .into_iter()
                    .map(|f| ForwardEntry {
                        mode: f.forward_mode,
                        dest: f.dest_address,
                    })
                    .collect(),
                num_rings_no_answer: p.num_rings_no_answer,
            }
        }
        "authenticate" => Request::Authenticate {
            token: crate::tapi::Token(params::<AuthenticateParams>(p)?.token),
        },
        other => return parse_device_call(other, p),
    })
}

#[derive(Deserialize)]
struct AuthenticateParams {
    token: String,
}

/// Address, device-ID and phone functions.
fn parse_device_call(method: &str, p: impl ParamsSource) -> ParseResult<Request> {
    Ok(match method {
        "lineGetAddressCaps" => {
            let p: AddressCapsParams = params(p)?;
            Request::LineGetAddressCaps {
                app: HLineApp(p.h_line_app),
                device: DeviceId(p.device_id),
                address: p.address_id,
                api_version: p.api_version,
            }
        }
        "lineGetAddressStatus" => {
            let p: AddressParams = params(p)?;
            Request::LineGetAddressStatus {
                line: HLine(p.h_line),
                address: p.address_id,
            }
        }
        "lineGetAddressID" => {
            let p: AddressIdParams = params(p)?;
            Request::LineGetAddressId {
                line: HLine(p.h_line),
                mode: p.address_mode,
                address: p.address,
            }
        }
        "lineGetNewCalls" => {
            let p: NewCallsParams = params(p)?;
            Request::LineGetNewCalls {
                line: HLine(p.h_line),
                address: p.address_id,
                select: p.select,
            }
        }
        "lineGetID" => {
            let p: GetIdParams = params(p)?;
            Request::LineGetId {
                select: p.select,
                line: p.h_line.map(HLine),
                address: p.address_id,
                call: p.h_call.map(HCall),
                device_class: p.device_class,
            }
        }
        other => parse_phone_call(other, p)?,
    })
}

fn parse_phone_call(method: &str, p: impl ParamsSource) -> ParseResult<Request> {
    Ok(match method {
        "phoneInitializeEx" => {
            let p: InitializeParams = params(p)?;
            Request::PhoneInitializeEx {
                app_name: p.app_name,
                api_version: p.api_version,
                options: p.options,
                completion_key: p.completion_key,
                resumable: p.resumable,
            }
        }
        "phoneShutdown" => Request::PhoneShutdown {
            app: HPhoneApp(params::<PhoneAppParams>(p)?.h_phone_app),
        },
        "phoneNegotiateAPIVersion" => {
            let p: PhoneNegotiateParams = params(p)?;
            Request::PhoneNegotiateApiVersion {
                app: HPhoneApp(p.h_phone_app),
                device: DeviceId(p.device_id),
                low: p.api_low_version,
                high: p.api_high_version,
            }
        }
        "phoneGetDevCaps" => {
            let p: PhoneDevCapsParams = params(p)?;
            Request::PhoneGetDevCaps {
                app: HPhoneApp(p.h_phone_app),
                device: DeviceId(p.device_id),
                api_version: p.api_version,
            }
        }
        "phoneOpen" => {
            let p: PhoneOpenParams = params(p)?;
            Request::PhoneOpen {
                app: HPhoneApp(p.h_phone_app),
                device: DeviceId(p.device_id),
                api_version: p.api_version,
                callback_instance: p.callback_instance,
                privilege: p.privilege,
            }
        }
        "phoneClose" => Request::PhoneClose {
            phone: params::<PhoneParams>(p)?.phone(),
        },
        "phoneSetStatusMessages" => {
            let p: PhoneStatusMessagesParams = params(p)?;
            Request::PhoneSetStatusMessages {
                phone: HPhone(p.h_phone),
                phone_states: p.phone_states,
                button_modes: p.button_modes,
                button_states: p.button_states,
            }
        }
        "phoneGetHookSwitch" => Request::PhoneGetHookSwitch {
            phone: params::<PhoneParams>(p)?.phone(),
        },
        "phoneGetStatus" => Request::PhoneGetStatus {
            phone: params::<PhoneParams>(p)?.phone(),
        },
        "phoneSetHookSwitch" => {
            let p: HookSwitchParams = params(p)?;
            Request::PhoneSetHookSwitch {
                phone: HPhone(p.h_phone),
                devices: p.hook_switch_devs,
                mode: p.hook_switch_mode,
            }
        }
        "phoneGetMessage" => {
            let p: PhoneGetMessageParams = params(p)?;
            Request::PhoneGetMessage {
                app: HPhoneApp(p.h_phone_app),
                timeout: p.timeout,
            }
        }
        "lineResume" => {
            let p: ResumeParams = params(p)?;
            Request::LineResume {
                session: SessionId::from_wire(p.session_id),
                last_seq: p.last_seq,
            }
        }
        "phoneResume" => {
            let p: ResumeParams = params(p)?;
            Request::PhoneResume {
                session: SessionId::from_wire(p.session_id),
                last_seq: p.last_seq,
            }
        }
        other => return parse_media(other, p),
    })
}

/// Digits, tones and media files (version 2, "Digits, tones and media").
fn parse_media(method: &str, p: impl ParamsSource) -> ParseResult<Request> {
    Ok(match method {
        "lineGenerateDigits" => {
            let p: GenerateDigitsParams = params(p)?;
            Request::LineGenerateDigits {
                call: HCall(p.h_call),
                digit_mode: p.digit_mode,
                digits: p.digits,
                duration: p.duration,
            }
        }
        "lineGenerateTone" => {
            let p: GenerateToneParams = params(p)?;
            Request::LineGenerateTone {
                call: HCall(p.h_call),
                tone_mode: p.tone_mode,
                duration: p.duration,
            }
        }
        "lineMonitorDigits" => {
            let p: MonitorDigitsParams = params(p)?;
            Request::LineMonitorDigits {
                call: HCall(p.h_call),
                digit_modes: p.digit_modes,
            }
        }
        "lineGatherDigits" => {
            let p: GatherDigitsParams = params(p)?;
            Request::LineGatherDigits {
                call: HCall(p.h_call),
                digit_modes: p.digit_modes,
                num_digits: p.num_digits,
                term_digits: p.term_digits,
                first_timeout: p.first_timeout,
                inter_timeout: p.inter_timeout,
            }
        }
        "mediaPlay" => {
            let p: MediaPlayParams = params(p)?;
            Request::MediaPlay {
                call: HCall(p.h_call),
                file: p.file,
                looped: p.looped,
            }
        }
        "mediaRecord" => {
            let p: MediaRecordParams = params(p)?;
            Request::MediaRecord {
                call: HCall(p.h_call),
                file: p.file,
                max_ms: p.max_ms,
                silence_ms: p.silence_ms,
            }
        }
        "lineAddToConference" => {
            let p: AddToConferenceParams = params(p)?;
            Request::LineAddToConference {
                conf_call: HCall(p.h_conf_call),
                add_call: HCall(p.h_add_call),
            }
        }
        "lineSetupConference" => Request::LineSetupConference {
            call: params::<CallParams>(p)?.call(),
        },
        "linePrepareAddToConference" => {
            let p: ConfCallParams = params(p)?;
            Request::LinePrepareAddToConference {
                conf_call: HCall(p.h_conf_call),
            }
        }
        "lineRemoveFromConference" => Request::LineRemoveFromConference {
            call: params::<CallParams>(p)?.call(),
        },
        "mediaStop" => Request::MediaStop {
            call: params::<CallParams>(p)?.call(),
        },
        other => return Err((METHOD_NOT_FOUND, format!("Method not found: {other}"))),
    })
}

#[derive(Deserialize)]
struct ConfCallParams {
    #[serde(rename = "hConfCall")]
    h_conf_call: u32,
}

#[derive(Deserialize)]
struct AddToConferenceParams {
    #[serde(rename = "hConfCall")]
    h_conf_call: u32,
    #[serde(rename = "hAddCall")]
    h_add_call: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateDigitsParams {
    #[serde(rename = "hCall")]
    h_call: u32,
    digit_mode: u32,
    digits: String,
    #[serde(default)]
    duration: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateToneParams {
    #[serde(rename = "hCall")]
    h_call: u32,
    tone_mode: u32,
    #[serde(default)]
    duration: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MonitorDigitsParams {
    #[serde(rename = "hCall")]
    h_call: u32,
    digit_modes: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GatherDigitsParams {
    #[serde(rename = "hCall")]
    h_call: u32,
    digit_modes: u32,
    num_digits: u32,
    #[serde(default)]
    term_digits: String,
    #[serde(default)]
    first_timeout: u32,
    #[serde(default)]
    inter_timeout: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MediaPlayParams {
    #[serde(rename = "hCall")]
    h_call: u32,
    file: String,
    #[serde(default, rename = "loop")]
    looped: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MediaRecordParams {
    #[serde(rename = "hCall")]
    h_call: u32,
    file: String,
    max_ms: u32,
    #[serde(default)]
    silence_ms: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressCapsParams {
    #[serde(rename = "hLineApp")]
    h_line_app: u32,
    device_id: u32,
    #[serde(default)]
    address_id: u32,
    api_version: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressParams {
    #[serde(rename = "hLine")]
    h_line: u32,
    #[serde(default)]
    address_id: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressIdParams {
    #[serde(rename = "hLine")]
    h_line: u32,
    address_mode: u32,
    address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewCallsParams {
    #[serde(rename = "hLine")]
    h_line: u32,
    #[serde(default)]
    address_id: u32,
    select: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetIdParams {
    select: u32,
    #[serde(rename = "hLine", default)]
    h_line: Option<u32>,
    #[serde(default)]
    address_id: u32,
    #[serde(rename = "hCall", default)]
    h_call: Option<u32>,
    device_class: String,
}

#[derive(Deserialize)]
struct PhoneAppParams {
    #[serde(rename = "hPhoneApp")]
    h_phone_app: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneNegotiateParams {
    #[serde(rename = "hPhoneApp")]
    h_phone_app: u32,
    device_id: u32,
    api_low_version: u32,
    api_high_version: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneDevCapsParams {
    #[serde(rename = "hPhoneApp")]
    h_phone_app: u32,
    device_id: u32,
    api_version: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneOpenParams {
    #[serde(rename = "hPhoneApp")]
    h_phone_app: u32,
    device_id: u32,
    api_version: u32,
    #[serde(default)]
    callback_instance: u32,
    privilege: u32,
}

#[derive(Deserialize)]
struct PhoneParams {
    #[serde(rename = "hPhone")]
    h_phone: u32,
}

impl PhoneParams {
    fn phone(&self) -> HPhone {
        HPhone(self.h_phone)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneStatusMessagesParams {
    #[serde(rename = "hPhone")]
    h_phone: u32,
    phone_states: u32,
    #[serde(default)]
    button_modes: u32,
    #[serde(default)]
    button_states: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HookSwitchParams {
    #[serde(rename = "hPhone")]
    h_phone: u32,
    hook_switch_devs: u32,
    hook_switch_mode: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneGetMessageParams {
    #[serde(rename = "hPhoneApp")]
    h_phone_app: u32,
    timeout: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeParams {
    app_name: String,
    api_version: u32,
    options: u32,
    #[serde(default)]
    completion_key: u32,
    /// Sessions that survive a dropped connection.
    #[serde(default)]
    resumable: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResumeParams {
    session_id: String,
    #[serde(default)]
    last_seq: u64,
}

#[derive(Deserialize)]
struct AppParams {
    #[serde(rename = "hLineApp")]
    h_line_app: u32,
}

impl AppParams {
    fn app(&self) -> HLineApp {
        HLineApp(self.h_line_app)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NegotiateParams {
    #[serde(rename = "hLineApp")]
    h_line_app: u32,
    device_id: u32,
    api_low_version: u32,
    api_high_version: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DevCapsParams {
    #[serde(rename = "hLineApp")]
    h_line_app: u32,
    device_id: u32,
    api_version: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenParams {
    #[serde(rename = "hLineApp")]
    h_line_app: u32,
    device_id: u32,
    api_version: u32,
    #[serde(default)]
    callback_instance: u32,
    privileges: u32,
    #[serde(default)]
    media_modes: u32,
}

#[derive(Deserialize)]
struct LineParams {
    #[serde(rename = "hLine")]
    h_line: u32,
}

impl LineParams {
    fn line(&self) -> HLine {
        HLine(self.h_line)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusMessagesParams {
    #[serde(rename = "hLine")]
    h_line: u32,
    line_states: u32,
    #[serde(default)]
    address_states: u32,
}

#[derive(Deserialize)]
struct CallParams {
    #[serde(rename = "hCall")]
    h_call: u32,
}

impl CallParams {
    fn call(&self) -> HCall {
        HCall(self.h_call)
    }
}

/// A handle plus `destAddress`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DestParams<T> {
    #[serde(flatten)]
    target: T,
    dest_address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallPrivilegeParams {
    #[serde(rename = "hCall")]
    h_call: u32,
    call_privilege: u32,
}

#[derive(Deserialize)]
struct SwapHoldParams {
    #[serde(rename = "hActiveCall")]
    h_active_call: u32,
    #[serde(rename = "hHeldCall")]
    h_held_call: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteTransferParams {
    #[serde(rename = "hCall")]
    h_call: u32,
    #[serde(rename = "hConsultCall")]
    h_consult_call: u32,
    transfer_mode: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ForwardParams {
    #[serde(rename = "hLine")]
    h_line: u32,
    #[serde(default)]
    all_addresses: bool,
    #[serde(default)]
    forward_list: Vec<ForwardParam>,
    #[serde(default)]
    num_rings_no_answer: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ForwardParam {
    forward_mode: u32,
    dest_address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetMessageParams {
    #[serde(rename = "hLineApp")]
    h_line_app: u32,
    timeout: u32,
}

/// The JSON text of an output (`None` for `Close`, which is an instruction, not a line).
pub fn encode(output: &Output) -> Option<String> {
    match output {
        Output::Response { tag, result, .. } => Some(match result {
            Ok(answer) => result_line(tag.as_str(), answer),
            Err(err) => error_line(tag.as_str(), err.code(), &err.name()),
        }),
        Output::Fault { fault, .. } => {
            let id = fault.tag.as_ref().map_or("null", ReplyTag::as_str);
            Some(error_line(id, fault.code, &fault.message))
        }
        Output::Message {
            message,
            completion_key,
            stamp,
            ..
        } => Some(notification_line(message, *completion_key, stamp)),
        Output::TakenOver { app, phone, .. } => Some(taken_over_line(*app, *phone)),
        Output::Close { .. } => None,
    }
}

/// A JSON-RPC error response; `id` is the request's id as JSON text.
pub fn error_line(id: &str, code: i32, message: &str) -> String {
    let message = Value::String(message.to_string());
    format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":{code},"message":{message}}}}}"#)
}

/// A TAPI failure: the LINEERR_ as a signed 32-bit code, its name as the message.
pub fn lineerr_line(id: &str, err: LineErr) -> String {
    error_line(id, err.code(), &err.name())
}

/// A success response.
fn result_line(id: &str, answer: &Answer) -> String {
    let mut out = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":"#);
    write_answer(&mut out, answer);
    out.push('}');
    out
}

fn write_answer(out: &mut String, answer: &Answer) {
    // The hot answers are written directly; the rest go through serde_json.
    let value = match answer {
        Answer::Empty => return out.push_str("{}"),
        Answer::Request(request) => {
            let _ = write!(out, r#"{{"requestId":{}}}"#, request.0);
            return;
        }
        Answer::MadeCall { request, call } => {
            let _ = write!(out, r#"{{"requestId":{},"hCall":{}}}"#, request.0, call.0);
            return;
        }
        Answer::SetupTransfer { request, consult } => {
            json!({"requestId": request.0, "hConsultCall": consult.0})
        }
        Answer::Conference { request, conf } => {
            json!({"requestId": request.0, "hConfCall": conf.0})
        }
        Answer::SetupConference {
            request,
            conf,
            consult,
        } => {
            json!({"requestId": request.0, "hConfCall": conf.0, "hConsultCall": consult.0})
        }
        Answer::PrepareAdd { request, add } => {
            json!({"requestId": request.0, "hAddCall": add.0})
        }
        Answer::Message(message, stamp) => return write_fields(out, message, None, stamp),
        Answer::LineInitialized {
            app,
            num_devs,
            api_version,
            session,
        } => json!({"hLineApp": app.0, "numDevs": num_devs, "apiVersion": api_version,
                    "sessionId": session.as_str()}),
        Answer::Resumed { app, phone } => json!({ app_key(*phone): app }),
        Answer::ApiVersion(v) => json!({ "apiVersion": v }),
        Answer::DevCaps(caps) => dev_caps(caps),
        Answer::LineOpened(line) => json!({ "hLine": line.0 }),
        Answer::LineDevStatus(s) => line_dev_status(s),
        Answer::CallInfo(info) => call_info(info),
        Answer::CallStatus(s) => call_status(s),
        Answer::AddressCaps(c) => address_caps(c),
        Answer::AddressStatus(s) => address_status(s),
        Answer::AddressId(id) => json!({ "addressId": id }),
        Answer::NewCalls(calls) => {
            json!({ "hCalls": calls.iter().map(|c| c.0).collect::<Vec<_>>() })
        }
        Answer::DeviceId(id) => json!({ "deviceId": id }),
        Answer::PhoneInitialized {
            app,
            num_devs,
            api_version,
            session,
        } => json!({"hPhoneApp": app.0, "numDevs": num_devs, "apiVersion": api_version,
                    "sessionId": session.as_str()}),
        Answer::PhoneDevCaps(c) => json!({
            "phoneName": c.phone_name,
            "permanentPhoneId": c.permanent_phone_id,
            "hookSwitchDevs": c.hook_switch_devs,
            "hookSwitchModes": c.hook_switch_modes,
            "phoneStates": c.phone_states,
        }),
        Answer::PhoneOpened(phone) => json!({ "hPhone": phone.0 }),
        Answer::HookSwitch(devs) => json!({ "hookSwitchDevs": devs }),
        Answer::PhoneStatus(s) => json!({
            "statusFlags": s.status_flags,
            "numOwners": s.num_owners,
            "numMonitors": s.num_monitors,
            "handsetHookSwitchMode": s.handset_hook_switch_mode,
        }),
    };
    out.push_str(&value.to_string());
}

fn dev_caps(caps: &DevCaps) -> Value {
    json!({
        "lineName": caps.line_name,
        "permanentLineId": caps.permanent_line_id,
        "numAddresses": caps.num_addresses,
        "mediaModes": caps.media_modes.bits(),
        "maxNumActiveCalls": caps.max_num_active_calls,
        "lineFeatures": caps.line_features,
        "devCapFlags": caps.dev_cap_flags,
        "lineStates": caps.line_states.bits(),
        "answerMode": caps.answer_mode,
        "ringModes": caps.ring_modes,
        "address": caps.address,
    })
}

fn address_caps(c: &AddressCapsAnswer) -> Value {
    json!({
        "address": c.address,
        "maxNumActiveCalls": c.max_num_active_calls,
        "maxNumOnHoldCalls": c.max_num_on_hold_calls,
        "maxNumOnHoldPendingCalls": c.max_num_on_hold_pending_calls,
        "callStates": c.call_states,
        "callFeatures": c.call_features,
        "addressFeatures": c.address_features,
        "addrCapFlags": c.addr_cap_flags,
        "transferModes": c.transfer_modes,
        "forwardModes": c.forward_modes,
        "maxForwardEntries": c.max_forward_entries,
    })
}

fn address_status(s: &AddressStatusAnswer) -> Value {
    let forwards: Vec<Value> = s
        .forward_list
        .iter()
        .map(|f| json!({"forwardMode": f.mode, "destAddress": f.dest}))
        .collect();
    json!({
        "numInUse": s.num_in_use,
        "numActiveCalls": s.num_active_calls,
        "numOnHoldCalls": s.num_on_hold_calls,
        "numOnHoldPendCalls": s.num_on_hold_pend_calls,
        "addressFeatures": s.address_features,
        "numRingsNoAnswer": s.num_rings_no_answer,
        "forwardList": forwards,
    })
}

fn line_dev_status(s: &LineDevStatusAnswer) -> Value {
    json!({
        "devStatusFlags": s.dev_status_flags,
        "numActiveCalls": s.num_active_calls,
        "numOpens": s.num_opens,
        "openMediaModes": s.open_media_modes.bits(),
        "lineFeatures": s.line_features,
        "registered": s.registered,
    })
}

fn call_info(i: &CallInfoAnswer) -> Value {
    json!({
        "hLine": i.line.0,
        "lineDeviceId": i.device.0,
        "addressId": i.address_id,
        "mediaMode": i.media_mode.bits(),
        "callId": i.call_id.0,
        "origin": i.origin,
        "reason": i.reason,
        "callerId": i.caller_id,
        "callerIdName": i.caller_id_name,
        "calledId": i.called_id,
        "calledIdName": i.called_id_name,
        "connectedId": i.connected_id,
        "connectedIdName": i.connected_id_name,
        "numOwners": i.num_owners,
        "numMonitors": i.num_monitors,
        "sipCallId": i.sip_call_id,
        "codec": i.codec,
        "remoteMedia": i.remote_media,
        "localMedia": i.local_media,
        "relatedCallId": i.related_call_id,
    })
}

fn call_status(s: &CallStatusAnswer) -> Value {
    json!({
        "callState": s.state.map_or(0, |st| st.bits()),
        "callStateMode": s.state_mode,
        "callPrivilege": s.privilege.bits(),
        "callFeatures": s.features.bits(),
    })
}

/// The name of a LINE_* message ID (the notification's method).
pub fn message_name(id: u32) -> &'static str {
    match id {
        0 => "LINE_ADDRESSSTATE",
        1 => "LINE_CALLINFO",
        2 => "LINE_CALLSTATE",
        3 => "LINE_CLOSE",
        4 => "LINE_DEVSPECIFIC",
        5 => "LINE_DEVSPECIFICFEATURE",
        6 => "LINE_GATHERDIGITS",
        7 => "LINE_GENERATE",
        8 => "LINE_LINEDEVSTATE",
        9 => "LINE_MONITORDIGITS",
        10 => "LINE_MONITORMEDIA",
        11 => "LINE_MONITORTONE",
        12 => "LINE_REPLY",
        13 => "LINE_REQUEST",
        14 => "PHONE_BUTTON",
        15 => "PHONE_CLOSE",
        16 => "PHONE_DEVSPECIFIC",
        17 => "PHONE_REPLY",
        18 => "PHONE_STATE",
        19 => "LINE_CREATE",
        20 => "PHONE_CREATE",
        21 => "LINE_AGENTSPECIFIC",
        22 => "LINE_AGENTSTATUS",
        23 => "LINE_APPNEWCALL",
        24 => "LINE_PROXYREQUEST",
        25 => "LINE_REMOVE",
        26 => "PHONE_REMOVE",
        _ => "LINE_UNKNOWN",
    }
}

/// The six LINEMESSAGE fields as a JSON object (LINE_REPLY's dwParam2 signed), with our
/// extensions: `seq` and the app (`hLineApp` or `hPhoneApp`), and `dwCompletionKey` in
/// completion-port mode.
fn write_fields(out: &mut String, m: &LineMessage, completion_key: Option<u32>, stamp: &Stamp) {
    let param2 = if m.dw_message_id == LINE_REPLY {
        i64::from(m.reply_result())
    } else {
        i64::from(m.dw_param2)
    };
    // Pushed piece by piece: `write!` cost about 1 300 instructions a message here.
    push_field(out, r#"{"hDevice":"#, m.h_device);
    push_field(out, r#","dwMessageID":"#, m.dw_message_id);
    push_field(out, r#","dwCallbackInstance":"#, m.dw_callback_instance);
    push_field(out, r#","dwParam1":"#, m.dw_param1);
    push_field(out, r#","dwParam2":"#, param2);
    push_field(out, r#","dwParam3":"#, m.dw_param3);
    if let Some(key) = completion_key {
        push_field(out, r#","dwCompletionKey":"#, key);
    }
    if m.dw_message_id == LINE_GATHERDIGITS {
        // Digits are 0-9 * # A-D only: nothing to escape.
        out.push_str(r#","digits":""#);
        out.push_str(m.digits.as_str());
        out.push('"');
    }
    push_field(out, r#","seq":"#, stamp.seq);
    out.push_str(",\"");
    out.push_str(app_key(stamp.phone));
    push_field(out, "\":", stamp.app);
    out.push('}');
}

/// `prefix` (a key with its punctuation), then the number.
fn push_field(out: &mut String, prefix: &str, n: impl itoa::Integer) {
    out.push_str(prefix);
    out.push_str(itoa::Buffer::new().format(n));
}

/// The name of an app handle field.
fn app_key(phone: bool) -> &'static str {
    if phone {
        "hPhoneApp"
    } else {
        "hLineApp"
    }
}

/// A pushed TAPI message.
pub fn notification_line(m: &LineMessage, completion_key: Option<u32>, stamp: &Stamp) -> String {
    let mut out = String::with_capacity(192);
    out.push_str(r#"{"jsonrpc":"2.0","method":""#);
    out.push_str(message_name(m.dw_message_id));
    out.push_str(r#"","params":"#);
    write_fields(&mut out, m, completion_key, stamp);
    out.push('}');
    out
}

/// The notification a connection gets when its app was resumed elsewhere (our extension).
pub fn taken_over_line(app: u32, phone: bool) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","method":"sessionTakenOver","params":{{"{}":{app}}}}}"#,
        app_key(phone)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tapi::{ConnId, RequestId};

    fn code(line: &str) -> i32 {
        parse_request(line).unwrap_err().code
    }

    #[test]
    fn error_classes() {
        assert_eq!(code("{not json"), PARSE_ERROR);
        assert_eq!(code("[1,2]"), INVALID_REQUEST);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","method":"lineShutdown"}"#),
            INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"1.0","id":1,"method":"lineShutdown"}"#),
            INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"lineFly"}"#),
            METHOD_NOT_FOUND
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"lineShutdown","params":{}}"#),
            INVALID_PARAMS
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"lineShutdown","params":{"hLineApp":"x"}}"#),
            INVALID_PARAMS
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"lineShutdown","params":{"hLineApp":-1}}"#),
            INVALID_PARAMS
        );
        let err = parse_request(r#"{"jsonrpc":"2.0","id":"a","method":"x"}"#).unwrap_err();
        let line = encode(&Output::Fault {
            conn: ConnId(1),
            fault: err,
        })
        .unwrap();
        assert!(line.contains(r#""id":"a""#), "{line}");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error"]["code"], METHOD_NOT_FOUND);
    }

    #[test]
    fn typed_params() {
        let (tag, request) = parse_request(
            r#"{"jsonrpc":"2.0","id":7,"method":"lineMakeCall","params":{"hLine":3,"destAddress":"1002"}}"#,
        )
        .unwrap();
        assert_eq!(tag.as_str(), "7");
        assert_eq!(
            request,
            Request::LineMakeCall {
                line: HLine(3),
                dest: "1002".into()
            }
        );
        let (_, request) = parse_request(
            r#"{"jsonrpc":"2.0","id":"x","method":"lineRedirect","params":{"hCall":9,"destAddress":"sip:a@b"}}"#,
        )
        .unwrap();
        assert_eq!(
            request,
            Request::LineRedirect {
                call: HCall(9),
                dest: "sip:a@b".into()
            }
        );
    }

    #[test]
    fn the_plain_path_takes_common_requests_and_agrees_with_the_tree() {
        let common = [
            r#"{"jsonrpc":"2.0","id":7,"method":"lineMakeCall","params":{"hLine":3,"destAddress":"1002"}}"#,
            r#"{"id":"a b","method":"lineDrop","jsonrpc":"2.0","params":{"hCall":9}}"#,
            r#"{"jsonrpc":"2.0","id":0,"method":"lineDeallocateCall","params":{"hCall":65545}}"#,
            r#"{"jsonrpc":"2.0","id":12,"method":"lineGetCallInfo","params":{"hCall":1},"extra":[1]}"#,
        ];
        for line in common {
            let plain = parse_plain(line).unwrap_or_else(|| panic!("not plain: {line}"));
            assert_eq!(Ok(plain), parse_tree(line), "{line}");
        }
        // Left to the tree (and so answered exactly as before): escapes, odd ids, duplicate
        // members, errors of every kind.
        let unusual = [
            r#"{"jsonrpc":"2.0","id":"a\u0041","method":"lineDrop","params":{"hCall":9}}"#,
            r#"{"jsonrpc":"2.0","id":-1,"method":"lineDrop","params":{"hCall":9}}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"lineDrop","params":{"hCall":9}}"#,
            r#"{"jsonrpc":"2.0","id":99999999999999999999,"method":"lineDrop","params":{"hCall":9}}"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"lineDrop","params":{"hCall":9}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"line\u0044rop","params":{"hCall":9}}"#,
            r#"{"jsonrpc":"\u0032.0","id":1,"method":"lineDrop","params":{"hCall":9}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"lineDrop","params":{"hCall":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"lineDrop","params":null}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"noSuchThing"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"lineDrop","params":{"hCall":9}}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"lineDrop","params":{"hCall":9}}"#,
            r#"[1,2]"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0""#,
        ];
        for line in unusual {
            if let Some(plain) = parse_plain(line) {
                assert_eq!(Ok(plain), parse_tree(line), "{line}");
            }
            assert_eq!(parse_request(line), parse_tree(line), "{line}");
        }
        assert!(parse_plain(unusual[0]).is_none() && parse_plain(unusual[4]).is_none());
    }

    #[test]
    fn responses_and_messages_are_valid_json_rpc() {
        let err = encode(&Output::Response {
            conn: ConnId(1),
            tag: ReplyTag::from(7),
            result: Err(crate::tapi::LINEERR_INVALLINEHANDLE.into()),
        })
        .unwrap();
        let v: Value = serde_json::from_str(&err).unwrap();
        assert_eq!(v["id"], 7);
        assert_eq!(v["error"]["code"], -2147483605i64);
        assert_eq!(v["error"]["message"], "LINEERR_INVALLINEHANDLE");
        let made = encode(&Output::Response {
            conn: ConnId(1),
            tag: ReplyTag::new("\"q\""),
            result: Ok(Answer::MadeCall {
                request: RequestId(5),
                call: HCall(65540),
            }),
        })
        .unwrap();
        let v: Value = serde_json::from_str(&made).unwrap();
        assert_eq!(
            (v["id"].as_str(), v["result"]["hCall"].as_u64()),
            (Some("q"), Some(65540))
        );
        let reply = LineMessage {
            h_device: 0,
            dw_message_id: 12,
            dw_callback_instance: 0,
            dw_param1: 5,
            dw_param2: crate::tapi::LINEERR_OPERATIONFAILED.code() as u32,
            dw_param3: 0,
            digits: Default::default(),
        };
        let stamp = Stamp {
            app: 65537,
            phone: false,
            seq: 3,
        };
        let v: Value = serde_json::from_str(&notification_line(&reply, Some(9), &stamp)).unwrap();
        assert_eq!(v["method"], "LINE_REPLY");
        assert_eq!(v["params"]["dwParam2"], json!(-2147483576));
        assert_eq!(v["params"]["dwCompletionKey"], json!(9));
        assert_eq!(v["params"]["seq"], json!(3));
        assert_eq!(v["params"]["hLineApp"], json!(65537));
        let phone = Stamp {
            phone: true,
            ..stamp
        };
        let v: Value = serde_json::from_str(&notification_line(&reply, None, &phone)).unwrap();
        assert_eq!(v["params"]["hPhoneApp"], json!(65537));
        assert!(v["params"].get("hLineApp").is_none());
        let v: Value = serde_json::from_str(&taken_over_line(65537, false)).unwrap();
        assert_eq!(v["method"], "sessionTakenOver");
        assert_eq!(v["params"]["hLineApp"], json!(65537));
        assert!(v.get("id").is_none());
    }
}

#[cfg(test)]
mod media_tests {
    use super::*;

    #[test]
    fn media_functions_parse_and_gathered_digits_are_written() {
        let r = parse_request(
            r##"{"jsonrpc":"2.0","id":1,"method":"lineGatherDigits","params":{"hCall":7,"digitModes":2,"numDigits":4,"termDigits":"#","firstTimeout":5000,"interTimeout":2000}}"##,
        )
        .unwrap();
        assert_eq!(
            r.1,
            Request::LineGatherDigits {
                call: HCall(7),
                digit_modes: 2,
                num_digits: 4,
                term_digits: "#".into(),
                first_timeout: 5000,
                inter_timeout: 2000,
            }
        );
        let r = parse_request(
            r##"{"jsonrpc":"2.0","id":2,"method":"mediaPlay","params":{"hCall":7,"file":"a.wav","loop":true}}"##,
        )
        .unwrap();
        assert_eq!(
            r.1,
            Request::MediaPlay {
                call: HCall(7),
                file: "a.wav".into(),
                looped: true
            }
        );
        let r = parse_request(
            r##"{"jsonrpc":"2.0","id":3,"method":"lineGenerateDigits","params":{"hCall":7,"digitMode":2,"digits":"12#"}}"##,
        )
        .unwrap();
        assert!(matches!(
            r.1,
            Request::LineGenerateDigits { duration: 0, .. }
        ));
        let gathered = LineMessage {
            h_device: 7,
            dw_message_id: LINE_GATHERDIGITS,
            dw_callback_instance: 0,
            dw_param1: 2,
            dw_param2: 0,
            dw_param3: 0,
            digits: crate::tapi::Digits::from_text("12#"),
        };
        let stamp = Stamp {
            app: 1,
            phone: false,
            seq: 1,
        };
        let v: Value = serde_json::from_str(&notification_line(&gathered, None, &stamp)).unwrap();
        assert_eq!(v["method"], "LINE_GATHERDIGITS");
        assert_eq!(v["params"]["digits"], "12#");
        let other = LineMessage {
            dw_message_id: LINE_REPLY,
            ..gathered
        };
        let v: Value = serde_json::from_str(&notification_line(&other, None, &stamp)).unwrap();
        assert!(v["params"].get("digits").is_none());
    }
}

#[cfg(test)]
mod session_tests {
    use super::*;

    #[test]
    fn resume_and_resumable_parse() {
        let (_, r) = parse_request(
            r#"{"jsonrpc":"2.0","id":1,"method":"lineResume","params":{"sessionId":"ab","lastSeq":7}}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            Request::LineResume {
                session: SessionId::from_wire("ab".into()),
                last_seq: 7
            }
        );
        let (_, r) = parse_request(
            r#"{"jsonrpc":"2.0","id":1,"method":"phoneResume","params":{"sessionId":"cd"}}"#,
        )
        .unwrap();
        assert!(matches!(r, Request::PhoneResume { last_seq: 0, .. }));
        let bad = parse_request(
            r#"{"jsonrpc":"2.0","id":1,"method":"lineResume","params":{"lastSeq":1}}"#,
        )
        .unwrap_err();
        assert_eq!(bad.code, INVALID_PARAMS);
        let (_, r) = parse_request(
            r#"{"jsonrpc":"2.0","id":1,"method":"lineInitializeEx","params":{"appName":"a","apiVersion":131074,"options":1,"resumable":true}}"#,
        )
        .unwrap();
        assert!(matches!(
            r,
            Request::LineInitializeEx {
                resumable: true,
                ..
            }
        ));
        let (_, r) = parse_request(
            r#"{"jsonrpc":"2.0","id":1,"method":"phoneInitializeEx","params":{"appName":"a","apiVersion":131074,"options":1}}"#,
        )
        .unwrap();
        assert!(matches!(
            r,
            Request::PhoneInitializeEx {
                resumable: false,
                ..
            }
        ));
    }
}
