//! The JSON objects Quiver returns, which background work also renders into webhook
//! events: below the services so that a job can render what an endpoint returns.

pub mod amazon_connection;
pub mod bulk_job;
pub mod format;
pub mod grant;
pub mod link;
pub mod report_update;
pub mod statement;
