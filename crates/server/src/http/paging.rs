//! How every listing pages: `limit`, then either a keyset `cursor` (the opaque
//! `next_cursor` of the previous page) or page numbers (`page`/`skip`, with
//! `pagination_info`). Each listing keeps its own envelope; this module does the arithmetic.
//!
//! Cursors are signed with the key every server on the database shares (see
//! `Db::shared_secret`), so a cursor one server gave out is accepted by all of them, and a
//! cursor a client made up or altered is refused before its position is read.

use quiver_domain::{Cursor, CursorKey};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::http::extract::bounded;
use crate::http::params;

/// The largest `skip`, and the largest offset a cursor may carry.
pub const MAX_OFFSET: i64 = i32::MAX as i64;

/// `limit` within 1–500 (default 100).
pub fn limit(value: Option<i64>) -> Result<i64, ApiError> {
    bounded("limit", value, 100, 1, 500)
}

/// `skip`, or `page` (1-based) when given.
pub fn offset(skip: Option<i64>, page: Option<i64>, limit: i64) -> Result<i64, ApiError> {
    match page {
        Some(_) => {
            let page = bounded("page", page, 1, 1, 1_000_000)?;
            Ok((page - 1) * limit)
        }
        None => bounded("skip", skip, 0, 0, MAX_OFFSET),
    }
}

/// The position a `cursor` encodes; `None` (the first page) when it is absent or blank.
pub fn cursor<P: DeserializeOwned>(
    key: &CursorKey,
    value: Option<&str>,
) -> Result<Option<P>, ApiError> {
    params::text(value)
        .map(|c| Cursor::decode(key, c).map_err(|_| bad_cursor()))
        .transpose()
}

/// The 422 for a cursor that is not one this server gave out, or whose position makes no
/// sense for the listing.
pub fn bad_cursor() -> ApiError {
    ApiError::validation(
        "query",
        "cursor",
        "Invalid cursor: pass next_cursor back unchanged",
        "value_error",
    )
}

/// An offset carried in a cursor, within 0–[`MAX_OFFSET`]. Cursors are signed, so only a
/// server bug or a leaked key could make one out of range; it is checked all the same.
pub fn cursor_offset(offset: i64) -> Result<i64, ApiError> {
    if (0..=MAX_OFFSET).contains(&offset) {
        Ok(offset)
    } else {
        Err(bad_cursor())
    }
}

/// A keyset-paged request: at most `limit` rows after the position `P` of the last row of
/// the previous page. `P` is private to each listing, so one listing's cursor is refused
/// by another.
pub struct Keyset<P> {
    pub limit: i64,
    pub after: Option<P>,
    key: CursorKey,
}

impl<P: Serialize + DeserializeOwned> Keyset<P> {
    /// `limit` (see [`limit`]) and `cursor` together.
    pub fn parse(
        key: &CursorKey,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Self, ApiError> {
        Self::new(key, self::limit(limit)?, cursor)
    }

    /// For listings that check other parameters between `limit` and `cursor`.
    pub fn new(key: &CursorKey, limit: i64, cursor: Option<&str>) -> Result<Self, ApiError> {
        Ok(Self {
            limit,
            after: self::cursor(key, cursor)?,
            key: key.clone(),
        })
    }

    /// Rows to ask the store for: one more than the page, to learn whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts `rows` (fetched with [`Keyset::fetch`]) to the page and returns the cursor of
    /// the next page, `None` on the last one.
    pub fn next_cursor<T>(
        &self,
        rows: &mut Vec<T>,
        position: impl FnOnce(&T) -> P,
    ) -> Option<String> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(usize::try_from(self.limit).unwrap_or(0));
        more.then(|| rows.last())
            .flatten()
            .map(|last| Cursor::encode(&self.key, &position(last)))
    }
}

/// A page-number request: `limit` rows from `offset`.
pub struct Numbered {
    pub limit: i64,
    pub offset: i64,
}

