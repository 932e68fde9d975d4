//! Amazon Attribution: wire types, the client, and the tag-template cache.

pub mod wire;

pub use quiver_domain::Region;
