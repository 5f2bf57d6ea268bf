//! Transactions on either backend ([`Tx`]), and the statements a PostgreSQL transaction queues to run just
//! before it commits.

use super::{Db, Value};
use crate::group_commit::GateTx;

/// A transaction on either backend: a change and the jobs it causes commit together or not at all. On
/// SQLite it is a writer's part of a transaction shared with the writers queued behind it
/// ([`crate::group_commit`]); either way `commit` returns once the change is durable.
pub enum Tx {
    Sqlite(GateTx),
    Postgres(PgTx),
}

/// A PostgreSQL transaction, and the statements queued to run just before it commits ([`Tx::later`],
/// [`Tx::at_commit`]): all of them in one statement, each a data-modifying `WITH` part of it, so a change's
/// audit line, mail and search row cost one round trip together instead of one each.
pub struct PgTx {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// Statements queued by [`Tx::later`], their parameters numbered after the ones queued before.
    later: Vec<String>,
    values: Vec<Value>,
    /// Statements queued by [`Tx::at_commit`], each with the ids it gets.
    at_commit: Vec<(&'static str, Vec<i64>)>,
}

impl PgTx {
    pub fn conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }

    fn later(&mut self, sql: &str, values: Vec<Value>) {
        let mut shifted = String::new();
        crate::group_commit::shift_parameters(sql, self.values.len(), &mut shifted);
        self.later.push(shifted);
        self.values.extend(values);
    }

    fn at_commit(&mut self, sql: &'static str, id: i64) {
        match self.at_commit.iter_mut().find(|(queued, _)| *queued == sql) {
            Some((_, ids)) => ids.push(id),
            None => self.at_commit.push((sql, vec![id])),
        }
    }

    /// The queued statements as one, and its arguments; `None` when nothing is queued.
    fn queued(&mut self) -> Result<Option<(String, sqlx::postgres::PgArguments)>, sqlx::Error> {
        use sqlx::Arguments;
        let mut arguments = sqlx::postgres::PgArguments::default();
        let mut count = self.values.len();
        for value in std::mem::take(&mut self.values) {
            match value {
                Value::Int(v) => arguments.add(v),
                Value::Text(v) => arguments.add(v),
                Value::Time(v) => arguments.add(v),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        let mut statements = std::mem::take(&mut self.later);
        for (sql, mut ids) in std::mem::take(&mut self.at_commit) {
            ids.sort_unstable();
            ids.dedup();
            let mut shifted = String::new();
            crate::group_commit::shift_parameters(sql, count, &mut shifted);
            statements.push(shifted);
            arguments.add(ids).map_err(sqlx::Error::Encode)?;
            count += 1;
        }
        let Some(last) = statements.pop() else {
            return Ok(None);
        };
        if statements.is_empty() {
            return Ok(Some((last, arguments)));
        }
        let mut sql = String::from("with ");
        for (i, statement) in statements.iter().enumerate() {
            if i > 0 {
                sql.push_str(",\n     ");
            }
            sql.push_str(&format!("queued{i} as ({statement})"));
        }
        sql.push('\n');
        sql.push_str(&last);
        Ok(Some((sql, arguments)))
    }

    async fn commit(mut self) -> Result<(), sqlx::Error> {
        if let Some((sql, arguments)) = self.queued()? {
            sqlx::query_with(&sql, arguments).execute(&mut *self.tx).await?;
        }
        self.tx.commit().await
    }
}

impl Tx {
    /// A statement whose result nobody reads, run at the end of this transaction: on SQLite at the end of
    /// this writer's part, in the same trip as the end ([`GateTx::later`], whose limits apply); on
    /// PostgreSQL with the other queued statements, in one statement just before `COMMIT`. Either way it
    /// sees what the transaction wrote before it, and a failure there fails the commit. `sql` (an
    /// `insert`, `update` or `delete`, without `--` comments, as it may become part of a larger statement)
    /// numbers its parameters from `$1`, `values` gives them in that order.
    pub fn later(&mut self, sql: &str, values: Vec<Value>) {
        match self {
            Tx::Sqlite(tx) => tx.later(sql, values),
            Tx::Postgres(tx) => tx.later(sql, values),
        }
    }

    /// Asks for `sql` to run once just before the transaction commits, with `id` among the ids it gets in
    /// `$1`: on SQLite `sqlite`, the ids a JSON array ([`GateTx::at_commit`], with every writer's ids of the
    /// shared transaction); on PostgreSQL `postgres`, the ids a `bigint[]`, queued as [`Tx::later`]'s
    /// statements are. Each id is passed once however often it is asked for.
    pub fn at_commit(&mut self, sqlite: &'static str, postgres: &'static str, id: i64) {
        match self {
            Tx::Sqlite(tx) => tx.at_commit(sqlite, id),
            Tx::Postgres(tx) => tx.at_commit(postgres, id),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

impl Db {
    /// Begins a write transaction. On SQLite it takes the database's write lock at once, queued in this
    /// process ([`WriteGate`]), inside a transaction begun with `BEGIN IMMEDIATE`: a deferred transaction
    /// that reads first and writes later cannot wait for a concurrent writer and fails with "database is
    /// locked" instead.
    ///
    /// [`WriteGate`]: crate::group_commit::WriteGate
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(db) => Tx::Sqlite(db.begin_write().await?),
            Db::Postgres(pg) => Tx::Postgres(PgTx {
                tx: pg.begin().await?,
                later: Vec::new(),
                values: Vec::new(),
                at_commit: Vec::new(),
            }),
        })
    }
}
