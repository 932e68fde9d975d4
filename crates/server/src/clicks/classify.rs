//! What a request to a short URL is: a click to count, or one of the reasons not to, and
//! the device class, referrer host and country a counted click is filed under.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use axum::http::{HeaderMap, Method, header};

/// Why a request was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    Head,
    Prefetch,
    Preview,
    Bot,
    Repeat,
}

impl Reason {
    pub const ALL: [Reason; 5] = [
        Reason::Head,
        Reason::Prefetch,
        Reason::Preview,
        Reason::Bot,
        Reason::Repeat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Head => "head",
            Reason::Prefetch => "prefetch",
            Reason::Preview => "preview",
            Reason::Bot => "bot",
            Reason::Repeat => "repeat",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Device {
    Mobile,
    Tablet,
    Desktop,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Desktop => "desktop",
        }
    }
}

/// Link-preview fetchers: they fetch a URL when it is pasted into a chat or a post, not
/// when anyone clicks it. Matched case-insensitively as substrings of the user agent,
/// before the general bot list (which knows some of them as plain bots).
const PREVIEW_FETCHERS: &[&str] = &[
    "slackbot",
    "slack-imgproxy",
    "discordbot",
    "twitterbot",
    "facebookexternalhit",
    "facebookcatalog",
    "meta-externalagent",
    "whatsapp",
    "telegrambot",
    "linkedinbot",
    "applebot",
    // iMessage's link previews identify as a Facebook/Twitter fetcher pair.
    "facebot twitterbot",
    "skypeuripreview",
    "pinterestbot",
    "redditbot",
    "embedly",
    "iframely",
    "mastodon",
    "bluesky cardyb",
    "snapchat",
    "viber",
    "line-poker",
    "google-pagerenderer",
    "vkshare",
    "bitlybot",
];

/// The bot list, and the verdicts on user agents already judged. Judging one (the
/// preview substrings, then isbot's large regex set over the lower-cased string) is the
/// costliest step of a redirect, while real traffic repeats a few thousand browser
/// strings. The memo is bounded: when full it starts over, so a flood of invented user
/// agents costs each its own judgement and never more than the bound in memory.
pub struct Agents {
    bots: isbot::Bots,
    seen: RwLock<HashMap<Box<str>, Option<Reason>>>,
}

/// User agents remembered at most, and the longest one remembered (browsers' are about
/// 150 bytes; longer ones are judged every time).
const SEEN_MAX: usize = 4096;
const SEEN_LEN_MAX: usize = 512;

impl Default for Agents {
    fn default() -> Self {
        Self {
            bots: isbot::Bots::default(),
            seen: RwLock::new(HashMap::new()),
        }
    }
}

impl Agents {
    /// `preview`, `bot` (also for no user agent: browsers always send one) or `None`.
    fn verdict(&self, ua: &str) -> Option<Reason> {
        let seen = |m: &HashMap<Box<str>, Option<Reason>>| m.get(ua).copied();
        if let Some(v) = seen(&self.seen.read().unwrap_or_else(PoisonError::into_inner)) {
            return v;
        }
        let v = self.judge(ua);
        if ua.len() <= SEEN_LEN_MAX {
            let mut m = self.seen.write().unwrap_or_else(PoisonError::into_inner);
            if m.len() >= SEEN_MAX {
                m.clear();
            }
            m.insert(ua.into(), v);
        }
        v
    }

