//! Transaction isolation levels, as `--isolation` names them, and which store offers which.

use serde::{Deserialize, Serialize};

use super::StoreKind;

/// The level a `transaction` increment's `BEGIN` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// Dirty reads allowed: InnoDB reads uncommitted rows; PostgreSQL runs it as read committed.
    ReadUncommitted,
    ReadCommitted,
    RepeatableRead,
    /// MariaDB's REPEATABLE READ with `innodb_snapshot_isolation = ON`: a write to a row
    /// changed since the transaction's snapshot fails (1020) instead of overwriting it.
    #[serde(rename = "repeatable-read+snapshot")]
    RepeatableReadSnapshot,
    Serializable,
}

impl Isolation {
    pub const ALL: [Isolation; 5] = [
        Isolation::ReadUncommitted,
        Isolation::ReadCommitted,
        Isolation::RepeatableRead,
        Isolation::RepeatableReadSnapshot,
        Isolation::Serializable,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "read-uncommitted",
            Isolation::ReadCommitted => "read-committed",
            Isolation::RepeatableRead => "repeatable-read",
            Isolation::RepeatableReadSnapshot => "repeatable-read+snapshot",
            Isolation::Serializable => "serializable",
        }
    }

    /// The level's name in SQL.
    pub fn sql(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "READ UNCOMMITTED",
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead | Isolation::RepeatableReadSnapshot => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Isolation::ALL
            .into_iter()
            .find(|l| l.name() == text)
            .ok_or_else(|| {
                format!(
                    "unknown isolation level '{text}': racedemo knows {}",
                    Isolation::ALL.map(Isolation::name).join(", ")
                )
            })
    }

    /// Whether `store` offers this level, or why not. MariaDB's snapshot level depends on the
    /// server's version too, which only a connection can tell.
    pub fn offered_by(self, store: StoreKind) -> Result<(), &'static str> {
        match (store, self) {
            (StoreKind::Postgres, Isolation::RepeatableReadSnapshot) => Err(
                "PostgreSQL's repeatable-read is snapshot isolation already: it aborts (40001) \
                 where MariaDB's snapshot option does",
            ),
            (StoreKind::Postgres | StoreKind::Mysql, _) => Ok(()),
            (StoreKind::Sqlite, _) => Err(
                "SQLite has one level: its transactions are serializable (a stale write fails \
                 with SQLITE_BUSY)",
            ),
            (StoreKind::Redis, _) => Err("Redis has no isolation levels"),
            (StoreKind::File | StoreKind::Memory, _) => Err(
                "isolation levels are for database transactions (--store postgres://… or mysql://…)",
            ),
        }
    }

    /// What `store` really runs when asked for this level, where that is another level: said
    /// beside the level in headers and the matrix.
    pub fn runs_as(self, store: StoreKind) -> Option<&'static str> {
        match (store, self) {
            (StoreKind::Postgres, Isolation::ReadUncommitted) => {
                Some("PostgreSQL runs read uncommitted as read committed")
            }
            _ => None,
        }
    }

    /// The level a store's transactions get when none is asked for.
    pub fn default_for(store: StoreKind) -> Option<Isolation> {
        match store {
            StoreKind::Postgres => Some(Isolation::ReadCommitted),
            StoreKind::Mysql => Some(Isolation::RepeatableRead),
            StoreKind::Sqlite => Some(Isolation::Serializable),
            _ => None,
        }
    }

    /// The levels `racedemo isolation` tries on a store, weakest first.
    pub fn levels(store: StoreKind) -> Vec<Isolation> {
        Isolation::ALL
            .into_iter()
            .filter(|l| l.offered_by(store).is_ok())
            .collect()
    }
}

impl std::fmt::Display for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_back_by_name_and_each_store_offers_its_own() {
        for l in Isolation::ALL {
            assert_eq!(Isolation::parse(l.name()), Ok(l));
            let json = serde_json::to_string(&l).unwrap();
            assert_eq!(json, format!("\"{}\"", l.name()));
        }
        assert!(
            Isolation::parse("snapshot")
                .unwrap_err()
                .contains("read-committed")
        );
        assert_eq!(Isolation::levels(StoreKind::Postgres).len(), 4);
        assert_eq!(Isolation::levels(StoreKind::Mysql).len(), 5);
        assert!(
            Isolation::ReadUncommitted
                .runs_as(StoreKind::Postgres)
                .is_some_and(|s| s.contains("read committed"))
        );
        assert_eq!(Isolation::ReadUncommitted.runs_as(StoreKind::Mysql), None);
        assert!(Isolation::levels(StoreKind::Redis).is_empty());
    }
}
