//! The short-code map's upkeep: at start every link gets a code (links made before
//! migration 0018) and every code is loaded; then a poll adds the links other processes
//! sharing the database create, within `QUIVER_SHORT_POLL_MS` (at most 5 s). This
//! process's own new links are added by their creation at once ([`add`]).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clicks::codes::new_code;
use crate::clicks::{CODE_ATTEMPTS, Clicks};
use crate::clock::now_ms;
use crate::state::AppState;
use crate::store::links::LinkRow;
use crate::store::{StoreError, StoreResult};

/// Rows read (or given codes) per query at start.
const PAGE: i64 = 10_000;

/// A link's creation commits a little after its id (a UUIDv7, ordered by time) was made;
/// each poll reads again the links whose ids are this much older than the newest seen.
const OVERLAP_MS: u64 = 10_000;

/// Adds stored links to the map.
pub fn add<'a>(clicks: &Clicks, links: impl IntoIterator<Item = &'a LinkRow>) {
    clicks.add_links(links.into_iter().filter_map(|l| {
        l.short_code
            .as_deref()
            .map(|c| (c, l.id.as_str(), l.url.as_str()))
    }));
}

/// Gives every link without a code one, then loads every code. A page whose codes
/// include one another link holds is drawn again (at most `CODE_ATTEMPTS` times in a row).
pub async fn load_all(state: &AppState) -> StoreResult<()> {
    let mut taken = 0;
    loop {
        let ids = state.db.links_without_code(PAGE).await?;
        if ids.is_empty() {
            break;
        }
        let codes: Vec<(String, String)> = ids.into_iter().map(|id| (id, new_code())).collect();
        match state.db.set_short_codes(&codes).await {
            Ok(()) => taken = 0,
            Err(StoreError::ShortCodeTaken) if taken + 1 < CODE_ATTEMPTS => taken += 1,
            Err(e) => return Err(e),
        }
    }
    let mut after = String::new();
    loop {
        let rows = state.db.short_codes_after(&after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.1.clone();
        let full = rows.len() as i64 == PAGE;
        state.clicks.add_links(
            rows.iter()
                .map(|(c, i, u)| (c.as_str(), i.as_str(), u.as_str())),
        );
        if !full {
            break;
        }
    }
    Ok(())
}

/// The smallest UUIDv7 of the given moment: every id made at or after it sorts after.
fn id_floor(ms: u64) -> String {
    uuid::Builder::from_unix_timestamp_millis(ms, &[0; 10])
        .into_uuid()
        .to_string()
}

/// Milliseconds of a UUIDv7 id, when it is one.
fn id_ms(id: &str) -> Option<u64> {
    let (secs, nanos) = uuid::Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    Some(secs * 1000 + u64::from(nanos / 1_000_000))
}

pub async fn run(state: AppState, every: Duration, stop: CancellationToken) {
    let mut newest = u64::try_from(now_ms()).unwrap_or(0);
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => return,
        }
        let mut after = id_floor(newest.saturating_sub(OVERLAP_MS));
        loop {
            match state.db.short_codes_after(&after, PAGE).await {
                Ok(rows) => {
                    let full = rows.len() as i64 == PAGE;
                    if let Some(last) = rows.last() {
                        after = last.1.clone();
                        newest = newest.max(id_ms(&last.1).unwrap_or(0));
                    }
                    state.clicks.add_links(
                        rows.iter()
                            .map(|(c, i, u)| (c.as_str(), i.as_str(), u.as_str())),
                    );
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read new short codes");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_sorts_before_every_id_of_its_moment() {
        let id = uuid::Uuid::now_v7().to_string();
        let ms = id_ms(&id).unwrap();
        assert!(id_floor(ms) <= id);
        assert!(id_floor(ms + 1) > id);
    }
}
