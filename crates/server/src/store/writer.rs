//! Group commit for link creation on SQLite: one task takes every creation that is
//! queued, stores them in one `BEGIN IMMEDIATE … COMMIT`, and answers each request only
//! after that COMMIT, so one commit (and one trip through the single write connection)
//! serves many requests.
//!
//! Each request keeps its own outcome. Creations without an idempotency key go in as one
//! multi-row INSERT; if that statement fails (SQLite rolls back the statement only, the
//! transaction stays open), each is retried inside its own SAVEPOINT. A creation with a
//! key always runs inside its own SAVEPOINT: a key another request holds, or a constraint
//! failure, rolls back that savepoint alone and never its neighbours. Only a failed
//! BEGIN or COMMIT fails the whole batch, since then nothing of it is durable.

use sqlx::sqlite::SqlitePool;
use sqlx::{Sqlite, Transaction};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::links::{InsertOutcome, KEY_SQL, LinkRow};
use super::sql::Sql;
use super::{StoreError, StoreResult};
use crate::webhooks::events::{EventType, NewEvent};

/// At most this many creations per transaction: bounds a batch's latency and keeps a
/// multi-row INSERT far below SQLite's limit of bound parameters (13 per row).
const MAX_BATCH: usize = 256;
const ROWS_PER_INSERT: usize = 64;

/// A creation waiting for the writer.
pub(crate) struct Job {
    pub link: LinkRow,
    pub key: Option<OwnedKey>,
    pub now: i64,
    /// The link object for its `link.created` webhook event.
    pub event: Option<serde_json::Value>,
    pub reply: oneshot::Sender<StoreResult<InsertOutcome>>,
}

pub(crate) struct OwnedKey {
    pub key: String,
    pub request_hash: String,
    pub response_body: String,
}

enum Msg {
    Create(Box<Job>),
    /// Sent by `Db::close`: the queue stays open in the other clones of the `Db`.
    Stop,
}

/// The handle of the writer task, shared by every clone of the `Db`.
#[derive(Debug)]
pub struct Writer {
    queue: mpsc::UnboundedSender<Msg>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the task on the single-connection write pool, so its transactions queue
    /// with every other write instead of colliding on `SQLITE_BUSY`.
    pub(crate) fn start(pool: SqlitePool) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(pool, rx));
        Self {
            queue,
            task: std::sync::Mutex::new(Some(task)),
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

    /// Lets the queued creations commit, then stops the task and waits for it.
    pub(crate) async fn stop(&self) {
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = self.queue.send(Msg::Stop);
            let _ = task.await;
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Sqlx(sqlx::Error::PoolClosed)
}

async fn run(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut stopping = false;
    while !stopping {
        let Some(first) = rx.recv().await else {
            break;
        };
        let mut batch = Vec::with_capacity(16);
        for msg in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match msg {
                Msg::Create(job) => batch.push(*job),
                Msg::Stop => {
                    stopping = true;
                    break;
                }
            }
            if batch.len() == MAX_BATCH {
                break;
            }
        }
        if batch.is_empty() {
            continue;
        }
        let outcomes = commit_batch(&pool, &batch).await;
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            let _ = job.reply.send(outcome);
        }
    }
    // What arrives after the stop is refused, not left waiting.
    rx.close();
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Create(job) = msg {
            let _ = job.reply.send(Err(stopped()));
        }
    }
}

/// Stores `batch` in one transaction; one outcome per job, in order.
async fn commit_batch(pool: &SqlitePool, batch: &[Job]) -> Vec<StoreResult<InsertOutcome>> {
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => return fail_all(batch.len(), &e),
    };
    let mut outcomes: Vec<Option<StoreResult<InsertOutcome>>> =
        (0..batch.len()).map(|_| None).collect();
    let plain: Vec<usize> = (0..batch.len())
        .filter(|&i| batch[i].key.is_none())
        .collect();
    for chunk in plain.chunks(ROWS_PER_INSERT) {
        match multi_insert(chunk.iter().map(|&i| &batch[i].link))
            .query()
            .execute(&mut *tx)
            .await
        {
            Ok(_) => chunk
                .iter()
                .for_each(|&i| outcomes[i] = Some(Ok(InsertOutcome::Created))),
            Err(_) => {
                for &i in chunk {
                    outcomes[i] = Some(in_savepoint(&mut tx, &batch[i]).await);
                }
            }
        }
    }
    for (i, job) in batch.iter().enumerate() {
        if job.key.is_some() {
            outcomes[i] = Some(in_savepoint(&mut tx, job).await);
        }
    }
    // A link and its event commit together: if enqueueing fails, nothing of the batch does.
    if let Err(e) = enqueue_events(&mut tx, batch, &outcomes).await {
        let _ = tx.rollback().await;
        return fail_all(batch.len(), &e);
    }
    if let Err(e) = tx.commit().await {
        return fail_all(batch.len(), &e);
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(stopped())))
        .collect()
}

/// Enqueues `link.created` for the batch's new links whose accounts have an endpoint
/// subscribed: one query for the batch finds those accounts, so a batch nobody listens to
/// costs a single statement.
async fn enqueue_events(
    tx: &mut Transaction<'static, Sqlite>,
    batch: &[Job],
    outcomes: &[Option<StoreResult<InsertOutcome>>],
) -> Result<(), sqlx::Error> {
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
    let listening =
        super::webhooks::subscribed_accounts(tx, EventType::LinkCreated, &accounts).await?;
    for job in created {
        let (Some(data), true) = (&job.event, listening.contains(&job.link.account_id)) else {
            continue;
        };
        let ev = NewEvent {
            account_id: &job.link.account_id,
            event_type: EventType::LinkCreated,
            data: data.clone(),
        };
        super::webhooks::enqueue(&mut **tx, &ev)
            .await
            .map_err(|e| match e {
                StoreError::Sqlx(e) => e,
                other => sqlx::Error::Protocol(other.to_string()),
            })?;
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
async fn in_savepoint(
    tx: &mut Transaction<'static, Sqlite>,
    job: &Job,
) -> StoreResult<InsertOutcome> {
    sqlx::query("SAVEPOINT request").execute(&mut **tx).await?;
    let result = insert_one(tx, job).await;
    if !matches!(result, Ok(InsertOutcome::Created)) {
        sqlx::query("ROLLBACK TO request")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("RELEASE request").execute(&mut **tx).await?;
    result.map_err(StoreError::from_write)
}

async fn insert_one(
    tx: &mut Transaction<'static, Sqlite>,
    job: &Job,
) -> Result<InsertOutcome, sqlx::Error> {
    job.link.insert().query().execute(&mut **tx).await?;
    if let Some(key) = &job.key {
        let n = sqlx::query(KEY_SQL)
            .bind(&job.link.account_id)
            .bind(&key.key)
            .bind(&key.request_hash)
            .bind(&job.link.id)
            .bind(job.now)
            .bind(job.now - super::links::IDEMPOTENCY_TTL_MS)
            .bind(&key.response_body)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(InsertOutcome::KeyTaken);
        }
    }
    Ok(InsertOutcome::Created)
}

/// Nothing of the batch is durable: every request gets the error.
fn fail_all(n: usize, e: &sqlx::Error) -> Vec<StoreResult<InsertOutcome>> {
    tracing::warn!(error = %e, requests = n, "group commit failed");
    (0..n)
        .map(|_| {
            Err(StoreError::Sqlx(sqlx::Error::Protocol(format!(
                "group commit failed: {e}"
            ))))
        })
        .collect()
}
