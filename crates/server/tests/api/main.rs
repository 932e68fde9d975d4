//! Integration tests: the real server on a random port, the real Amazon simulator behind
//! it, and HTTP in between.

#![allow(clippy::unwrap_used)]

mod abuse;
mod amazon;
mod api_keys;
mod auth;
mod binary;
mod bulk;
mod catalog;
mod cli;
mod copy;
mod crash;
mod dos;
mod hardening;
mod invitations;
mod joining;
mod links;
mod mailbox;
mod multiprocess;
mod ops;
mod reports;
mod sellers;
mod serving;
mod summary;
mod support;
mod web;