impl Numbered {
    /// `page` (1-based, default 1) of `limit` rows, `limit` already checked.
    pub fn page(limit: i64, page: Option<i64>) -> Result<Self, ApiError> {
        Ok(Self {
            limit,
            offset: offset(None, Some(page.unwrap_or(1)), limit)?,
        })
    }

    /// `pagination_info` for a page of `fetched` rows out of `total`.
    pub fn info(&self, fetched: usize, total: i64) -> PaginationInfo {
        PaginationInfo::new(self.offset, fetched as i64, self.limit, total)
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaginationInfo {
    pub current_page: i64,
    pub total_pages: i64,
    pub items_start: i64,
    pub items_end: i64,
    pub total_items: i64,
}

impl PaginationInfo {
    fn new(offset: i64, fetched: i64, limit: i64, total: i64) -> Self {
        Self {
            current_page: offset / limit + 1,
            total_pages: (total + limit - 1) / limit,
            items_start: if fetched > 0 { offset + 1 } else { 0 },
            items_end: offset + fetched,
            total_items: total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pos {
        n: i64,
    }

    fn key() -> CursorKey {
        CursorKey::derive(b"paging test")
    }

    #[test]
    fn a_page_is_cut_and_points_past_its_last_row() {
        let key = key();
        let keyset = Keyset::<Pos>::parse(&key, Some(2), None).unwrap();
        assert_eq!(keyset.fetch(), 3);
        let mut rows = vec![1, 2, 3];
        let next = keyset.next_cursor(&mut rows, |&n| Pos { n });
        assert_eq!(rows, [1, 2]);
        let after = Keyset::<Pos>::parse(&key, Some(2), next.as_deref())
            .unwrap()
            .after;
        assert_eq!(after, Some(Pos { n: 2 }));

        let mut last = vec![1, 2];
        assert_eq!(keyset.next_cursor(&mut last, |&n| Pos { n }), None);
        assert_eq!(last, [1, 2]);
    }

    #[test]
    fn cursors_are_checked() {
        let key = key();
        assert_eq!(cursor::<Pos>(&key, None).unwrap(), None);
        assert_eq!(cursor::<Pos>(&key, Some(" ")).unwrap(), None);
        assert!(cursor::<Pos>(&key, Some("%%%")).is_err());
        assert!(Keyset::<Pos>::parse(&key, Some(0), None).is_err());
        assert!(Keyset::<Pos>::parse(&key, Some(501), None).is_err());
        // Signed with another key, or not at all: refused like garbage.
        let foreign = Cursor::encode(&CursorKey::derive(b"elsewhere"), &Pos { n: 1 });
        assert!(cursor::<Pos>(&key, Some(&foreign)).is_err());
        assert!(cursor::<Pos>(&key, Some("eyJuIjotMX0")).is_err());
        let own = Cursor::encode(&key, &Pos { n: 1 });
        assert_eq!(cursor::<Pos>(&key, Some(&own)).unwrap(), Some(Pos { n: 1 }));
    }

    #[test]
    fn cursor_offsets_stay_in_range() {
        assert_eq!(cursor_offset(0).unwrap(), 0);
        assert_eq!(cursor_offset(MAX_OFFSET).unwrap(), MAX_OFFSET);
        for bad in [-1, i64::MIN, MAX_OFFSET + 1, i64::MAX] {
            let e = cursor_offset(bad).unwrap_err();
            assert!(
                format!("{e:?}").contains("pass next_cursor back unchanged"),
                "{bad}"
            );
        }
    }

    #[test]
    fn page_numbers() {
        let p = Numbered::page(10, Some(3)).unwrap();
        assert_eq!(p.offset, 20);
        let info = p.info(5, 25);
        assert_eq!(
            (
                info.current_page,
                info.total_pages,
                info.items_start,
                info.items_end
            ),
            (3, 3, 21, 25)
        );
        assert_eq!(Numbered::page(10, None).unwrap().offset, 0);
        assert!(Numbered::page(10, Some(0)).is_err());
        assert_eq!(PaginationInfo::new(0, 0, 10, 0).items_start, 0);
    }
}
