//! Group commit for link creation, on both engines: a writer task takes every creation
//! that is queued, stores them in one transaction, and answers each request only after
//! that COMMIT, so one commit (and one multi-row INSERT) serves many requests.
//!
//! SQLite gets one writer task on the single write connection. PostgreSQL gets a few, each
//! with its own pooled connection, so one batch is sent while another waits for its WAL
//! flush; its counter trigger is statement-level (migration 0026), so a batch updates an
//! account's count once.
//!
//! Each request keeps its own outcome. Creations without an idempotency key go in as
//! multi-row INSERTs; a creation with a key runs inside its own SAVEPOINT, so a key
//! another request holds rolls back that savepoint alone. If a multi-row INSERT fails (a
//! short-code collision, a product deleted meanwhile), the transaction is rolled back and
//! the batch is stored again with every creation in its own savepoint: the failure then
//! reaches only its own request. Only a failed BEGIN or COMMIT fails the whole batch, since
//! then nothing of it is durable.

use std::future::Future;
use std::sync::Arc;

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::links::{InsertOutcome, KEY_SQL, LinkRow};
use super::sql::Sql;
use super::webhooks::EnqueueOn;
use super::{BeginWrite, StoreError, StoreResult};
use crate::webhooks::events::{EventType, NewEvent};

/// At most this many creations per transaction: bounds a batch's latency and keeps a
/// multi-row INSERT far below SQLite's limit of bound parameters (17 per row).
const MAX_BATCH: usize = 256;
const ROWS_PER_INSERT: usize = 64;
/// PostgreSQL writer tasks (of the pool's 16 connections).
const PG_WRITERS: usize = 3;

/// A creation waiting for the writer.
pub(crate) struct Job {
    pub link: LinkRow,
    pub key: Option<OwnedKey>,
    pub now: i64,
    /// The link object (JSON text) for its `link.created` webhook event, parsed only
    /// when an endpoint of the account wants the event.
    pub event: Option<String>,
    pub reply: oneshot::Sender<StoreResult<InsertOutcome>>,
}

pub(crate) struct OwnedKey {
    pub key: String,
    pub request_hash: String,
    pub response_body: String,
}

enum Msg {
    Create(Box<Job>),
    /// Sent by `Db::close`, once per task: the queue stays open in the other clones of
    /// the `Db`.
    Stop,
}

type Queue = Arc<Mutex<mpsc::UnboundedReceiver<Msg>>>;

