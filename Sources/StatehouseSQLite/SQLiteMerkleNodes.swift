import StatehouseCore
import StatehouseLedger

/// The stored Merkle tree of every namespace, kept in the events table itself.
///
/// Appending leaf n (the event with commit_ts t = n + 1) completes the perfect subtrees of levels 0 through
/// trailingZeros(t): the leaf, then each parent it closes. The event's row stores their hashes in column
/// `merkle_nodes`, level 0 first, 32 bytes each (`MerkleFrontier.appendNodeHashes` makes the column), so node
/// (level l, index i) is bytes [32·l, 32·l + 32) of the row whose commit_ts is (i + 1)·2^l. The row is written anyway
/// and its page is already dirty: the tree costs a commit no index page of its own (index pages written per commit are
/// what bound durable commit throughput, see docs/benchmarks.md), where a table of nodes cost 5–12 % of
/// single-committer throughput.
enum SQLiteMerkleNodes {
    /// Nodes a reader has read, kept across reads: a stored node never changes once its event is committed, so the
    /// upper nodes that every proof and root passes through are read from SQLite once. Confined to one reader
    /// thread; emptied when full rather than tracking recency (a proof needs O(log n) nodes, most of them upper ones
    /// that come straight back).
    final class Cache {
        private struct Key: Hashable {
            var namespaceID: Int64
            var level: Int
            var index: UInt64
        }

        private var nodes: [Key: EventHash] = [:]
        /// Roots by (namespace, tree size): the root of a size never changes either.
        private var roots: [Key: EventHash] = [:]
        private let capacity: Int

        init(capacity: Int = 32_768) { self.capacity = capacity }

        fileprivate func get(_ namespaceID: Int64, _ address: NodeAddress) -> EventHash? {
            self.nodes[Key(namespaceID: namespaceID, level: address.level, index: address.index)]
        }

        func root(_ namespaceID: Int64, size: UInt64) -> EventHash? {
            self.roots[Key(namespaceID: namespaceID, level: -1, index: size)]
        }

        func putRoot(_ namespaceID: Int64, size: UInt64, _ hash: EventHash) {
            if self.roots.count >= 1024 { self.roots.removeAll(keepingCapacity: true) }
            self.roots[Key(namespaceID: namespaceID, level: -1, index: size)] = hash
        }

        fileprivate func put(_ namespaceID: Int64, _ address: NodeAddress, _ hash: EventHash) {
            if self.nodes.count >= self.capacity { self.nodes.removeAll(keepingCapacity: true) }
            self.nodes[Key(namespaceID: namespaceID, level: address.level, index: address.index)] = hash
        }
    }

    /// Stored nodes of one namespace, read on one connection (inside the caller's snapshot).
    struct Source: MerkleNodeSource {
        let connection: SQLiteConnection
        let namespaceID: Int64
        var cache: Cache?

        init(connection: SQLiteConnection, namespaceID: Int64, cache: Cache? = nil) {
            self.connection = connection
            self.namespaceID = namespaceID
            self.cache = cache
        }

        func node(_ address: NodeAddress) throws -> EventHash {
            if let hash = self.cache?.get(self.namespaceID, address) { return hash }
            let hash = try self.read(address)
            self.cache?.put(self.namespaceID, address, hash)
            return hash
        }

        private func read(_ address: NodeAddress) throws -> EventHash {
            let commitTS = (address.index + 1) << UInt64(address.level)
            let statement = try self.connection.statement(
                "SELECT substr(merkle_nodes, ?, 32) FROM events WHERE ns_id = ? AND commit_ts = ?")
            statement.bind(0, Int64(address.level * 32 + 1))
            statement.bind(1, self.namespaceID)
            statement.bind(2, commitTS)
            guard try statement.step(), let hash = statement.hash(0) else {
                statement.reset()
                throw StatehouseError.dataCorruption(
                    commitTS: commitTS, reason: "the event does not hold the Merkle tree's \(address)")
            }
            statement.reset()
            return hash
        }
    }

    /// Builds the tree of every namespace from its stored events (the migration that added the tree).
    static func build(on connection: SQLiteConnection) throws {
        var namespaces: [(id: Int64, name: String, size: UInt64)] = []
        let list = try connection.statement("SELECT id, name, last_commit_ts FROM namespaces ORDER BY id")
        while try list.step() { namespaces.append((list.int64(0), list.text(1), list.uint64(2))) }
        connection.releaseStatements()
        for namespace in namespaces {
            var frontier = MerkleFrontier()
            while frontier.size < namespace.size {
                let update = try connection.statement(
                    "UPDATE events SET merkle_nodes = ? WHERE ns_id = ? AND commit_ts = ?")
                let events = try SQLiteQueries.events(
                    EventQuery(
                        namespace: namespace.name, fromCommitTS: frontier.size + 1, toCommitTS: namespace.size,
                        limit: 1000),
                    namespaceID: namespace.id, on: connection, beforeMigration5: true)
                guard !events.isEmpty else {
                    throw StatehouseError.dataCorruption(
                        commitTS: frontier.size + 1, reason: "the event is missing from the log")
                }
                for event in events {
                    guard event.commitTS == frontier.size + 1 else {
                        throw StatehouseError.dataCorruption(
                            commitTS: frontier.size + 1, reason: "the event is missing from the log")
                    }
                    let nodes = frontier.appendNodeHashes(leafHash: LeafEncoding.leafHash(event))
                    update.reset()
                    update.bind(0, blob: nodes)
                    update.bind(1, namespace.id)
                    update.bind(2, event.commitTS)
                    try update.run()
                }
                connection.releaseStatements()
            }
        }
    }
}
