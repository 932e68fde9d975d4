//! The redirect scenario (issue #19): a million links seeded into the database, a fresh
//! Quiver process that loads their codes, and 32 clients on `GET /r/{code}` with the
//! traffic a short link really gets (mostly people in browsers, some bots, preview
//! fetchers, prefetches, `HEAD`s and repeats), beside a bare axum 302 in the same run.
//! Afterwards the counts Quiver stored must equal what was sent: the clicks that should
//! count, and every filtered request under its reason.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use tokio::process::Command;

use crate::scenarios::{Ctx, Row};
use crate::{load, seed, start, token};

const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const BOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const PREVIEWS: [&str; 5] = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0 A",
    "TelegramBot (like TwitterBot)",
];
/// Clients whose requests repeat: each one's first request counts, the rest are repeats
/// (the run is shorter than the 30 s window).
const REPEATERS: u64 = 64;

/// What request `i` of the mix is. Of every 20: 14 people, 1 bot, 1 preview fetcher,
/// 1 prefetch, 1 `HEAD`, 2 from the repeating clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Human,
    Bot,
    Preview,
    Prefetch,
    Head,
    Repeater(u64),
}

fn kind(i: u64) -> Kind {
    match i % 20 {
        0..=13 => Kind::Human,
        14 => Kind::Bot,
        15 => Kind::Preview,
        16 => Kind::Prefetch,
        17 => Kind::Head,
        _ => Kind::Repeater((i / 20) % REPEATERS),
    }
}

/// Request `i` against `base`, over `links` seeded codes.
fn request(client: &reqwest::Client, base: &str, links: u64, i: u64) -> reqwest::RequestBuilder {
    // Spread over every link, not a hot few.
    let pick = |k: u64| seed::short_code(1 + k.wrapping_mul(2_654_435_761) % links);
    let browser = if i.is_multiple_of(3) { DESKTOP } else { PHONE };
    let person = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    let (method, code, ua, ip) = match kind(i) {
        Kind::Human | Kind::Prefetch => (Method::GET, pick(i), browser, person),
        Kind::Bot => (Method::GET, pick(i), BOT, person),
        Kind::Preview => (
            Method::GET,
            pick(i),
            PREVIEWS[(i / 20 % 5) as usize],
            person,
        ),
        Kind::Head => (Method::HEAD, pick(i), browser, person),
        Kind::Repeater(k) => (Method::GET, pick(k), PHONE, format!("172.16.0.{k}")),
    };
    let mut r = client
        .request(method, format!("{base}/r/{code}"))
        .header("user-agent", ua)
        .header("x-real-ip", ip);
    if kind(i) == Kind::Prefetch {
        r = r.header(
            if i % 40 < 20 {
                "sec-purpose"
            } else {
                "purpose"
            },
            "prefetch",
        );
    }
    r
}

/// What Quiver should have stored for requests `0..n`: counted clicks and the filtered
/// requests per reason.
fn expected(n: u64) -> (i64, BTreeMap<&'static str, i64>) {
    let mut counted = 0;
    let mut filtered: BTreeMap<&'static str, i64> =
        ["bot", "preview", "prefetch", "head", "repeat"]
            .into_iter()
            .map(|r| (r, 0))
            .collect();
    let mut seen = HashSet::new();
    for i in 0..n {
        let reason = match kind(i) {
            Kind::Human => None,
            Kind::Bot => Some("bot"),
            Kind::Preview => Some("preview"),
            Kind::Prefetch => Some("prefetch"),
            Kind::Head => Some("head"),
            Kind::Repeater(k) => (!seen.insert(k)).then_some("repeat"),
        };
        match reason {
            Some(r) => *filtered.entry(r).or_default() += 1,
            None => counted += 1,
        }
    }
    (counted, filtered)
}

