/// A per-key version: 1 on the first write of a key, +1 on every later write or delete.
public typealias Version = UInt64

/// A namespace's commit sequence number: 1, 2, 3 … with no gaps, one per committed transaction.
public typealias CommitTS = UInt64

/// Wall-clock time in microseconds since the Unix epoch.
public typealias Microseconds = Int64
