//! Statements queued to run at the end of a writer's part ([`GateTx::later`](super::GateTx::later)) or once
//! before the shared transaction commits ([`GateTx::at_commit`](super::GateTx::at_commit)), and their
//! parameters.

use chrono::{DateTime, Utc};
use sqlx::{Arguments, Executor, SqliteConnection, sqlite::SqliteArguments};

/// Statements to run once before the shared transaction commits, in the order first asked for, each with
/// the ids (a JSON array as `$1`) of every writer that asked for it.
#[derive(Debug, Default)]
pub(super) struct AtCommit(Vec<(&'static str, Vec<i64>)>);

impl AtCommit {
    pub(super) fn add(&mut self, sql: &'static str, id: i64) {
        match self.0.iter_mut().find(|(s, _)| *s == sql) {
            Some((_, ids)) => ids.push(id),
            None => self.0.push((sql, vec![id])),
        }
    }

    pub(super) fn append(&mut self, other: AtCommit) {
        for (sql, ids) in other.0 {
            for id in ids {
                self.add(sql, id);
            }
        }
    }

    /// Queues the statements onto `later`, each with its distinct ids.
    pub(super) fn queue(&mut self, later: &mut Later) {
        for (sql, mut ids) in self.0.drain(..) {
            ids.sort_unstable();
            ids.dedup();
            let ids = format!("[{}]", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
            later.push(sql, vec![Value::Text(Some(ids))]);
        }
    }
}

/// A parameter's value for a statement queued by [`GateTx::later`](super::GateTx::later).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Time(DateTime<Utc>),
}

impl Value {
    pub fn text(value: impl Into<String>) -> Value {
        Value::Text(Some(value.into()))
    }
}

/// A writer's statements queued by [`GateTx::later`](super::GateTx::later).
#[derive(Debug, Default)]
pub(super) struct Later {
    sql: String,
    values: Vec<Value>,
}

impl Later {
    pub(super) fn push(&mut self, sql: &str, values: Vec<Value>) {
        shift_parameters(sql, self.values.len(), &mut self.sql);
        self.sql.push_str(";\n");
        self.values.extend(values);
    }

    /// Runs the queued statements and then `then`, in one trip.
    pub(super) async fn run(self, conn: &mut SqliteConnection, then: &str) -> Result<(), sqlx::Error> {
        if self.sql.is_empty() {
            conn.execute(then).await?;
            return Ok(());
        }
        let mut arguments = SqliteArguments::default();
        for value in self.values {
            match value {
                Value::Int(v) => arguments.add(v),
                Value::Text(v) => arguments.add(v),
                Value::Time(v) => arguments.add(v),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        let sql = self.sql + then;
        conn.execute(sqlx::query_with(&sql, arguments)).await?;
        Ok(())
    }
}

/// Appends `sql` to `out` with each parameter `$n` (outside quotes) renumbered `$n+offset`.
pub(crate) fn shift_parameters(sql: &str, offset: usize, out: &mut String) {
    let mut chars = sql.chars().peekable();
    let mut quote = None;
    while let Some(c) = chars.next() {
        out.push(c);
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                match digits.parse::<usize>() {
                    Ok(n) => out.push_str(&(n + offset).to_string()),
                    Err(_) => out.push_str(&digits),
                }
            }
            (None, _) => {}
        }
    }
}
