//! What the load app reads from the gateway, typed: the fields it uses of JSON-RPC responses
//! and of LINE_* notifications (docs/api.md), every other field skipped unread.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

/// One line from the gateway: a response (`id`, `result`) or a notification (`params`).
#[derive(Deserialize)]
pub struct Incoming {
    pub id: Option<u64>,
    pub result: Option<Reply>,
    pub params: Option<Event>,
}

/// The parts of a result the app uses; a result that is not an object gives neither.
#[derive(Default)]
pub struct Reply {
    pub request_id: Option<u64>,
    pub h_call: Option<u64>,
}

/// A LINE_* notification's fields; numbers that do not fit give `None`, as a missing field.
#[derive(Deserialize, Default)]
pub struct Event {
    #[serde(rename = "dwMessageID", default, deserialize_with = "number")]
    pub message: Option<u64>,
    #[serde(rename = "hDevice", default, deserialize_with = "number")]
    pub device: Option<u64>,
    #[serde(rename = "dwParam1", default, deserialize_with = "number")]
    pub param1: Option<u64>,
    #[serde(rename = "dwParam2", default, deserialize_with = "signed")]
    pub param2: Option<i64>,
}

fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(serde_json::Number::deserialize(d)?.as_u64())
}

fn signed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(serde_json::Number::deserialize(d)?.as_i64())
}

impl<'de> Deserialize<'de> for Reply {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Reply, D::Error> {
        d.deserialize_any(ReplyVisitor)
    }
}

struct ReplyVisitor;

impl<'de> Visitor<'de> for ReplyVisitor {
    type Value = Reply;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON-RPC result")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reply, A::Error> {
        let mut reply = Reply::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "requestId" => reply.request_id = map.next_value::<serde_json::Number>()?.as_u64(),
                "hCall" => reply.h_call = map.next_value::<serde_json::Number>()?.as_u64(),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(reply)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Reply, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Reply::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Reply, E> {
        Ok(Reply::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Reply, E> {
        Ok(Reply::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Reply, E> {
        Ok(Reply::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Reply, E> {
        Ok(Reply::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<Reply, E> {
        Ok(Reply::default())
    }

    fn visit_unit<E>(self) -> Result<Reply, E> {
        Ok(Reply::default())
    }
}
