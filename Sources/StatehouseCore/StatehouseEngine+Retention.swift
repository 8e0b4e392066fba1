import Logging
import Synchronization

/// Retention and expiry (docs/architecture.md, "Retention and expiry"): each namespace's policy is a record in its own
/// log (`@settings/retention`), so changing it is a commit like any other; compaction removes the values the policy no
/// longer keeps, keeping every event, digest and proof; the expiry sweep commits the deletes of keys whose expiry
/// passed (reads leave them out from that moment on).
extension StatehouseEngine {
    /// Sets the namespace's retention policy, or with `nil` removes it so the daemon's default applies again.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a negative rule, a count above
    ///   ``maxKeepVersions`` or a duration that is not whole seconds.
    @discardableResult
    public func setRetention(
        namespace: String = "default", policy: RetentionPolicy?, metadata: CommitMetadata = CommitMetadata()
    ) async throws -> ResolvedRetention {
        try self.validateNamespace(namespace)
        if let policy {
            guard (0...RetentionPolicy.maxKeepVersions).contains(policy.keepVersions) else {
                throw StatehouseError.invalidArgument(
                    "keep_versions must be between 0 (no count rule) and \(RetentionPolicy.maxKeepVersions); got \(policy.keepVersions)"
                )
            }
            guard policy.keepFor >= .zero, policy.keepFor.components.attoseconds == 0 else {
                throw StatehouseError.invalidArgument("keep_for must be a whole, non-negative number of seconds")
            }
        }
        let stored = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.settingsAgent, key: ReservedNames.retentionKey, at: .latest)
        if policy == nil, !stored.exists { return try await self.retention(namespace: namespace) }
        let description = policy.map { "set retention: keep \($0.keptDescription)" } ?? "use the default retention"
        try await self.commitRecord(
            namespace: namespace, agent: ReservedNames.settingsAgent, key: ReservedNames.retentionKey,
            value: policy.map(LifecycleRecordCodec.value), readVersion: stored.version, reason: description,
            metadata: metadata)
        return try await self.retention(namespace: namespace)
    }

    /// The namespace's retention policy in force and where it comes from.
    public func retention(namespace: String = "default") async throws -> ResolvedRetention {
        try self.validateNamespace(namespace)
        let stored = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.settingsAgent, key: ReservedNames.retentionKey, at: .latest)
        if let value = stored.value {
            return ResolvedRetention(
                namespace: namespace, policy: try LifecycleRecordCodec.retention(value), source: .namespace,
                commitTS: stored.commitTS)
        }
        let fallback = self.configuration.defaultRetention
        return ResolvedRetention(
            namespace: namespace, policy: fallback, source: fallback.keepsEverything ? .none : .default)
    }

    /// Removes the values the namespace's policy no longer keeps, and those of superseded expired puts, from every
    /// user agent's keys (reserved records keep their history); optionally VACUUMs after. Runs in steps of
    /// ``EngineConfiguration/compactionStepSize`` values, each its own storage transaction, so commits go on.
    public func compact(namespace: String = "default", vacuum: Bool = false) async throws -> CompactionReport {
        try self.validateNamespace(namespace)
        return try await self.compactionGate.withLock {
            let policy = try await self.retention(namespace: namespace)
            var report = CompactionReport(namespace: namespace, policy: policy)
            report.fileBytesBefore = try await self.backend.storeFileBytes()
            let now = self.clock.wallMicroseconds()
            let points = try await self.snapshotPoints(namespace: namespace, now: now)
            if policy.policy.keepsEverything {
                // Only expired values can go: found through the expiry index, not by reading every version.
                try await self.compactExpired(namespace: namespace, now: now, points: points, report: &report)
            } else {
                var after: String?
                while true {
                    let agents = try await self.backend.listAgents(
                        namespace: namespace, after: after, limit: 1000, includeReserved: false)
                    for agent in agents {
                        let rule = RetentionRule(
                            policy: policy.policy, now: now, snapshotPoints: points.sorted(for: agent))
                        try await self.compact(namespace: namespace, agent: agent, rule: rule, report: &report)
                    }
                    guard agents.count == 1000, let last = agents.last else { break }
                    after = last
                }
            }
            if vacuum { try await self.backend.vacuum() }
            report.fileBytesAfter = try await self.backend.storeFileBytes()
            if report.valuesRemoved > 0 || vacuum {
                self.logger.info(
                    "Compacted",
                    metadata: [
                        "namespace": "\(namespace)", "values_removed": "\(report.valuesRemoved)",
                        "value_bytes_removed": "\(report.valueBytesRemoved)",
                        "file_bytes": "\(report.fileBytesBefore) -> \(report.fileBytesAfter)",
                    ])
            }
            return report
        }
    }

    /// One agent's keys, read in pages of whole keys. Values are removed in storage order (a step then rewrites few
    /// pages: versions written together sit together), ``EngineConfiguration/compactionStepSize`` per step, once
    /// sixteen steps' worth are found and at the end.
    private func compact(
        namespace: String, agent: String, rule: RetentionRule, report: inout CompactionReport
    ) async throws {
        var afterKey: String?
        var pageSize = 4096
        var pending: [KeyVersion] = []
        let step = self.configuration.compactionStepSize
        while true {
            let rows = try await self.backend.versionSummaries(
                namespace: namespace, agentID: agent, afterKey: afterKey, limit: pageSize)
            guard let last = rows.last else { break }
            // A full page may end inside a key: that key is read again with the next page.
            var complete = rows[...]
            if rows.count == pageSize {
                let cut = rows.firstIndex { $0.key == last.key }!
                if cut == 0 {
                    pageSize *= 2  // one key with more versions than a page: read it whole
                    continue
                }
                complete = rows[..<cut]
            }
            var start = complete.startIndex
            while start < complete.endIndex {
                var end = start + 1
                while end < complete.endIndex, complete[end].key == complete[start].key { end += 1 }
                for version in rule.removable(complete[start..<end]) {
                    pending.append(KeyVersion(key: version.key, version: version.version, position: version.position))
                }
                start = end
            }
            report.versionsExamined += complete.count
            if pending.count >= 16 * step {
                try await self.removeValues(namespace: namespace, agent: agent, pending, report: &report)
                pending.removeAll(keepingCapacity: true)
            }
            if rows.count < pageSize { break }
            afterKey = complete.last!.key
        }
        try await self.removeValues(namespace: namespace, agent: agent, pending, report: &report)
    }

    /// Under a policy that keeps everything: removes the values of superseded puts whose expiry passed, unless a live
    /// snapshot names a point of the span they were current in.
    private func compactExpired(
        namespace: String, now: Microseconds, points: SnapshotPoints,
        report: inout CompactionReport
    ) async throws {
        var after: ExpiredValue.Cursor?
        while true {
            let page = try await self.backend.expiredValues(namespace: namespace, now: now, after: after, limit: 1000)
            guard let last = page.last else { return }
            report.versionsExamined += page.count
            var pending: [String: [KeyVersion]] = [:]
            for expired in page where expired.nextCommitTS > 0 && !ReservedNames.isReserved(expired.agentID) {
                let rule = RetentionRule(
                    policy: .keepEverything, now: now, snapshotPoints: points.sorted(for: expired.agentID))
                guard !rule.snapshotNeeds(from: expired.version.commitTS, before: expired.nextCommitTS) else {
                    continue
                }
                pending[expired.agentID, default: []].append(
                    KeyVersion(
                        key: expired.version.key, version: expired.version.version, position: expired.version.position))
            }
            for (agent, versions) in pending {
                try await self.removeValues(namespace: namespace, agent: agent, versions, report: &report)
            }
            if page.count < 1000 { return }
            after = last.cursor
        }
    }

    private func removeValues(
        namespace: String, agent: String, _ versions: [KeyVersion], report: inout CompactionReport
    ) async throws {
        let ordered = versions.sorted { $0.position < $1.position }
        let step = self.configuration.compactionStepSize
        for start in stride(from: 0, to: ordered.count, by: step) {
            let removed = try await self.backend.removeValues(
                namespace: namespace, agentID: agent, versions: Array(ordered[start..<min(start + step, ordered.count)])
            )
            report.valuesRemoved += removed.count
            report.valueBytesRemoved += removed.bytes
            // Leave the writer to commits between steps.
            try await Task.sleep(for: self.configuration.compactionPause)
        }
    }

    /// The commit_ts values live snapshots of the namespace name.
    private func snapshotPoints(namespace: String, now: Microseconds) async throws -> SnapshotPoints {
        SnapshotPoints(try await self.snapshotRecords(namespace: namespace).filter { !$0.isExpired(at: now) })
    }

    /// Compacts every namespace whose policy removes something, or that may hold expired values (all of them: an
    /// expired value goes whatever the policy); returns the reports of those where values were removed.
    @discardableResult
    public func compactAll() async throws -> [CompactionReport] {
        var reports: [CompactionReport] = []
        try await self.forEachNamespace { namespace in
            let report = try await self.compact(namespace: namespace)
            if report.valuesRemoved > 0 { reports.append(report) }
        }
        return reports
    }

    /// Commits the deletes of keys whose expiry has passed (reason "expired"), each on condition that the expired
    /// version is still the key's latest; returns how many keys it deleted.
    @discardableResult
    public func sweepExpiredKeys() async throws -> Int {
        let now = self.clock.wallMicroseconds()
        // A minute back: a put committed while the previous sweep ran is not missed.
        let from = self.expirySweptUntil.withLock { $0 == .min ? .min : $0 - 60_000_000 }
        var deleted = 0
        for _ in 0..<64 {  // bounded; what is left is found by the next sweep
            let expired = try await self.backend.expiredKeys(expiredAfter: from, now: now, limit: 1000)
            guard !expired.isEmpty else { break }
            var progressed = false
            for (namespace, keys) in Dictionary(grouping: expired, by: \.namespace) {
                do {
                    _ = try await self.systemCommit(
                        namespace: namespace,
                        operations: keys.map { .delete(agentID: $0.agentID, key: $0.key) },
                        conditions: keys.map {
                            KeyCondition(agentID: $0.agentID, key: $0.key, requirement: .unchangedSinceRead($0.version))
                        },
                        metadata: CommitMetadata(reason: "expired: \(keys.count) key(s)"))
                    deleted += keys.count
                    progressed = true
                } catch StatehouseError.conflict(let agentID, let key, _, _) {
                    // Written again since it was found; the next round finds the rest without it.
                    self.logger.debug("Expiry sweep conflict", metadata: ["agent.id": "\(agentID)", "key": "\(key)"])
                    progressed = true
                }
            }
            if !progressed || expired.count < 1000 { break }
        }
        self.expirySweptUntil.withLock { $0 = max($0, now) }
        return deleted
    }

    func runExpirySweeper() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: self.configuration.expirySweepInterval)
            } catch {
                return
            }
            do {
                let deleted = try await self.sweepExpiredKeys()
                if deleted > 0 { self.logger.debug("Expired keys deleted", metadata: ["keys": "\(deleted)"]) }
            } catch {
                self.logger.warning("Sweeping expired keys failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Installs what runs after each background compaction, with the reports of the namespaces that lost values (for
    /// what compaction frees beyond the store: the daemon collects artifacts no value names any more, and recounts
    /// stored bytes for its quotas); `nil` removes it.
    public func setCompactionFollowUp(_ followUp: (@Sendable ([CompactionReport]) async -> Void)?) {
        self.compactionFollowUp.withLock { $0 = followUp }
    }

    func runCompactor() async {
        guard self.configuration.compactionInterval > .zero else { return }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: self.configuration.compactionInterval)
            } catch {
                return
            }
            var reports: [CompactionReport] = []
            do {
                reports = try await self.compactAll()
            } catch is CancellationError {
                return
            } catch {
                self.logger.warning("Compaction failed", metadata: ["error": "\(error)"])
            }
            // Also after a failure: one namespace that cannot be compacted must not stop the others' follow-up.
            if let followUp = self.compactionFollowUp.withLock({ $0 }) { await followUp(reports) }
        }
    }

    /// A read error about a removed value, with what the namespace's policy keeps added.
    func explainingRetention<T>(namespace: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch StatehouseError.failedPrecondition(let message) {
            let kept = (try? await self.retention(namespace: namespace).policy.keptDescription) ?? "unknown"
            throw StatehouseError.failedPrecondition(message + " (kept: \(kept))")
        }
    }
}

/// The points live snapshots name in a namespace, each agent's merged with the namespace-wide ones and sorted once, for
/// ``RetentionRule``.
struct SnapshotPoints {
    private let namespaceWide: [CommitTS]
    private let byAgent: [String: [CommitTS]]

    init(_ snapshots: [SnapshotRecord]) {
        let namespaceWide = snapshots.filter { $0.agentID == nil }.map(\.commitTS).sorted()
        var byAgent: [String: [CommitTS]] = [:]
        for snapshot in snapshots {
            if let agent = snapshot.agentID { byAgent[agent, default: []].append(snapshot.commitTS) }
        }
        self.namespaceWide = namespaceWide
        self.byAgent = byAgent.mapValues { ($0 + namespaceWide).sorted() }
    }

    /// The sorted points that concern `agent`: its own snapshots' and the namespace's.
    func sorted(for agent: String) -> [CommitTS] { self.byAgent[agent] ?? self.namespaceWide }
}
