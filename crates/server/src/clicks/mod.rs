//! Short links and Quiver's own click counts (issue #19): the code map the redirect
//! resolves from, the classification of each request, and the counters a job flushes.
//!
//! Nothing here touches the database: `store::clicks` writes and reads the counts,
//! `jobs::click_flush` and `jobs::short_codes` move data between the two.

pub mod classify;
pub mod codes;
pub mod counter;

use std::time::Duration;

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue, Method};
use uuid::Uuid;

use classify::Reason;
use codes::CodeMap;
use counter::{ClickKey, Counter, FilteredKey, hour_start};

/// Settings of the short links, from `config::ClickConfig`.
#[derive(Debug, Clone)]
pub struct ClickSettings {
    /// Base of short URLs when not the public URL (`QUIVER_SHORT_URL`), without a
    /// trailing `/`.
    pub short_base: Option<String>,
    /// Trusted proxy header carrying the client's country, lower-case.
    pub country_header: Option<String>,
    /// Trusted proxy header carrying the client's address, lower-case; else the peer.
    pub client_ip_header: Option<String>,
    /// A second request from the same client within this is a repeat.
    pub repeat_window: Duration,
    /// How often counts are written.
    pub flush_every: Duration,
    /// How often other processes' new links are looked for.
    pub poll_every: Duration,
}

impl Default for ClickSettings {
    fn default() -> Self {
        Self {
            short_base: None,
            country_header: None,
            client_ip_header: None,
            repeat_window: Duration::from_secs(30),
            flush_every: Duration::from_secs(1),
            poll_every: Duration::from_secs(1),
        }
    }
}

/// What a request to `/r/{code}` comes to.
#[derive(Debug)]
pub enum Outcome {
    /// Send the shopper here (counted or not): the `Location`.
    Redirect(HeaderValue),
    NotFound,
}

/// Draws for a new link's code before giving up: a code another link holds is drawn
/// again, first against the map, then (a link of another process not polled yet) on the
/// database's unique index. With 62^8 codes a second draw is already rare.
pub const CODE_ATTEMPTS: usize = 5;

pub struct Clicks {
    pub settings: ClickSettings,
    pub codes: CodeMap,
    pub counter: Counter,
    agents: classify::Agents,
    /// Codes the next new links are offered before random ones: how tests provoke a
    /// collision (a random one cannot be made to collide).
    offered: std::sync::Mutex<std::collections::VecDeque<String>>,
}

impl Clicks {
    pub fn new(settings: ClickSettings) -> Self {
        let window = i64::try_from(settings.repeat_window.as_millis()).unwrap_or(i64::MAX);
        Self {
            settings,
            codes: CodeMap::default(),
            counter: Counter::new(window),
            agents: classify::Agents::default(),
            offered: Default::default(),
        }
    }

    /// A code for a new link that no link in the map has.
    pub fn new_code(&self) -> String {
        let mut code = self.draw();
        for _ in 1..CODE_ATTEMPTS {
            if !self.codes.contains(&code) {
                break;
            }
            code = self.draw();
        }
        code
    }

    fn draw(&self) -> String {
        self.offered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop_front()
            .unwrap_or_else(codes::new_code)
    }

    /// Offers `codes` to the next new links, before random ones (see `offered`).
    pub fn offer_codes(&self, codes: impl IntoIterator<Item = String>) {
        self.offered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(codes);
    }

    /// The short URL of `code`, on the short host or else `public_url`.
    pub fn short_url(&self, public_url: &str, code: &str) -> String {
        format!("{}{code}", self.short_prefix(public_url))
    }

    /// What every short URL starts with: the base and `/r/`.
    pub fn short_prefix(&self, public_url: &str) -> String {
        let base = self.settings.short_base.as_deref().unwrap_or(public_url);
        format!("{}/r/", base.trim_end_matches('/'))
    }

    /// Resolves `raw` (the path after `/r/`, undecoded) and counts the request: a click,
    /// or a filtered request under its reason. Memory only.
    pub fn visit(
        &self,
        raw: &[u8],
        method: &Method,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
        now: i64,
    ) -> Outcome {
        let Some(code) = codes::parse(raw) else {
            return Outcome::NotFound;
        };
        let Some((link_id, url)) = self.codes.resolve(&code) else {
            return Outcome::NotFound;
        };
        match self.reason(link_id, method, headers, peer, now) {
            Some(reason) => self.counter.filter(FilteredKey {
                link_id,
                hour_start: hour_start(now),
                reason,
            }),
            None => self.counter.count(ClickKey {
                link_id,
                hour_start: hour_start(now),
                device: classify::device(headers),
                referrer: classify::referrer(headers),
                country: classify::country(headers, self.settings.country_header.as_deref()),
            }),
        }
        Outcome::Redirect(url)
    }

    fn reason(
        &self,
        link_id: Uuid,
        method: &Method,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
        now: i64,
    ) -> Option<Reason> {
        if let Some(reason) = classify::filter(method, headers, &self.agents) {
            return Some(reason);
        }
        let from_header = self
            .settings
            .client_ip_header
            .as_deref()
            .and_then(|h| headers.get(h))
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim());
        // The peer's address is written out only when no trusted header named the client.
        let peer_text;
        let client = match from_header {
            Some(c) => c,
            None => {
                peer_text = peer.map(|p| p.to_string());
                peer_text.as_deref().unwrap_or("")
            }
        };
        let ua = classify::user_agent(headers);
        self.counter
            .is_repeat(link_id, client, ua, now)
            .then_some(Reason::Repeat)
    }

    /// Adds links to the code map: `(code, link id, attribution URL)`.
    pub fn add_links<'a>(&self, rows: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) {
        self.codes.insert_many(rows);
    }
}
