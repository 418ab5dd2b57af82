//! Plain SQL against a test's database, to check what the API cannot show.

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;

use super::library::Db;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A row of up to four text columns `a`, `b`, `c`, `d` (NULL as None).
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct Row {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub a: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub b: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub c: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub d: Option<String>,
}

impl Row {
    pub fn a(&self) -> &str {
        self.a.as_deref().unwrap_or_default()
    }
    pub fn b(&self) -> &str {
        self.b.as_deref().unwrap_or_default()
    }
    pub fn c(&self) -> &str {
        self.c.as_deref().unwrap_or_default()
    }
    pub fn d(&self) -> &str {
        self.d.as_deref().unwrap_or_default()
    }
}

/// The value of a `SELECT … AS n` returning one integer.
pub async fn count(db: &Db, sql: &str) -> i64 {
    let (db, sql) = (db.clone(), sql.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("the test reaches its database");
        let counts = diesel::sql_query(&sql).load::<Count>(&mut *conn);
        counts.unwrap_or_else(|e| panic!("{sql}: {e}"))[0].n
    })
    .await
    .unwrap()
}

/// Rows of a `SELECT x AS a, y AS b …` over text columns.
pub async fn rows(db: &Db, sql: &str) -> Vec<Row> {
    let (db, sql) = (db.clone(), padded(sql));
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("the test reaches its database");
        let rows = diesel::sql_query(&sql).load::<Row>(&mut *conn);
        rows.unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
    .await
    .unwrap()
}

/// The first column of every row.
pub async fn strings(db: &Db, sql: &str) -> Vec<String> {
    rows(db, sql)
        .await
        .into_iter()
        .map(|row| row.a.unwrap_or_default())
        .collect()
}

pub async fn execute(db: &Db, sql: &str) {
    let (db, sql) = (db.clone(), sql.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("the test reaches its database");
        let done = conn.batch_execute(&sql);
        done.unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
    .await
    .unwrap()
}

/// Missing columns `b`, `c`, `d` are selected as NULL so one row type fits every query.
fn padded(sql: &str) -> String {
    let lower = sql.to_ascii_lowercase();
    let from = lower.find(" from ").expect("a SELECT … FROM");
    let mut extra = String::new();
    for column in ["b", "c", "d"] {
        if !lower[..from].contains(&format!(" as {column}")) {
            extra.push_str(&format!(", CAST(NULL AS TEXT) AS {column}"));
        }
    }
    format!("{}{extra}{}", &sql[..from], &sql[from..])
}
