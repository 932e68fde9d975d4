//! Integration tests: the real server on a random port, the real Amazon simulator behind
//! it, and HTTP in between.

#![allow(clippy::unwrap_used)]

mod amazon;
mod auth;
mod binary;
mod catalog;
mod cli;
mod copy;
mod links;
mod ops;
mod support;
