//! One delivery attempt: POST the event, signed, and judge the answer.

use std::error::Error as _;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};

use super::settings::WebhookSettings;
use super::ssrf;

/// Bodies larger than this are not sent: the delivery fails with a clear error.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Of a response body, only this much is read (and only to let the connection be
/// reused); it is never logged or stored.
const MAX_RESPONSE_BYTES: usize = 4 * 1024;

/// The delivery client: no redirects (a 3xx is a failure), no proxy from the
/// environment, every address through the SSRF guard.
pub fn client(settings: &WebhookSettings) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .dns_resolver(std::sync::Arc::new(ssrf::GuardedResolver {
            allow_private: settings.allow_private,
        }))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()?)
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// Why it failed, in words fit for the endpoint's owner; `None` on a 2xx.
    pub error: Option<String>,
}

impl Attempt {
    pub fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

/// The signed request to one endpoint.
pub struct Signed<'a> {
    pub url: &'a str,
    pub msg_id: &'a str,
    pub body: &'a str,
    /// The current secret first, then the rotated-out one while it still signs.
    pub secrets: Vec<&'a str>,
}

/// Sends `req` once.
pub async fn attempt(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    req: &Signed<'_>,
) -> Attempt {
    let started = Instant::now();
    let result = try_send(client, settings, req).await;
    let latency_ms = started.elapsed().as_millis() as i64;
    match result {
        Ok(code) if (200..300).contains(&code) => Attempt {
            status_code: Some(code),
            latency_ms,
            error: None,
        },
        Ok(code) => Attempt {
            status_code: Some(code),
            latency_ms,
            error: Some(if (300..400).contains(&code) {
                format!("the endpoint answered {code}: redirects are not followed")
            } else {
                format!("the endpoint answered {code}")
            }),
        },
        Err(e) => Attempt {
            status_code: None,
            latency_ms,
            error: Some(e),
        },
    }
}

async fn try_send(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    req: &Signed<'_>,
) -> Result<u16, String> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(format!(
            "the event is larger than the {MAX_BODY_BYTES}-byte limit and was not sent"
        ));
    }
    let url = ssrf::check_url(req.url, settings.allow_http)?;
    ssrf::check_literal(&url, settings.allow_private).map_err(|e| e.to_string())?;
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature =
        super::signing::signature(&req.secrets, req.msg_id, timestamp, req.body.as_bytes())
            .map_err(|_| "the endpoint's secret could not sign the event".to_owned())?;
    let resp = client
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static("Quiver-Webhooks/1"))
        .header(standardwebhooks::HEADER_WEBHOOK_ID, req.msg_id)
        .header(
            standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
            timestamp.to_string(),
        )
        .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
        .body(req.body.to_owned())
        .send()
        .await
        .map_err(describe)?;
    let code = resp.status().as_u16();
    drain(resp).await;
    Ok(code)
}

/// Reads a little of the body (so a short answer leaves the connection reusable) and
/// drops the rest unread.
async fn drain(mut resp: reqwest::Response) {
    let mut read = 0;
    while read < MAX_RESPONSE_BYTES {
        match resp.chunk().await {
            Ok(Some(c)) => read += c.len(),
            _ => break,
        }
    }
}

/// A transport error in words: timeout, refusal (with the SSRF guard's reason), or the
/// innermost cause.
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out waiting for the endpoint".into();
    }
    let mut source = e.source();
    let mut innermost = None;
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<ssrf::Refused>() {
            return r.to_string();
        }
        innermost = Some(s.to_string());
        source = s.source();
    }
    let detail = innermost.unwrap_or_else(|| e.to_string());
    if e.is_connect() {
        format!("could not connect to the endpoint: {detail}")
    } else {
        format!("the request failed: {detail}")
    }
}