    fn judge(&self, ua: &str) -> Option<Reason> {
        let lower = ua.to_ascii_lowercase();
        if PREVIEW_FETCHERS.iter().any(|p| lower.contains(p)) {
            return Some(Reason::Preview);
        }
        if ua.trim().is_empty() || self.bots.is_bot(ua) {
            return Some(Reason::Bot);
        }
        None
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.seen
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The reason a request does not count, before the repeat check (which needs the
/// client's identity): `HEAD`, a prefetch, a preview fetcher, a bot. A request without a
/// user agent is a bot: browsers always send one.
pub fn filter(method: &Method, headers: &HeaderMap, agents: &Agents) -> Option<Reason> {
    if method == Method::HEAD {
        return Some(Reason::Head);
    }
    let prefetch = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("prefetch"))
    };
    if prefetch("purpose") || prefetch("sec-purpose") || prefetch("x-moz") {
        return Some(Reason::Prefetch);
    }
    agents.verdict(user_agent(headers))
}

pub fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The device class from the client hint when sent, else from the user agent.
pub fn device(headers: &HeaderMap) -> Device {
    if let Some(v) = headers
        .get("sec-ch-ua-mobile")
        .and_then(|v| v.to_str().ok())
        && v.trim() == "?1"
    {
        return Device::Mobile;
    }
    let ua = user_agent(headers).to_ascii_lowercase();
    if ua.contains("ipad")
        || ua.contains("tablet")
        || ua.contains("kindle")
        || ua.contains("silk/")
        || (ua.contains("android") && !ua.contains("mobile"))
    {
        Device::Tablet
    } else if ua.contains("mobi") || ua.contains("iphone") || ua.contains("ipod") {
        Device::Mobile
    } else {
        Device::Desktop
    }
}

/// Longest referrer host kept; longer names are cut (they are not real hosts anyway).
const MAX_HOST: usize = 100;

/// The referrer's host, lower-case, or `direct` when there is none worth keeping: only
/// the host is kept, never the path or query, which may carry personal data.
pub fn referrer(headers: &HeaderMap) -> String {
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .filter(|h| !h.is_empty())
        .map(|mut h| {
            h.truncate(MAX_HOST);
            h
        })
        .unwrap_or_else(|| "direct".to_owned())
}

/// A country from the trusted proxy header: two ASCII letters, upper-case; else `None`
/// (stored as `unknown`). Cloudflare's `XX` (no country) and `T1` (Tor) are unknown too.
pub fn country(headers: &HeaderMap, header_name: Option<&str>) -> Option<[u8; 2]> {
    let v = headers.get(header_name?)?.as_bytes();
    let code: [u8; 2] = v.try_into().ok()?;
    let code = code.map(|b| b.to_ascii_uppercase());
    (code.iter().all(u8::is_ascii_uppercase) && &code != b"XX").then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

    #[test]
    fn reasons() {
        let bots = Agents::default();
        let get = Method::GET;
        assert_eq!(filter(&get, &with(&[("user-agent", IPHONE)]), &bots), None);
        assert_eq!(
            filter(&Method::HEAD, &with(&[("user-agent", IPHONE)]), &bots),
            Some(Reason::Head)
        );
        assert_eq!(
            filter(
                &get,
                &with(&[
                    ("user-agent", IPHONE),
                    ("sec-purpose", "prefetch;prerender")
                ]),
                &bots
            ),
            Some(Reason::Prefetch)
        );
        assert_eq!(
            filter(
                &get,
                &with(&[(
                    "user-agent",
                    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
                )]),
                &bots
            ),
            Some(Reason::Preview)
        );
        assert_eq!(
            filter(
                &get,
                &with(&[(
                    "user-agent",
                    "Googlebot/2.1 (+http://www.google.com/bot.html)"
                )]),
                &bots
            ),
            Some(Reason::Bot)
        );
        assert_eq!(filter(&get, &HeaderMap::new(), &bots), Some(Reason::Bot));
    }

    #[test]
    fn verdicts_are_remembered_within_a_bound() {
        let agents = Agents::default();
        let get = Method::GET;
        let bot = "Googlebot/2.1 (+http://www.google.com/bot.html)";
        for _ in 0..2 {
            // Judged, then answered from the memo: the same verdicts.
            assert_eq!(
                filter(&get, &with(&[("user-agent", IPHONE)]), &agents),
                None
            );
            assert_eq!(
                filter(&get, &with(&[("user-agent", bot)]), &agents),
                Some(Reason::Bot)
            );
        }
        assert_eq!(agents.remembered(), 2);
        // A flood of invented user agents: each judged, the memo never past its bound.
        for i in 0..(SEEN_MAX + 100) {
            let ua = HeaderValue::from_str(&format!("Mozilla/5.0 invented {i}")).unwrap();
            let mut h = HeaderMap::new();
            h.insert(header::USER_AGENT, ua);
            assert_eq!(filter(&get, &h, &agents), None);
            assert!(agents.remembered() <= SEEN_MAX);
        }
        let long = HeaderValue::from_str(&format!("Mozilla/5.0 {}", "x".repeat(600))).unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::USER_AGENT, long);
        let before = agents.remembered();
        assert_eq!(filter(&get, &h, &agents), None);
        assert_eq!(agents.remembered(), before, "a long user agent is not kept");
    }

    #[test]
    fn devices_referrers_and_countries() {
        assert_eq!(device(&with(&[("user-agent", IPHONE)])), Device::Mobile);
        assert_eq!(
            device(&with(&[(
                "user-agent",
                "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)"
            )])),
            Device::Tablet
        );
        assert_eq!(
            device(&with(&[(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"
            )])),
            Device::Desktop
        );
        assert_eq!(
            referrer(&with(&[(
                "referer",
                "https://WWW.YouTube.com/watch?v=secret"
            )])),
            "www.youtube.com"
        );
        assert_eq!(referrer(&HeaderMap::new()), "direct");
        // An invented host of any length is stored cut to MAX_HOST characters.
        let long = format!("https://{}.example.com/p", "a".repeat(5_000));
        let mut h = HeaderMap::new();
        h.insert(header::REFERER, HeaderValue::from_str(&long).unwrap());
        let host = referrer(&h);
        assert_eq!(host.len(), MAX_HOST);
        assert!(host.bytes().all(|b| b == b'a'));
        let h = with(&[("cf-ipcountry", "de")]);
        assert_eq!(country(&h, Some("cf-ipcountry")), Some(*b"DE"));
        assert_eq!(country(&h, None), None);
        assert_eq!(
            country(&with(&[("cf-ipcountry", "XX")]), Some("cf-ipcountry")),
            None
        );
    }
}
