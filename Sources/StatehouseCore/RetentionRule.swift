/// Which versions of one key a compaction removes the values of (docs/architecture.md, "Retention and expiry").
///
/// A version keeps its value when it is the key's latest; when a live snapshot's point falls in the span it was
/// current (from its commit to the next version's); when any rule of the policy keeps it (one of the newest
/// `keepVersions`, or current at some moment within the last `keepFor`). Otherwise its value goes, and so does that
/// of a superseded put whose expiry has passed, whatever the policy. Deletes and removed values have nothing to remove.
struct RetentionRule {
    var policy: RetentionPolicy
    var now: Microseconds
    /// The commit_ts values live snapshots name for this key's agent (its own and the namespace's), sorted.
    var snapshotPoints: [CommitTS]

    /// The versions of `versions` (one key's, in version order, complete) whose values go.
    func removable(_ versions: ArraySlice<VersionSummary>) -> [VersionSummary] {
        var removable: [VersionSummary] = []
        let keepForMicros = self.policy.keepFor.components.seconds * 1_000_000
        var index = versions.startIndex
        while index < versions.endIndex - 1 {  // the latest version always stays
            let version = versions[index]
            let next = versions[index + 1]
            index += 1
            guard !version.deleted, !version.valueRemoved else { continue }
            if self.snapshotNeeds(from: version.commitTS, before: next.commitTS) { continue }
            if let expiresAt = version.expiresAt, expiresAt <= self.now {
                removable.append(version)
                continue
            }
            if self.policy.keepsEverything { continue }
            // The rank from the newest: the latest version is 0.
            let rank = versions.endIndex - index
            if self.policy.keepVersions > 0, rank < self.policy.keepVersions { continue }
            // Current until the next version's commit: kept while that is within the window.
            if keepForMicros > 0, next.committedAt > self.now - keepForMicros { continue }
            removable.append(version)
        }
        return removable
    }

    /// Whether a snapshot point falls in `from ..< before` (the span a version was current).
    func snapshotNeeds(from: CommitTS, before: CommitTS) -> Bool {
        var low = 0
        var high = self.snapshotPoints.count
        while low < high {
            let middle = (low + high) / 2
            if self.snapshotPoints[middle] < from { low = middle + 1 } else { high = middle }
        }
        return low < self.snapshotPoints.count && self.snapshotPoints[low] < before
    }
}