/// Quiver's stored figures: `(total, filtered per reason)`.
async fn stored(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<(i64, BTreeMap<&'static str, i64>)> {
    let today = time::OffsetDateTime::now_utc().date();
    let url = format!(
        "{base}/clicks?start={}&end={today}&group_by=day",
        today - time::Duration::days(1)
    );
    let c: Value = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let filtered = ["bot", "preview", "prefetch", "head", "repeat"]
        .into_iter()
        .map(|r| (r, c["filtered"][r].as_i64().unwrap_or(-1)))
        .collect();
    Ok((c["total"].as_i64().unwrap_or(-1), filtered))
}

/// Seeds `links` links for creator2, starts `quiver` (a fresh process on the same
/// database, so it loads every code at start), measures, and checks the counts. Returns
/// the row and whether the count check passed. `rss_idle`: the resident set of a Quiver
/// process just started on the database before the seeding, MiB.
pub async fn scenario(
    ctx: &mut Ctx,
    db: &quiver::store::Db,
    quiver: Command,
    prefix: &str,
    links: u64,
    rss_idle: Option<f64>,
) -> anyhow::Result<(Row, bool)> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(ctx.concurrency * 2)
        .build()?;
    if ctx.duration >= Duration::from_secs(25) {
        eprintln!("bench: redirect: runs near 30 s let repeaters count again; the check may fail");
    }
    if !ctx.baselines.contains_key("bare 302") {
        eprintln!("bench: baseline bare 302");
        let (c, base) = (client.clone(), ctx.baseline.clone());
        let s = load(ctx.concurrency, ctx.duration, 302, move |i| {
            request(&c, &base, links, i)
        })
        .await?;
        ctx.baselines.insert("bare 302", s);
    }
    eprintln!("bench: seeding {links} short links");
    let took = seed::short_links(db, "creator2@example.com", links as i64).await?;
    eprintln!("bench: {links} short links in {took:.1} s");
    // The hourly report ingestion starts with the process and would read the million new
    // links from the simulator during the load; it is measured on its own (`ingest`).
    let mut quiver = quiver;
    quiver.env("QUIVER_INGEST_INTERVAL_SECS", "0");
    let t = Instant::now();
    let server = start(quiver, "Quiver is running at ").await?;
    let load_s = t.elapsed().as_secs_f64();
    let pid = server.child.id();
    let rss_loaded = seed::rss_mib(pid);
    let base = server.base.clone();
    let creator2 = token(&ctx.client, &base, "creator2@example.com").await?;
    let before = stored(&client, &base, &creator2).await?;

    eprintln!("bench: GET /r/{{code}} ({links} links)");
    let c = client.clone();
    let b = base.clone();
    let s = load(ctx.concurrency, ctx.duration, 302, move |i| {
        request(&c, &b, links, i)
    })
    .await?;

    // The flush writes at most a second later; wait for it (and a little for a slow one).
    let (want_total, want_filtered) = expected(s.requests);
    let deadline = Instant::now() + Duration::from_secs(15);
    let got = loop {
        let (total, filtered) = stored(&client, &base, &creator2).await?;
        let got = (
            total - before.0,
            filtered
                .iter()
                .map(|(k, v)| (*k, v - before.1.get(k).copied().unwrap_or(0)))
                .collect::<BTreeMap<_, _>>(),
        );
        if (got.0 == want_total && got.1 == want_filtered) || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let pass = s.errors == 0 && got.0 == want_total && got.1 == want_filtered;
    eprintln!(
        "bench: {prefix}redirect count check {}: sent {} requests ({} errors); counted: stored {} of {want_total}; filtered stored {:?}, sent {:?}",
        if pass { "PASS" } else { "FAIL" },
        s.requests,
        s.errors,
        got.0,
        got.1,
        want_filtered,
    );
    let memory = match (rss_idle, rss_loaded) {
        (Some(idle), Some(loaded)) => format!(
            "{:.0} MiB per million links (RSS {loaded:.0} vs {idle:.0} idle)",
            (loaded - idle) * 1e6 / links as f64
        ),
        _ => "memory not measured".to_owned(),
    };
    let after = seed::rss_mib(pid);
    drop(server);
    Ok((
        Row {
            name: format!("{prefix}GET /r/{{code}} (302, {links} links)"),
            stats: Some(s),
            baseline: "bare 302",
            note: format!(
                "count check {}; {memory}; codes loaded in {load_s:.1} s",
                if pass { "PASS" } else { "FAIL" },
            ),
            rss: after,
        },
        pass,
    ))
}
