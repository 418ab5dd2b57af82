//! The errors of the database layer, in the terms its callers act on.

/// What went wrong with a database call.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database is away, busy or locked: a retry later may work (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused the row.
    #[error("unique violation: {0}")]
    UniqueViolation(String),
    /// A row that had to exist does not.
    #[error("row not found")]
    NotFound,
    /// Anything else: a bug or a broken invariant.
    #[error(transparent)]
    Other(anyhow::Error),
}

pub type DbResult<T> = Result<T, DbError>;

impl DbError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DbError::Unavailable(_))
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => DbError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                DbError::Unavailable(info.message().to_owned())
            }
            Error::DatabaseError(kind, info) if is_unavailable(info.message()) => {
                DbError::Unavailable(format!("{kind:?}: {}", info.message()))
            }
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                DbError::UniqueViolation(info.message().to_owned())
            }
            Error::BrokenTransactionManager => {
                DbError::Unavailable("broken transaction manager".into())
            }
            other => DbError::Other(anyhow::Error::new(other)),
        }
    }
}

impl From<r2d2::Error> for DbError {
    fn from(error: r2d2::Error) -> Self {
        DbError::Unavailable(error.to_string())
    }
}

/// Database faults that are the database being away or busy, not a bug: answer 503.
fn is_unavailable(message: &str) -> bool {
    const TRANSIENT: [&str; 8] = [
        "database is locked",
        "database is busy",
        "server closed the connection",
        "terminating connection",
        "connection to server",
        "could not connect",
        "no connection to the server",
        "the database system is",
    ];
    TRANSIENT.iter().any(|needle| message.contains(needle))
}

/// Background work (the worker's loops, the command line) speaks `anyhow`.
impl super::StoreError for anyhow::Error {
    fn is_unavailable(&self) -> bool {
        self.downcast_ref::<DbError>()
            .is_some_and(DbError::is_unavailable)
    }
}
