//! Log events written in batches by one writer task per store.
//!
//! [`LogWriter::write`] hands an event to a bounded queue and returns; when
//! the queue is full the caller waits (nothing is dropped). The writer task
//! takes everything that accumulated while it wrote the previous batch (at
//! most [`MAX_BATCH`]) and writes it with multi-row INSERTs in one
//! transaction, so an event waits for at most one batch ahead of it.
//!
//! [`LogWriter::flush`] sends a marker through the same queue and waits for
//! the writer to reach it: every event accepted before it has then been
//! written (or its loss logged). Every read of `log_events` flushes first, so
//! a caller reads what it recorded through the same store.
//!
//! The writer is spawned lazily on the tokio runtime of the first write, and
//! again on the current runtime if that one has shut down (tests run one
//! runtime each). It ends when the store is dropped and its queue is drained;
//! it holds only the pool, so it keeps nothing alive.

use super::bulk;
use super::tokens::{log_values, LOG_INSERT_COLUMNS};
use crate::error::StoreResult;
use crate::records::LogEvent;
use sqlx::AnyPool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};

/// Events (and flush markers) a batch takes at most.
const MAX_BATCH: usize = 256;
/// Events accepted ahead of the writer before callers wait.
const QUEUE_CAPACITY: usize = 4 * MAX_BATCH;

/// Events accepted by any store in this process and not yet written.
static UNWRITTEN: AtomicUsize = AtomicUsize::new(0);
/// Signalled whenever a writer finishes a batch.
static BATCH_DONE: Notify = Notify::const_new();

enum Command {
    /// Boxed: a queue slot then costs a pointer, not a whole event.
    Write(Box<LogEvent>),
    /// Answered once every command ahead of it has been handled.
    Flush(oneshot::Sender<()>),
}

/// One store's queue to its writer task.
pub(crate) struct LogWriter {
    pool: AnyPool,
    queue: Mutex<Option<mpsc::Sender<Command>>>,
}

impl LogWriter {
    pub(crate) fn new(pool: AnyPool) -> Self {
        Self {
            pool,
            queue: Mutex::new(None),
        }
    }

    /// Queues `event` for the writer (waiting while the queue is full). Only
    /// outside a tokio runtime, or when the writer's runtime has gone, is the
    /// event written here and now.
    pub(crate) async fn write(&self, event: LogEvent) -> StoreResult<()> {
        UNWRITTEN.fetch_add(1, Ordering::SeqCst);
        let Err(Command::Write(event)) = self.submit(Command::Write(Box::new(event))).await else {
            return Ok(());
        };
        let written = insert_one(&self.pool, &event).await;
        finish_batch(1);
        written
    }

    /// Waits until every event this store accepted so far has been written
    /// (or its loss logged).
    pub(crate) async fn flush(&self) -> StoreResult<()> {
        if self.running_writer().is_none() {
            return Ok(());
        }
        let (done, written) = oneshot::channel();
        if self.submit(Command::Flush(done)).await.is_ok() {
            // An error means the writer's runtime shut down: nothing more
            // can be written by it.
            let _ = written.await;
        }
        Ok(())
    }

    /// Sends `command` to the writer, starting one when none runs; gives the
    /// command back when no writer can take it.
    async fn submit(&self, command: Command) -> Result<(), Command> {
        let mut command = command;
        // A second try covers a writer whose runtime shut down between
        // looking it up and sending.
        for _ in 0..2 {
            let Some(queue) = self.running_writer().or_else(|| self.start_writer()) else {
                return Err(command);
            };
            match queue.send(command).await {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(returned)) => command = returned,
            }
        }
        Err(command)
    }

    fn running_writer(&self) -> Option<mpsc::Sender<Command>> {
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.as_ref().filter(|q| !q.is_closed()).cloned()
    }

    /// Spawns a writer on the current runtime; `None` outside one.
    fn start_writer(&self) -> Option<mpsc::Sender<Command>> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(running) = queue.as_ref().filter(|q| !q.is_closed()) {
            return Some(running.clone());
        }
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        runtime.spawn(run_writer(self.pool.clone(), receiver));
        *queue = Some(sender.clone());
        Some(sender)
    }
}

/// Waits until every event accepted by any store of this process has been
/// written, for at most `limit`; false when some were still pending. For a
/// process about to exit, whatever its commands recorded.
pub async fn wait_for_log_writers(limit: Duration) -> bool {
    let all_written = async {
        loop {
            let batch_done = BATCH_DONE.notified();
            if UNWRITTEN.load(Ordering::SeqCst) == 0 {
                return;
            }
            batch_done.await;
        }
    };
    tokio::time::timeout(limit, all_written).await.is_ok()
}

/// The writer task: one batch at a time until every sender is gone.
async fn run_writer(pool: AnyPool, mut queue: mpsc::Receiver<Command>) {
    let mut commands = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut commands, MAX_BATCH).await > 0 {
        let mut events = Vec::with_capacity(commands.len());
        let mut flushes = Vec::new();
        for command in commands.drain(..) {
            match command {
                Command::Write(event) => events.push(*event),
                Command::Flush(done) => flushes.push(done),
            }
        }
        if !events.is_empty() {
            write_batch(&pool, &events).await;
            finish_batch(events.len());
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Writes `events` in one transaction; when that fails (a dropped connection,
/// one event the database refuses), each event is tried once on its own so a
/// single failure costs as little as possible. What still fails is logged.
async fn write_batch(pool: &AnyPool, events: &[LogEvent]) {
    let Err(batch_error) = insert_in_transaction(pool, events).await else {
        return;
    };
    tracing::warn!(error = %batch_error, count = events.len(), "writing a batch of log events failed; retrying them one by one");
    let mut lost = 0usize;
    let mut last_error = None;
    for event in events {
        if let Err(e) = insert_one(pool, event).await {
            lost += 1;
            last_error = Some(e);
        }
    }
    if let Some(error) = last_error {
        tracing::error!(%error, lost, "log events lost: they could not be written");
    }
}

/// Writes `events` in one transaction (multi-row INSERTs, [`bulk`]).
pub(crate) async fn insert_in_transaction(pool: &AnyPool, events: &[LogEvent]) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    insert_rows(&mut tx, events).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_rows(conn: &mut sqlx::AnyConnection, events: &[LogEvent]) -> StoreResult<()> {
    let rows = events.iter().map(log_values).collect();
    bulk::insert_rows(conn, "log_events", &LOG_INSERT_COLUMNS, rows, "").await
}

/// One event on a connection of its own (no transaction).
async fn insert_one(pool: &AnyPool, event: &LogEvent) -> StoreResult<()> {
    let mut conn = pool.acquire().await?;
    insert_rows(&mut conn, std::slice::from_ref(event)).await
}

fn finish_batch(count: usize) {
    UNWRITTEN.fetch_sub(count, Ordering::SeqCst);
    BATCH_DONE.notify_waiters();
}
