//! The Amazon Attribution client: one connection pool, the token cache, a breaker per region.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{Stream, StreamExt};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, redirect};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::Region;
use crate::breaker::{Breaker, BreakerState};
use crate::config::ClientConfig;
use crate::error::AmazonError;
use crate::lwa::{AccessToken, TokenCache};
use crate::retry;
use crate::wire;

const CLIENT_ID_HEADER: &str = "Amazon-Advertising-API-ClientId";
const SCOPE_HEADER: &str = "Amazon-Advertising-API-Scope";

/// The Amazon operations, as labels for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    Profiles,
    Advertisers,
    Publishers,
    NonMacroTemplateTag,
    MacroTag,
    Report,
}

impl Operation {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Profiles => "profiles",
            Self::Advertisers => "advertisers",
            Self::Publishers => "publishers",
            Self::NonMacroTemplateTag => "non_macro_template_tag",
            Self::MacroTag => "macro_tag",
            Self::Report => "report",
        }
    }
}

/// One finished call (all its attempts), handed to the observer.
#[derive(Debug, Clone)]
pub struct CallEvent {
    pub operation: Operation,
    pub region: Region,
    /// `"ok"` or `AmazonError::kind()`.
    pub outcome: &'static str,
    pub attempts: u32,
    pub elapsed: Duration,
}

/// A hook for metrics: called once per finished call, on the caller's task, so keep it cheap.
pub type Observer = Arc<dyn Fn(&CallEvent) + Send + Sync>;

/// Counters since the client was built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientStats {
    pub calls: u64,
    pub ok: u64,
    /// Per `AmazonError::kind()`, every kind present (zero when it never happened).
    pub errors: BTreeMap<&'static str, u64>,
    /// HTTP attempts, so `attempts - calls` is the number of retries.
    pub attempts: u64,
    /// Login with Amazon token requests for the platform token.
    pub token_refreshes: u64,
    /// Token requests of the authorisation this handle calls with (the platform's on the
    /// plain client, so then equal to `token_refreshes`).
    pub authorization_refreshes: u64,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    ok: AtomicU64,
    attempts: AtomicU64,
    errors: [AtomicU64; AmazonError::KINDS.len()],
    /// Per region, when a call last succeeded (ms since the Unix epoch; 0: never).
    last_ok_ms: [AtomicU64; 3],
}

/// One page of a report, with the cursor that fetched it and the one for the next page, so
/// a caller can checkpoint after processing it and resume from `next_cursor` later.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportPage {
    /// The cursor sent for this page (`None` for the first page).
    pub cursor: Option<String>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
    pub entries: Vec<wire::ReportEntry>,
    pub size: i64,
}

struct Inner {
    http: reqwest::Client,
    cfg: ClientConfig,
    /// Region hosts without a trailing slash, ready for `format!("{base}{path}")`.
    bases: [String; 3],
    client_id: HeaderValue,
    tokens: Arc<TokenCache>,
    /// One access-token cache per brand authorisation, by the caller's key.
    authorizations: std::sync::Mutex<std::collections::HashMap<String, Arc<TokenCache>>>,
    breakers: [Breaker; 3],
    counters: Counters,
    /// Shared by every clone, so a cache holding a clone is observed too.
    observer: RwLock<Option<Observer>>,
}

/// Cheap to clone: every clone shares the connection pool, token and breakers.
/// [`AmazonClient::authorized`] gives a handle that calls with a brand's own authorisation.
#[derive(Clone)]
pub struct AmazonClient {
    inner: Arc<Inner>,
    /// The access tokens this handle calls with: the platform's, or one authorisation's.
    tokens: Arc<TokenCache>,
}

impl std::fmt::Debug for AmazonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmazonClient")
            .field("endpoints", &self.inner.cfg.endpoints)
            .finish_non_exhaustive()
    }
}

fn region_index(r: Region) -> usize {
    match r {
        Region::Na => 0,
        Region::Eu => 1,
        Region::Fe => 2,
    }
}

struct Request<'a> {
    operation: Operation,
    method: Method,
    region: Region,
    path: &'static str,
    scope: Option<HeaderValue>,
    query: Vec<(&'static str, &'a str)>,
    json: Option<Vec<u8>>,
}

