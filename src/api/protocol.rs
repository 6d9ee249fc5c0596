//! The wire protocol of docs/api.md: JSON-RPC 2.0 requests parsed into typed [`ApiCall`]s
//! (protocol errors -32700/-32600/-32601/-32602 decided here, before the core), and the JSON
//! texts the core sends back (results, LINEERR_ errors, TAPI message notifications).

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::tapi::{LineErr, LineMessage};

/// One API connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// What the API server hands to the core.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiEvent {
    Opened {
        conn: ConnId,
    },
    Request {
        conn: ConnId,
        id: Value,
        call: ApiCall,
    },
    /// A line the reader rejected (protocol error): its ready error response, queued in order
    /// with the connection's other responses.
    Invalid {
        conn: ConnId,
        line: String,
    },
    Closed {
        conn: ConnId,
    },
}

/// What the core wants written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiOutput {
    /// One JSON text (no trailing newline) for the connection.
    Send { conn: ConnId, line: String },
    /// Close the connection once what was queued before is written.
    Close { conn: ConnId },
}

/// JSON-RPC protocol error codes (JSON-RPC 2.0 §5.1).
pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
pub const METHOD_NOT_FOUND: i32 = -32601;
pub const INVALID_PARAMS: i32 = -32602;

/// A request rejected before the core: the ready error line to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    pub code: i32,
    pub line: String,
}

fn protocol_error(id: &Value, code: i32, message: &str) -> ProtocolError {
    ProtocolError {
        code,
        line: error_line(id, code, message),
    }
}

/// A JSON-RPC error response.
pub fn error_line(id: &Value, code: i32, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string()
}

/// A TAPI failure: the LINEERR_ as a signed 32-bit code, its name as the message.
pub fn lineerr_line(id: &Value, err: LineErr) -> String {
    error_line(id, err.code(), &err.name())
}

/// A success response.
pub fn result_line(id: &Value, result: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()
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
        19 => "LINE_CREATE",
        21 => "LINE_AGENTSPECIFIC",
        22 => "LINE_AGENTSTATUS",
        23 => "LINE_APPNEWCALL",
        24 => "LINE_PROXYREQUEST",
        25 => "LINE_REMOVE",
        _ => "LINE_UNKNOWN",
    }
}

/// The six LINEMESSAGE fields as JSON (LINE_REPLY's dwParam2 signed).
pub fn message_fields(msg: &LineMessage, completion_key: Option<u32>) -> Value {
    let param2 = if msg.dw_message_id == crate::tapi::consts::LINE_REPLY {
        json!(msg.reply_result())
    } else {
        json!(msg.dw_param2)
    };
    let mut v = json!({
        "hDevice": msg.h_device,
        "dwMessageID": msg.dw_message_id,
        "dwCallbackInstance": msg.dw_callback_instance,
        "dwParam1": msg.dw_param1,
        "dwParam2": param2,
        "dwParam3": msg.dw_param3,
    });
    if let Some(key) = completion_key {
        v["dwCompletionKey"] = json!(key);
    }
    v
}

/// A pushed TAPI message.
pub fn notification_line(msg: &LineMessage, completion_key: Option<u32>) -> String {
    json!({
        "jsonrpc": "2.0",
        "method": message_name(msg.dw_message_id),
        "params": message_fields(msg, completion_key),
    })
    .to_string()
}

