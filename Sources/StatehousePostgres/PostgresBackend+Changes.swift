import PostgresNIO
public import StatehouseCore
public import StatehouseModel

/// How a daemon hears of commits other daemons make (docs/architecture.md, "PostgreSQL"): every commit notifies
/// ``changesChannel`` with "NAMESPACE COMMIT_TS" for each head it moved, and each daemon listens on one pooled
/// connection. A notification can be missed (the listening connection drops, the database restarts), so the heads
/// are also read every ``pollInterval``: a missed notification delays a watcher by at most that.
extension PostgresBackend: SharedLogStorage {
    static let changesChannel = "statehouse_commits"
    static let pollInterval: Duration = .seconds(1)

    public func logChanges() -> AsyncStream<(namespace: String, commitTS: CommitTS)> {
        AsyncStream { continuation in
            let listener = Task {
                while !Task.isCancelled {
                    do {
                        try await self.client.withConnection { connection in
                            for try await notification in try await connection.listen(Self.changesChannel) {
                                if let change = Self.change(notification.payload) { continuation.yield(change) }
                            }
                        }
                    } catch {
                        if Task.isCancelled { break }
                        self.logger.warning(
                            "Listening for other daemons' commits failed; polling covers the gap, listening again",
                            metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: Self.pollInterval)
                }
            }
            let poller = Task {
                // Only heads that moved since the last poll: an unchanged namespace is no news, and a sequencer busy
                // reading must not find thousands of repeats queued behind it.
                var known: [String: CommitTS] = [:]
                while !Task.isCancelled {
                    do {
                        try await Task.sleep(for: Self.pollInterval)
                        for head in try await self.allHeads() where known[head.namespace] != head.commitTS {
                            known[head.namespace] = head.commitTS
                            continuation.yield(head)
                        }
                    } catch is CancellationError {
                        break
                    } catch {
                        self.logger.debug("Polling the heads failed", metadata: ["error": "\(error)"])
                    }
                }
            }
            continuation.onTermination = { _ in
                listener.cancel()
                poller.cancel()
            }
        }
    }

    /// "NAMESPACE COMMIT_TS" (a namespace has no spaces).
    static func change(_ payload: String) -> (namespace: String, commitTS: CommitTS)? {
        let parts = payload.split(separator: " ")
        guard parts.count == 2, let commitTS = CommitTS(parts[1]) else { return nil }
        return (String(parts[0]), commitTS)
    }

    private func allHeads() async throws -> [(namespace: String, commitTS: CommitTS)] {
        try await self.read("polling the heads") { connection in
            let rows = try await connection.query(
                "SELECT name, last_commit_ts FROM statehouse_namespaces WHERE last_commit_ts > 0", logger: self.logger)
            var heads: [(namespace: String, commitTS: CommitTS)] = []
            for try await (name, commitTS) in rows.decode((String, Int64).self) {
                heads.append((name, PostgresColumns.uint(commitTS)))
            }
            return heads
        }
    }
}
