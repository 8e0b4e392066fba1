public import StatehouseCore

/// Every capability of the SQLite store, on PostgreSQL (docs/architecture.md, "PostgreSQL").
extension PostgresBackend: StorageBackend {}
