//! Quiver's domain: the types and rules every other layer shares.
//!
//! Nothing here does I/O or is async, so every rule can be unit- and property-tested
//! in isolation, and the storage, HTTP and Amazon layers all agree on what a valid
//! ASIN, marketplace, amount of money or report date is.

pub mod account;
pub mod asin;
pub mod brand;
pub mod commission;
pub mod cursor;
pub mod date;
pub mod link;
pub mod marketplace;
pub mod money;
mod unknown;

pub use account::AccountKind;
pub use asin::{Asin, InvalidAsin};
pub use brand::ProgramMode;
pub use commission::{CreatorRateChange, RateChange, RateHistory, effective_from};
pub use cursor::{Cursor, CursorKey, InvalidCursor};
pub use date::{InvalidDate, format_compact, format_iso, parse_report_date};
pub use link::{InvalidLinkName, InvalidTemplate, LinkName, fill_tag_template};
pub use marketplace::{
    Currency, Geo, Marketplace, MarketplaceSelector, Region, UnsupportedMarketplace,
};
pub use money::{Bps, InvalidMoney, Money};
pub use unknown::UnknownValue;
