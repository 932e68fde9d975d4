//! `sqlx::migrate!` embeds both migration folders at compile time: a new or changed
//! migration must rebuild the crate, or the binary would carry the old set.

fn main() {
    println!("cargo:rerun-if-changed=migrations/sqlite");
    println!("cargo:rerun-if-changed=migrations/postgres");
}
