//! How every listing pages: `limit`, then either a keyset `cursor` (the opaque
//! `next_cursor` of the previous page) or page numbers (`page`/`skip`, with
//! `pagination_info`). Each listing keeps its own envelope; this module does the arithmetic.

use quiver_domain::Cursor;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::http::extract::bounded;
use crate::http::params;

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
        None => bounded("skip", skip, 0, 0, i64::from(i32::MAX)),
    }
}

/// The position a `cursor` encodes; `None` (the first page) when it is absent or blank.
pub fn cursor<P: DeserializeOwned>(value: Option<&str>) -> Result<Option<P>, ApiError> {
    params::text(value)
        .map(|c| Cursor::decode(c).map_err(|_| bad_cursor()))
        .transpose()
}

fn bad_cursor() -> ApiError {
    ApiError::validation(
        "query",
        "cursor",
        "Invalid cursor: pass next_cursor back unchanged",
        "value_error",
    )
}

/// A keyset-paged request: at most `limit` rows after the position `P` of the last row of
/// the previous page. `P` is private to each listing, so one listing's cursor is refused
/// by another.
pub struct Keyset<P> {
    pub limit: i64,
    pub after: Option<P>,
}

impl<P: Serialize + DeserializeOwned> Keyset<P> {
    /// `limit` (see [`limit`]) and `cursor` together.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        Self::new(self::limit(limit)?, cursor)
    }

    /// For listings that check other parameters between `limit` and `cursor`.
    pub fn new(limit: i64, cursor: Option<&str>) -> Result<Self, ApiError> {
        Ok(Self {
            limit,
            after: self::cursor(cursor)?,
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
            .map(|last| Cursor::encode(&position(last)))
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

    #[test]
    fn a_page_is_cut_and_points_past_its_last_row() {
        let keyset = Keyset::<Pos>::parse(Some(2), None).unwrap();
        assert_eq!(keyset.fetch(), 3);
        let mut rows = vec![1, 2, 3];
        let next = keyset.next_cursor(&mut rows, |&n| Pos { n });
        assert_eq!(rows, [1, 2]);
        let after = Keyset::<Pos>::parse(Some(2), next.as_deref())
            .unwrap()
            .after;
        assert_eq!(after, Some(Pos { n: 2 }));

        let mut last = vec![1, 2];
        assert_eq!(keyset.next_cursor(&mut last, |&n| Pos { n }), None);
        assert_eq!(last, [1, 2]);
    }

    #[test]
    fn cursors_are_checked() {
        assert_eq!(cursor::<Pos>(None).unwrap(), None);
        assert_eq!(cursor::<Pos>(Some(" ")).unwrap(), None);
        assert!(cursor::<Pos>(Some("%%%")).is_err());
        assert!(Keyset::<Pos>::parse(Some(0), None).is_err());
        assert!(Keyset::<Pos>::parse(Some(501), None).is_err());
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