impl AmazonClient {
    pub fn new(cfg: ClientConfig) -> Result<Self, AmazonError> {
        let http = reqwest::Client::builder()
            // A redirect from an API host is unexpected; following it could leak the bearer.
            .redirect(redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .user_agent(concat!("quiver-amazon/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AmazonError::Connect(format!("building the HTTP client: {e}")))?;
        let client_id = HeaderValue::from_str(&cfg.credentials.client_id)
            .map_err(|_| AmazonError::Auth("client id is not a valid header value".into()))?;
        let base = |r: Region| {
            cfg.endpoints
                .for_region(r)
                .as_str()
                .trim_end_matches('/')
                .to_owned()
        };
        let bases = [base(Region::Na), base(Region::Eu), base(Region::Fe)];
        let tokens = Arc::new(TokenCache::new(
            http.clone(),
            cfg.endpoints.lwa_token_url.clone(),
            cfg.credentials.clone(),
            cfg.token_refresh_margin,
        ));
        let breakers = [
            Breaker::new(cfg.breaker.clone()),
            Breaker::new(cfg.breaker.clone()),
            Breaker::new(cfg.breaker.clone()),
        ];
        let inner = Inner {
            http,
            cfg,
            bases,
            client_id,
            tokens: tokens.clone(),
            authorizations: std::sync::Mutex::new(std::collections::HashMap::new()),
            breakers,
            counters: Counters::default(),
            observer: RwLock::new(None),
        };
        Ok(Self {
            inner: Arc::new(inner),
            tokens,
        })
    }

    /// Calls `observer` once per finished call (for metrics), on this client and every clone.
    pub fn with_observer(self, observer: Observer) -> Self {
        self.set_observer(observer);
        self
    }

    /// Like `with_observer`, for a client already shared.
    pub fn set_observer(&self, observer: Observer) {
        *self
            .inner
            .observer
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(observer);
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    pub fn breaker_state(&self, region: Region) -> BreakerState {
        self.inner.breakers[region_index(region)].state(Instant::now())
    }

    /// When a call to `region` last succeeded, since this client was built.
    pub fn last_success(&self, region: Region) -> Option<SystemTime> {
        match self.inner.counters.last_ok_ms[region_index(region)].load(Ordering::Relaxed) {
            0 => None,
            ms => Some(UNIX_EPOCH + Duration::from_millis(ms)),
        }
    }

    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            calls: c.calls.load(Ordering::Relaxed),
            ok: c.ok.load(Ordering::Relaxed),
            errors: AmazonError::KINDS
                .iter()
                .zip(&c.errors)
                .map(|(k, n)| (*k, n.load(Ordering::Relaxed)))
                .collect(),
            attempts: c.attempts.load(Ordering::Relaxed),
            token_refreshes: self.inner.tokens.refreshes(),
            authorization_refreshes: self.tokens.refreshes(),
        }
    }

    /// Makes the cached access token one Amazon rejects, to exercise the 401 → refresh path.
    #[doc(hidden)]
    pub fn poison_access_token_for_tests(&self) {
        self.tokens.poison();
    }

    /// A handle calling with the brand authorisation known as `key` (any stable id, such
    /// as the connection's row id), refreshed at `region`'s token endpoint with
    /// `refresh_token`. Handles for the same key share one access-token cache, so
    /// concurrent callers refresh once; a different refresh token (after a reconnect)
    /// replaces the cache. Breakers, pool and observer stay shared with the platform.
    pub fn authorized(&self, key: &str, region: Region, refresh_token: &str) -> AmazonClient {
        let mut map = self
            .inner
            .authorizations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = map
            .get(key)
            .filter(|c| c.refresh_token() == refresh_token)
            .cloned();
        let tokens = current.unwrap_or_else(|| {
            let creds = crate::config::Credentials {
                refresh_token: refresh_token.to_owned(),
                ..self.inner.cfg.credentials.clone()
            };
            let cache = Arc::new(TokenCache::new(
                self.inner.http.clone(),
                self.inner.cfg.endpoints.token_url(region).clone(),
                creds,
                self.inner.cfg.token_refresh_margin,
            ));
            map.insert(key.to_owned(), cache.clone());
            cache
        });
        AmazonClient {
            inner: self.inner.clone(),
            tokens,
        }
    }

    /// Forgets the access-token cache of authorisation `key` (disconnected).
    pub fn forget_authorization(&self, key: &str) {
        self.inner
            .authorizations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    /// Login with Amazon's authorisation-code grant at `region`'s token endpoint: the code
    /// from the consent redirect, and the same `redirect_uri` the consent page was given.
    /// One attempt, no retry: a code is single use, so a retry after a lost answer would
    /// fail anyway.
    pub async fn exchange_code(
        &self,
        region: Region,
        code: &str,
        redirect_uri: &str,
        deadline: Instant,
    ) -> Result<crate::lwa::Grant, AmazonError> {
        let url = self.inner.cfg.endpoints.token_url(region).clone();
        let timeout = deadline
            .saturating_duration_since(Instant::now())
            .min(self.inner.cfg.call_timeout * 5);
        let creds = &self.inner.cfg.credentials;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.as_str()),
        ];
        match tokio::time::timeout(
            timeout,
            crate::lwa::post_token_form(&self.inner.http, url, &form),
        )
        .await
        {
            Ok(Ok(tok)) => tok
                .refresh_token
                .map(crate::lwa::Grant::new)
                .ok_or_else(|| {
                    AmazonError::Decode("LwA code exchange returned no refresh_token".into())
                }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(AmazonError::Timeout),
        }
    }

    /// `GET /v2/profiles`.
    pub async fn profiles(
        &self,
        region: Region,
        deadline: Instant,
    ) -> Result<Vec<wire::Profile>, AmazonError> {
        let req = Request {
            operation: Operation::Profiles,
            method: Method::GET,
            region,
            path: "/v2/profiles",
            scope: None,
            query: Vec::new(),
            json: None,
        };
        self.call(req, deadline).await
    }

    /// `GET /attribution/advertisers`.
    pub async fn advertisers(
        &self,
        region: Region,
        profile_id: &str,
        deadline: Instant,
    ) -> Result<Vec<wire::Advertiser>, AmazonError> {
        let req = Request {
            operation: Operation::Advertisers,
            method: Method::GET,
            region,
            path: "/attribution/advertisers",
            scope: Some(scope(profile_id)?),
            query: Vec::new(),
            json: None,
        };
        let resp: wire::AdvertiserResponse = self.call(req, deadline).await?;
        Ok(resp.advertisers)
    }

    /// `GET /attribution/publishers`.
    pub async fn publishers(
        &self,
        region: Region,
        profile_id: &str,
        deadline: Instant,
    ) -> Result<Vec<wire::Publisher>, AmazonError> {
        let req = Request {
            operation: Operation::Publishers,
            method: Method::GET,
            region,
            path: "/attribution/publishers",
            scope: Some(scope(profile_id)?),
            query: Vec::new(),
            json: None,
        };
        let resp: wire::PublishersResponse = self.call(req, deadline).await?;
        Ok(resp.publisher)
    }

    /// `GET /attribution/tags/nonMacroTemplateTag`.
    pub async fn non_macro_template_tags(
        &self,
        region: Region,
        profile_id: &str,
        publisher_ids: &[String],
        advertiser_ids: &[String],
        deadline: Instant,
    ) -> Result<wire::AttributionTagResponse, AmazonError> {
        let req = tag_request(
            Operation::NonMacroTemplateTag,
            "/attribution/tags/nonMacroTemplateTag",
            region,
            profile_id,
            publisher_ids,
            advertiser_ids,
        )?;
        self.call(req, deadline).await
    }

    /// `GET /attribution/tags/macroTag`.
    pub async fn macro_tags(
        &self,
        region: Region,
        profile_id: &str,
        publisher_ids: &[String],
        advertiser_ids: &[String],
        deadline: Instant,
    ) -> Result<wire::AttributionTagResponse, AmazonError> {
        let req = tag_request(
            Operation::MacroTag,
            "/attribution/tags/macroTag",
            region,
            profile_id,
            publisher_ids,
            advertiser_ids,
        )?;
        self.call(req, deadline).await
    }

    /// `POST /attribution/report`: one page.
    pub async fn report(
        &self,
        region: Region,
        profile_id: &str,
        body: &wire::ReportRequestBody,
        deadline: Instant,
    ) -> Result<wire::ReportResponse, AmazonError> {
        let json = serde_json::to_vec(body).map_err(|e| AmazonError::BadRequest {
            status: 0,
            details: format!("report body: {e}"),
        })?;
        let req = Request {
            operation: Operation::Report,
            method: Method::POST,
            region,
            path: "/attribution/report",
            scope: Some(scope(profile_id)?),
            query: Vec::new(),
            json: Some(json),
        };
        self.call(req, deadline).await
    }

    /// Every page of a report, starting at `body.cursor_id` (`None` or `""` for the first
    /// page). Each page gets its own deadline of `page_budget`, since a long report has no
    /// meaningful total deadline. The stream ends after the last page or the first error.
    pub fn report_pages(
        &self,
        region: Region,
        profile_id: &str,
        body: &wire::ReportRequestBody,
        page_budget: Duration,
    ) -> impl Stream<Item = Result<ReportPage, AmazonError>> + Send + 'static {
        let client = self.clone();
        let profile = profile_id.to_owned();
        let body = body.clone();
        let start = body.cursor_id.clone().filter(|c| !c.is_empty());
        // State: `None` once finished, else the cursor of the next page to fetch.
        futures::stream::unfold(Some(start), move |state| {
            let client = client.clone();
            let profile = profile.clone();
            let mut body = body.clone();
            async move {
                let cursor = state?;
                body.cursor_id = cursor.clone();
                let deadline = Instant::now() + page_budget;
                match client.report(region, &profile, &body, deadline).await {
                    Ok(resp) => {
                        let next = resp.cursor_id.filter(|c| !c.is_empty());
                        if next.is_some() && next == cursor {
                            // Following it would loop forever.
                            let err = AmazonError::Decode("report cursor did not advance".into());
                            return Some((Err(err), None));
                        }
                        let page = ReportPage {
                            cursor,
                            next_cursor: next.clone(),
                            entries: resp.reports,
                            size: resp.size,
                        };
                        Some((Ok(page), next.map(Some)))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        })
    }

    /// All entries of a report; `on_page` sees each page before the next is requested (to
    /// checkpoint `next_cursor`). On error, the pages already seen were passed to `on_page`.
    pub async fn report_all(
        &self,
        region: Region,
        profile_id: &str,
        body: &wire::ReportRequestBody,
        page_budget: Duration,
        mut on_page: impl FnMut(&ReportPage) + Send,
    ) -> Result<Vec<wire::ReportEntry>, AmazonError> {
        let mut pages = std::pin::pin!(self.report_pages(region, profile_id, body, page_budget));
        let mut all = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page?;
            on_page(&page);
            all.extend(page.entries);
        }
        Ok(all)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        req: Request<'_>,
        deadline: Instant,
    ) -> Result<T, AmazonError> {
        let inner = &self.inner;
        let started = Instant::now();
        let refreshed = AtomicBool::new(false);
        let url = self.url(&req);
        let breaker = &inner.breakers[region_index(req.region)];
        let report = retry::run(
            &inner.cfg.retry,
            breaker,
            inner.cfg.call_timeout,
            deadline,
            || self.attempt(&req, &url, &refreshed),
        )
        .await;
        let c = &inner.counters;
        c.calls.fetch_add(1, Ordering::Relaxed);
        c.attempts
            .fetch_add(u64::from(report.attempts), Ordering::Relaxed);
        let outcome = match &report.result {
            Ok(_) => {
                c.ok.fetch_add(1, Ordering::Relaxed);
                let now_ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                c.last_ok_ms[region_index(req.region)].fetch_max(now_ms, Ordering::Relaxed);
                "ok"
            }
            Err(e) => {
                c.errors[e.kind_index()].fetch_add(1, Ordering::Relaxed);
                tracing::debug!(operation = req.operation.as_str(), region = %req.region, error = %e, "Amazon call failed");
                e.kind()
            }
        };
        let observer = self
            .inner
            .observer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(observer) = observer {
            observer(&CallEvent {
                operation: req.operation,
                region: req.region,
                outcome,
                attempts: report.attempts,
                elapsed: started.elapsed(),
            });
        }
        report.result
    }

    /// One attempt, including a token refresh and, once per call, a retry after a 401.
    async fn attempt<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
        url: &str,
        refreshed: &AtomicBool,
    ) -> Result<T, AmazonError> {
        let tokens = &self.tokens;
        let token = tokens.token().await?;
        let mut resp = self.send(req, url, &token).await?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED
            && !refreshed.swap(true, Ordering::Relaxed)
        {
            tokens.invalidate(&token);
            let token = tokens.token().await?;
            resp = self.send(req, url, &token).await?;
        }
        let status = resp.status().as_u16();
        let retry_after = retry_after_header(resp.headers());
        let body = resp
            .bytes()
            .await
            .map_err(|e| AmazonError::from_reqwest(&e))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body)
                .map_err(|e| AmazonError::Decode(format!("{}: {e}", req.operation.as_str())));
        }
        let details = match serde_json::from_slice::<wire::MaaSError>(&body) {
            Ok(m) => m.details,
            Err(_) => body_excerpt(&body),
        };
        Err(AmazonError::from_status(status, details, retry_after))
    }

