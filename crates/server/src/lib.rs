//! Quiver's server: storage, HTTP API, background work and the command line.

pub mod accounts;
pub mod amazon;
pub mod api_keys;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod demo;
pub mod error;
pub mod http;
pub mod ingest;
pub mod invitations;
pub mod jobs;
pub mod joining;
pub mod linking;
pub mod login;
pub mod mail;
pub mod metrics;
pub mod outbox;
pub mod quotas;
pub mod ratelimit;
pub mod state;
pub mod store;
pub mod tags;
