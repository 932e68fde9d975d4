//! Integration tests: the real server on a random port, the real Amazon simulator behind
//! it, and HTTP in between.

#![allow(clippy::unwrap_used)]

mod amazon;
mod auth;
mod binary;
mod bulk;
mod catalog;
mod cli;
mod copy;
mod crash;
mod layers;
mod lifecycle;
mod links;
mod multiprocess;
mod ops;
mod reports;
mod sellers;
mod support;
mod web;