/// Every function of the API, with typed parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiCall {
    LineInitializeEx(InitializeParams),
    LineShutdown(AppParams),
    LineNegotiateApiVersion(NegotiateParams),
    LineGetDevCaps(DevCapsParams),
    LineOpen(OpenParams),
    LineClose(LineParams),
    LineSetStatusMessages(StatusMessagesParams),
    LineGetLineDevStatus(LineParams),
    LineMakeCall(MakeCallParams),
    LineAccept(CallParams),
    LineAnswer(CallParams),
    LineDrop(CallParams),
    LineRedirect(RedirectParams),
    LineDeallocateCall(CallParams),
    LineGetCallInfo(CallParams),
    LineGetCallStatus(CallParams),
    LineSetCallPrivilege(CallPrivilegeParams),
    LineGetMessage(GetMessageParams),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    pub app_name: String,
    pub api_version: u32,
    pub options: u32,
    #[serde(default)]
    pub completion_key: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AppParams {
    #[serde(rename = "hLineApp")]
    pub h_line_app: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NegotiateParams {
    #[serde(rename = "hLineApp")]
    pub h_line_app: u32,
    pub device_id: u32,
    pub api_low_version: u32,
    pub api_high_version: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevCapsParams {
    #[serde(rename = "hLineApp")]
    pub h_line_app: u32,
    pub device_id: u32,
    pub api_version: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenParams {
    #[serde(rename = "hLineApp")]
    pub h_line_app: u32,
    pub device_id: u32,
    pub api_version: u32,
    #[serde(default)]
    pub callback_instance: u32,
    pub privileges: u32,
    #[serde(default)]
    pub media_modes: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LineParams {
    #[serde(rename = "hLine")]
    pub h_line: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusMessagesParams {
    #[serde(rename = "hLine")]
    pub h_line: u32,
    pub line_states: u32,
    #[serde(default)]
    pub address_states: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MakeCallParams {
    #[serde(rename = "hLine")]
    pub h_line: u32,
    pub dest_address: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallParams {
    #[serde(rename = "hCall")]
    pub h_call: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedirectParams {
    #[serde(rename = "hCall")]
    pub h_call: u32,
    pub dest_address: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallPrivilegeParams {
    #[serde(rename = "hCall")]
    pub h_call: u32,
    pub call_privilege: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMessageParams {
    #[serde(rename = "hLineApp")]
    pub h_line_app: u32,
    pub timeout: u32,
}

/// Parses one line into its id and call, or the ready error line.
pub fn parse_request(line: &str) -> Result<(Value, ApiCall), ProtocolError> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| protocol_error(&Value::Null, PARSE_ERROR, &format!("Parse error: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(protocol_error(
            &Value::Null,
            INVALID_REQUEST,
            "Invalid Request: not an object",
        ));
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    let id_ok = matches!(id, Value::Number(_) | Value::String(_));
    if obj.get("jsonrpc") != Some(&json!("2.0")) || !id_ok {
        let id = if id_ok { id } else { Value::Null };
        return Err(protocol_error(
            &id,
            INVALID_REQUEST,
            "Invalid Request: needs jsonrpc \"2.0\", a method and an id",
        ));
    }
    let Some(Value::String(method)) = obj.get("method") else {
        return Err(protocol_error(
            &id,
            INVALID_REQUEST,
            "Invalid Request: no method",
        ));
    };
    let params = obj
        .get("params")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let call = parse_call(method, params).map_err(|(code, msg)| protocol_error(&id, code, &msg))?;
    Ok((id, call))
}

fn params<T: DeserializeOwned>(value: Value) -> Result<T, (i32, String)> {
    serde_json::from_value(value).map_err(|e| (INVALID_PARAMS, format!("Invalid params: {e}")))
}

fn parse_call(method: &str, p: Value) -> Result<ApiCall, (i32, String)> {
    Ok(match method {
        "lineInitializeEx" => ApiCall::LineInitializeEx(params(p)?),
        "lineShutdown" => ApiCall::LineShutdown(params(p)?),
        "lineNegotiateAPIVersion" => ApiCall::LineNegotiateApiVersion(params(p)?),
        "lineGetDevCaps" => ApiCall::LineGetDevCaps(params(p)?),
        "lineOpen" => ApiCall::LineOpen(params(p)?),
        "lineClose" => ApiCall::LineClose(params(p)?),
        "lineSetStatusMessages" => ApiCall::LineSetStatusMessages(params(p)?),
        "lineGetLineDevStatus" => ApiCall::LineGetLineDevStatus(params(p)?),
        "lineMakeCall" => ApiCall::LineMakeCall(params(p)?),
        "lineAccept" => ApiCall::LineAccept(params(p)?),
        "lineAnswer" => ApiCall::LineAnswer(params(p)?),
        "lineDrop" => ApiCall::LineDrop(params(p)?),
        "lineRedirect" => ApiCall::LineRedirect(params(p)?),
        "lineDeallocateCall" => ApiCall::LineDeallocateCall(params(p)?),
        "lineGetCallInfo" => ApiCall::LineGetCallInfo(params(p)?),
        "lineGetCallStatus" => ApiCall::LineGetCallStatus(params(p)?),
        "lineSetCallPrivilege" => ApiCall::LineSetCallPrivilege(params(p)?),
        "lineGetMessage" => ApiCall::LineGetMessage(params(p)?),
        other => return Err((METHOD_NOT_FOUND, format!("Method not found: {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(err.line.contains(r#""id":"a""#), "{}", err.line);
    }

    #[test]
    fn typed_params() {
        let (id, call) = parse_request(
            r#"{"jsonrpc":"2.0","id":7,"method":"lineMakeCall","params":{"hLine":3,"destAddress":"1002"}}"#,
        )
        .unwrap();
        assert_eq!(id, json!(7));
        assert_eq!(
            call,
            ApiCall::LineMakeCall(MakeCallParams {
                h_line: 3,
                dest_address: "1002".into()
            })
        );
    }

    #[test]
    fn lineerr_and_reply_encoding() {
        let line = lineerr_line(&json!(7), crate::tapi::LINEERR_INVALLINEHANDLE);
        assert_eq!(
            line,
            r#"{"error":{"code":-2147483605,"message":"LINEERR_INVALLINEHANDLE"},"id":7,"jsonrpc":"2.0"}"#
        );
        let reply = LineMessage {
            h_device: 0,
            dw_message_id: 12,
            dw_callback_instance: 0,
            dw_param1: 5,
            dw_param2: crate::tapi::LINEERR_OPERATIONFAILED.code() as u32,
            dw_param3: 0,
        };
        let v: Value = serde_json::from_str(&notification_line(&reply, Some(9))).unwrap();
        assert_eq!(v["method"], "LINE_REPLY");
        assert_eq!(v["params"]["dwParam2"], json!(-2147483576));
        assert_eq!(v["params"]["dwCompletionKey"], json!(9));
    }
}
