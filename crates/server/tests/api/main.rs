//! Integration tests: the real server on a random port, the real Amazon simulator behind
//! it, and HTTP in between.

#![allow(clippy::unwrap_used)]

mod abuse;
mod amazon;
mod amazon_connect_secrets;
mod api_keys;
mod auth;
mod binary;
mod bulk;
mod catalog;
mod catalog_sort;
mod cli;
mod copy;
mod crash;
mod creator_rates;
mod cursors;
mod deep_pages;
mod dos;
mod files;
mod hardening;
mod invitations;
mod joining;
mod layers;
mod lifecycle;
mod limits;
mod link_archive;
mod links;
mod logs;
mod mailbox;
mod multiprocess;
mod ops;
mod password_pool;
mod relationship;
mod reports;
mod revocation_processes;
mod schema;
mod sellers;
mod serving;
mod short_links;
mod short_links_process;
mod statements;
mod summary;
mod support;
mod token_account_type;
mod web;
mod webhook_events;
mod webhook_receiver;
mod webhooks;
mod webhooks_delivery;
mod writes;
