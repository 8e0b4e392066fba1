public import StatehouseModel

/// Rules of reading stored state that every backend applies the same way (SQLite's reader, PostgreSQL's).
extension StateRecord {
    /// This record as read at `pointTime` (now for the latest state, a commit's time for a read as of it): a put
    /// whose expiry has passed by then reads as a delete of its version.
    package func read(at pointTime: Microseconds) -> StateRecord {
        guard let expiresAt = self.expiresAt, !self.deleted, expiresAt <= pointTime else { return self }
        var expired = self
        expired.value = nil
        expired.deleted = true
        expired.valueRemoved = false
        return expired
    }

    /// The error of a read that needs this version's value, which the retention policy removed (the engine adds the
    /// policy it keeps).
    package var removedByRetention: StatehouseError {
        .failedPrecondition(
            "version \(self.version) of agent '\(self.agentID.prefix(64))' key '\(self.key.prefix(64))' was "
                + "removed by the retention policy")
    }
}

extension LogHead {
    /// `requested`, or the whole log when `nil`; refused beyond the end of the log.
    package func treeSize(_ requested: UInt64?, what: String) throws -> UInt64 {
        guard let requested else { return self.commitTS }
        guard requested <= self.commitTS else {
            throw StatehouseError.invalidArgument(
                "\(what) \(requested) is beyond the end of the log of namespace '\(self.namespace)' "
                    + "(it has \(self.commitTS) events)")
        }
        return requested
    }
}
