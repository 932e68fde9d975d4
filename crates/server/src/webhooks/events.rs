//! The event types a webhook endpoint can subscribe to: the one place they are named.
//! Adding a type is one line in `event_types!` below.

use serde_json::Value;

/// `EventType::Variant => "wire.name"`, plus the list of them all.
macro_rules! event_types {
    ($($variant:ident => $name:literal,)+) => {
        /// What happened, as webhook receivers see it in `type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($variant,)+
        }

        impl EventType {
            /// Every type, in the order the documentation lists them.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)+
                }
            }
        }
    };
}

event_types! {
    LinkCreated => "link.created",
    LinkUpdated => "link.updated",
    BulkJobFinished => "bulk_job.finished",
    ReportUpdated => "report.updated",
    AccessRequestCreated => "access_request.created",
    AccessRequestApproved => "access_request.approved",
    AccessRequestDeclined => "access_request.declined",
    GrantRevoked => "grant.revoked",
    StatementFinal => "statement.final",
    StatementPaid => "statement.paid",
    AmazonConnectionLost => "amazon.connection_lost",
    Ping => "ping",
}

impl EventType {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    /// Every name, for error messages and the OpenAPI document.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|t| t.as_str()).collect()
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event to enqueue: `data` is the object the API returns for the resource.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// Whose endpoints receive it: the publisher, or the seller account owning the brand.
    pub account_id: &'a str,
    pub event_type: EventType,
    pub data: Value,
}

/// A new event id: `msg_` and a time-ordered UUID, so ids sort in creation order.
pub fn new_event_id() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}

/// The body receivers get: `{type, timestamp, data}`, timestamp in RFC 3339 UTC.
pub fn payload(event_type: EventType, at_ms: i64, data: &Value) -> String {
    let timestamp = crate::clock::instant(at_ms)
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    serde_json::json!({
        "type": event_type.as_str(),
        "timestamp": timestamp,
        "data": data,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let names = EventType::names();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::parse("link.deleted"), None);
    }

    #[test]
    fn payload_shape() {
        let body = payload(EventType::Ping, 0, &serde_json::json!({"a": 1}));
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["type"], "ping");
        assert_eq!(v["timestamp"], "1970-01-01T00:00:00Z");
        assert_eq!(v["data"]["a"], 1);
    }
}