/// The handle of the writer tasks, shared by every clone of the `Db`.
#[derive(Debug)]
pub struct Writer {
    queue: mpsc::UnboundedSender<Msg>,
    receiver: Queue,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Writer {
    /// One task on SQLite's single-connection write pool, so its transactions queue with
    /// every other write instead of colliding on `SQLITE_BUSY`.
    pub(crate) fn sqlite(pool: SqlitePool) -> Self {
        Self::start(1, move |rx| tokio::spawn(run(pool.clone(), rx)))
    }

    /// `PG_WRITERS` tasks sharing the queue, each taking a connection per batch.
    pub(crate) fn postgres(pool: PgPool) -> Self {
        Self::start(PG_WRITERS, move |rx| tokio::spawn(run(pool.clone(), rx)))
    }

    fn start(n: usize, spawn: impl Fn(Queue) -> JoinHandle<()>) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(rx));
        let tasks = (0..n).map(|_| spawn(receiver.clone())).collect();
        Self {
            queue,
            receiver,
            tasks: std::sync::Mutex::new(tasks),
        }
    }

    /// Queues `job` and waits for its outcome, which comes after its batch's COMMIT.
    pub(crate) async fn submit(
        &self,
        job: impl FnOnce(oneshot::Sender<StoreResult<InsertOutcome>>) -> Job,
    ) -> StoreResult<InsertOutcome> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Msg::Create(Box::new(job(reply))))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Lets the queued creations commit, then stops the tasks and waits for them. What
    /// arrives after the stop is refused, not left waiting.
    pub(crate) async fn stop(&self) {
        let tasks = self
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        if tasks.is_empty() {
            return;
        }
        for _ in &tasks {
            let _ = self.queue.send(Msg::Stop);
        }
        for task in tasks {
            let _ = task.await;
        }
        let mut rx = self.receiver.lock().await;
        rx.close();
        while let Ok(msg) = rx.try_recv() {
            if let Msg::Create(job) = msg {
                let _ = job.reply.send(Err(stopped()));
            }
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Sqlx(sqlx::Error::PoolClosed)
}

/// What a writer needs of a connection: run a statement, enqueue a webhook event.
pub(crate) trait BatchConn: EnqueueOn {
    /// Runs `sql`; the number of rows it changed.
    fn run(&mut self, sql: &Sql) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
}

macro_rules! batch_conn {
    ($conn:ty) => {
        impl BatchConn for $conn {
            async fn run(&mut self, sql: &Sql) -> Result<u64, sqlx::Error> {
                Ok(sql.query().execute(&mut *self).await?.rows_affected())
            }
        }
    };
}

batch_conn!(sqlx::SqliteConnection);
batch_conn!(sqlx::PgConnection);

type Conn<P> = <<P as BeginWrite>::Db as sqlx::Database>::Connection;

async fn run<P>(pool: P, rx: Queue)
where
    P: BeginWrite,
    Conn<P>: BatchConn,
{
    loop {
        let (batch, stopping) = take_batch(&rx).await;
        if !batch.is_empty() {
            let outcomes = match commit_batch(&pool, &batch, false).await {
                Ok(outcomes) => outcomes,
                // A multi-row INSERT failed: each creation again, in its own savepoint.
                Err(Retry) => commit_batch(&pool, &batch, true)
                    .await
                    .unwrap_or_else(|Retry| fail_all(batch.len(), "batch failed twice")),
            };
            // Creations per commit is the mean batch: how much one commit is shared.
            metrics::counter!("quiver_link_commits_total").increment(1);
            metrics::counter!("quiver_link_commit_creations_total").increment(batch.len() as u64);
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
        }
        if stopping {
            break;
        }
    }
}

/// Waits for a creation, then takes every other one already queued (up to `MAX_BATCH`).
/// True when a stop was read (or the queue closed): the task ends after this batch.
async fn take_batch(rx: &Queue) -> (Vec<Job>, bool) {
    let mut rx = rx.lock().await;
    let mut batch = Vec::with_capacity(16);
    let Some(first) = rx.recv().await else {
        return (batch, true);
    };
    for msg in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
        match msg {
            Msg::Create(job) => batch.push(*job),
            Msg::Stop => return (batch, true),
        }
        if batch.len() == MAX_BATCH {
            break;
        }
    }
    (batch, false)
}

/// A multi-row INSERT failed; the batch was rolled back and should be stored again with
/// each creation in its own savepoint.
struct Retry;

/// Stores `batch` in one transaction; one outcome per job, in order. `careful` puts every
/// creation in its own savepoint.
async fn commit_batch<P>(
    pool: &P,
    batch: &[Job],
    careful: bool,
) -> Result<Vec<StoreResult<InsertOutcome>>, Retry>
where
    P: BeginWrite,
    Conn<P>: BatchConn,
{
    let mut tx = match pool.begin_write().await {
        Ok(tx) => tx,
        Err(e) => return Ok(fail_all(batch.len(), &e.to_string())),
    };
    let mut outcomes: Vec<Option<StoreResult<InsertOutcome>>> =
        (0..batch.len()).map(|_| None).collect();
    if !careful {
        let plain: Vec<usize> = (0..batch.len())
            .filter(|&i| batch[i].key.is_none())
            .collect();
        for chunk in plain.chunks(ROWS_PER_INSERT) {
            let insert = multi_insert(chunk.iter().map(|&i| &batch[i].link));
            if tx.run(&insert).await.is_err() {
                let _ = tx.rollback().await;
                return Err(Retry);
            }
            for &i in chunk {
                outcomes[i] = Some(Ok(InsertOutcome::Created));
            }
        }
    }
    for (i, job) in batch.iter().enumerate() {
        if careful || job.key.is_some() {
            outcomes[i] = Some(match in_savepoint(&mut *tx, job).await {
                Ok(outcome) => outcome,
                // The savepoint itself failed: the connection is in doubt.
                Err(e) => {
                    let _ = tx.rollback().await;
                    return Ok(fail_all(batch.len(), &e.to_string()));
                }
            });
        }
    }
    // A link and its event commit together: if enqueueing fails, nothing of the batch does.
    if let Err(e) = enqueue_events(&mut *tx, batch, &outcomes).await {
        let _ = tx.rollback().await;
        return Ok(fail_all(batch.len(), &e.to_string()));
    }
    if let Err(e) = tx.commit().await {
        return Ok(fail_all(batch.len(), &e.to_string()));
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(stopped())))
        .collect())
}

