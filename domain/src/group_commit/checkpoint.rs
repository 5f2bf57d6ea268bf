//! Checkpoints beside the writers: the checkpointer's task, which copies committed pages from the WAL into
//! the database file on a connection of its own, and holds the writers off only when the WAL has grown long.

use super::{
    Checkpoints, WriteGate,
    commit::{finish, settle},
    statements::Later,
};
use sqlx::{SqliteConnection, SqlitePool};
use std::{
    sync::{Arc, Weak, atomic::Ordering},
    time::Duration,
};
use tokio::sync::{Notify, oneshot};

/// How long the checkpointer lets commits gather, after the first it hears of, before copying them.
const CHECKPOINT_DELAY: Duration = Duration::from_millis(200);

/// From this many frames in the WAL (4 KiB pages: 32 MiB), the checkpointer finishes its pass with the
/// writers held off, so that the WAL starts over.
const RESTART_FRAMES: i64 = 8192;

impl WriteGate {
    /// How many checkpoints ran beside the writers, and how many of them were finished with the writers
    /// held off (each lets the WAL start over).
    pub fn checkpoints(&self) -> (usize, usize) {
        (
            self.checkpoints.beside.load(Ordering::Relaxed),
            self.checkpoints.held.load(Ordering::Relaxed),
        )
    }

    /// A gate whose database's writing connection does not checkpoint (`wal_autocheckpoint=0`): a task
    /// checkpoints on `checkpointer`'s connection instead, until the gate is dropped.
    pub fn with_checkpointer(checkpointer: SqlitePool) -> Arc<WriteGate> {
        let (stop, stopped) = oneshot::channel();
        let gate = Arc::new(WriteGate {
            _checkpointer: Some(stop),
            ..WriteGate::default()
        });
        tokio::spawn(checkpoint_after_commits(
            Arc::downgrade(&gate),
            gate.committed.clone(),
            gate.checkpoints.clone(),
            checkpointer,
            stopped,
        ));
        gate
    }
}

/// The checkpointer's loop: after commits, a passive checkpoint beside the writers; when the WAL is long,
/// a second one with the writers held off, which copies what they committed meanwhile so that the WAL is
/// wholly in the database file and the next writer starts it over (SQLite does that when a transaction
/// begins with every frame copied and no reader still on an older snapshot).
async fn checkpoint_after_commits(
    gate: Weak<WriteGate>,
    committed: Arc<Notify>,
    counts: Arc<Checkpoints>,
    pool: SqlitePool,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = committed.notified() => {}
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(CHECKPOINT_DELAY) => {}
        }
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(sqlx::Error::PoolClosed) => break,
            Err(error) => {
                tracing::warn!(%error, "no connection to checkpoint on");
                continue;
            }
        };
        let frames = match passive_checkpoint(&mut conn).await {
            Ok(frames) => frames,
            Err(error) => {
                tracing::warn!(%error, "checkpoint failed; the next commit tries again");
                continue;
            }
        };
        counts.beside.fetch_add(1, Ordering::Relaxed);
        if frames < RESTART_FRAMES {
            continue;
        }
        let Some(gate) = gate.upgrade() else { break };
        let mut batch = gate.batch.clone().lock_owned().await;
        // A transaction left open holds the work of writers waiting for its commit: commit it for them,
        // as the first of them to get the lock would.
        settle(&mut batch).await;
        if batch.conn.is_some() {
            let _ = finish(&gate, &mut batch, Later::default()).await;
        }
        match passive_checkpoint(&mut conn).await {
            Ok(_) => {
                counts.held.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => tracing::warn!(%error, "checkpoint failed; the next commit tries again"),
        }
    }
    pool.close().await;
}

/// Copies committed pages from the WAL into the database file as far as readers allow, without waiting
/// for anyone; returns how many frames the WAL holds.
async fn passive_checkpoint(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    let (_busy, frames, _copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(conn).await?;
    Ok(frames)
}
