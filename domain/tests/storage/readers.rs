//! Rows read by column position: every statement read into a positional reader selects that reader's
//! columns first and in its order, on each backend.

use crate::helpers::TestEnv;
use sqlx::{Column, Executor};

testkit::both_backends!(setup = crate::helpers::env; every_positional_statement_selects_its_readers_columns_in_order);

async fn every_positional_statement_selects_its_readers_columns_in_order(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let statements = domain::workspace::positional_statements();
    assert!(statements.len() >= 3);
    for (reader, order, sql) in statements {
        let columns: Vec<String> = domain::on_db!(ws.db(), conn => conn
            .describe(&sql)
            .await
            .map(|described| described.columns().iter().map(|c| c.name().to_owned()).collect()))
        .unwrap_or_else(|e| panic!("{reader}: {e}"));
        assert!(
            columns.len() >= order.len() && columns[..order.len()] == *order,
            "{reader} reads {order:?} but its statement selects {columns:?}"
        );
    }
}