/// Enqueues `link.created` for the batch's new links whose accounts have an endpoint
/// subscribed: one query for the batch finds those accounts, so a batch nobody listens to
/// costs a single statement.
async fn enqueue_events<C: BatchConn>(
    conn: &mut C,
    batch: &[Job],
    outcomes: &[Option<StoreResult<InsertOutcome>>],
) -> StoreResult<()> {
    let created: Vec<&Job> = batch
        .iter()
        .zip(outcomes)
        .filter(|(j, o)| j.event.is_some() && matches!(o, Some(Ok(InsertOutcome::Created))))
        .map(|(j, _)| j)
        .collect();
    if created.is_empty() {
        return Ok(());
    }
    let accounts: Vec<&str> = created.iter().map(|j| j.link.account_id.as_str()).collect();
    let listening = conn
        .subscribed_accounts(EventType::LinkCreated, &accounts)
        .await?;
    for job in created {
        let (Some(data), true) = (&job.event, listening.contains(&job.link.account_id)) else {
            continue;
        };
        let ev = NewEvent {
            account_id: &job.link.account_id,
            event_type: EventType::LinkCreated,
            data: serde_json::from_str(data)
                .map_err(|e| StoreError::Sqlx(sqlx::Error::Protocol(format!("link event: {e}"))))?,
        };
        super::webhooks::enqueue(conn, &ev).await?;
    }
    Ok(())
}

fn multi_insert<'a>(links: impl Iterator<Item = &'a LinkRow>) -> Sql {
    let mut sql = Sql::new("INSERT INTO links (");
    sql.push(super::links::COLUMNS).push(") VALUES ");
    for (n, link) in links.enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.push("(").list(link.values()).push(")");
    }
    sql
}

/// One creation inside its own savepoint: its failure or key conflict undoes only it.
/// The outer error is the savepoint's own (the transaction is then unusable).
async fn in_savepoint<C: BatchConn>(
    conn: &mut C,
    job: &Job,
) -> Result<StoreResult<InsertOutcome>, sqlx::Error> {
    conn.run(&Sql::new("SAVEPOINT request")).await?;
    let result = insert_one(conn, job).await;
    if !matches!(result, Ok(InsertOutcome::Created)) {
        conn.run(&Sql::new("ROLLBACK TO request")).await?;
    }
    conn.run(&Sql::new("RELEASE request")).await?;
    Ok(result.map_err(StoreError::from_write))
}

async fn insert_one<C: BatchConn>(conn: &mut C, job: &Job) -> Result<InsertOutcome, sqlx::Error> {
    conn.run(&job.link.insert()).await?;
    if let Some(key) = &job.key {
        let mut sql = Sql::new(KEY_SQL);
        sql.bind(job.link.account_id.as_str())
            .bind(key.key.as_str())
            .bind(key.request_hash.as_str())
            .bind(job.link.id.as_str())
            .bind(job.now)
            .bind(job.now - super::links::IDEMPOTENCY_TTL_MS)
            .bind(key.response_body.as_str());
        if conn.run(&sql).await? == 0 {
            return Ok(InsertOutcome::KeyTaken);
        }
    }
    Ok(InsertOutcome::Created)
}

/// Nothing of the batch is durable: every request gets the error.
fn fail_all(n: usize, e: &str) -> Vec<StoreResult<InsertOutcome>> {
    tracing::warn!(error = %e, requests = n, "group commit failed");
    (0..n)
        .map(|_| {
            Err(StoreError::Sqlx(sqlx::Error::Protocol(format!(
                "group commit failed: {e}"
            ))))
        })
        .collect()
}