    /// The full URL, query included, built once per call rather than per attempt.
    fn url(&self, req: &Request<'_>) -> String {
        let mut url = format!("{}{}", self.inner.bases[region_index(req.region)], req.path);
        if !req.query.is_empty() {
            url.push('?');
            url.push_str(
                &url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(req.query.iter())
                    .finish(),
            );
        }
        url
    }

    async fn send(
        &self,
        req: &Request<'_>,
        url: &str,
        token: &AccessToken,
    ) -> Result<reqwest::Response, AmazonError> {
        let inner = &self.inner;
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(AUTHORIZATION, token.bearer.clone());
        headers.insert(CLIENT_ID_HEADER, inner.client_id.clone());
        if let Some(scope) = &req.scope {
            headers.insert(SCOPE_HEADER, scope.clone());
        }
        let mut builder = inner.http.request(req.method.clone(), url).headers(headers);
        if let Some(json) = &req.json {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(json.clone());
        }
        builder
            .send()
            .await
            .map_err(|e| AmazonError::from_reqwest(&e))
    }
}

fn scope(profile_id: &str) -> Result<HeaderValue, AmazonError> {
    HeaderValue::from_str(profile_id).map_err(|_| AmazonError::BadRequest {
        status: 0,
        details: "profile id is not a valid header value (not sent)".into(),
    })
}

fn tag_request<'a>(
    operation: Operation,
    path: &'static str,
    region: Region,
    profile_id: &str,
    publisher_ids: &'a [String],
    advertiser_ids: &'a [String],
) -> Result<Request<'a>, AmazonError> {
    // form/explode style: the key repeated once per value.
    let query = publisher_ids
        .iter()
        .map(|p| ("publisherIds", p.as_str()))
        .chain(advertiser_ids.iter().map(|a| ("advertiserIds", a.as_str())))
        .collect();
    Ok(Request {
        operation,
        method: Method::GET,
        region,
        path,
        scope: Some(scope(profile_id)?),
        query,
        json: None,
    })
}

/// `Retry-After` in seconds (Amazon sends delta-seconds; an HTTP date is ignored).
pub(crate) fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// A short, printable piece of an unexpected body for error details.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(300).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after_header(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after_header(&h), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("0.5"));
        assert_eq!(retry_after_header(&h), Some(Duration::from_millis(500)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after_header(&h), None);
    }

    #[test]
    fn excerpt_is_bounded() {
        assert_eq!(body_excerpt(b"oops"), "oops");
        assert_eq!(body_excerpt(&[b'x'; 1000]).chars().count(), 301);
    }
}
