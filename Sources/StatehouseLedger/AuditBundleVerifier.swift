public import Foundation
public import StatehouseModel

/// Checks an audit bundle line by line, trusting only `publicKey`: memory stays flat however long the bundle is,
/// except for the final state the bundle claims (one entry per key).
///
/// Feed every line to ``consume(_:)`` and then call ``finish()``. Each check that fails throws a
/// ``LedgerVerificationError`` naming the line and, where there is one, the commit_ts.
public struct AuditBundleVerifier {
    /// What a bundle proved.
    public struct Report: Sendable, Equatable {
        public var namespace: String
        public var agentID: String?
        public var fromCommitTS: CommitTS
        public var toCommitTS: CommitTS
        public var head: TreeHead
        public var events: Int
        public var leaves: Int
        public var stateEntries: Int
        /// Whether the state lines were checked to be exactly the state the events produce (a bundle from
        /// commit_ts 1); otherwise each entry was proven to have been written, not that none is missing.
        public var stateComplete: Bool
        /// The run line of a run's bundle, recomputed from the proven state and found equal.
        public var run: AuditBundle.RunLine?
    }

    private let publicKey: LedgerPublicKey
    private var lineNumber = 0
    private var manifest: AuditBundle.Manifest?
    private var head: TreeHead?
    private var frontier = MerkleFrontier()
    private var nextCommitTS: CommitTS = 0
    private var events = 0
    private var leaves = 0
    private var witnesses = 0
    private var stateLines = 0
    private var finished = false
    private var inState = false
    /// The newest version of each key that the bundle's events (then witnesses) wrote: one entry per key, not per
    /// event, so memory stays flat however long the bundle is.
    private var latest: [ExactText: (version: Version, commitTS: CommitTS, value: String?, expires: Bool)] = [:]
    private var claimedState: Set<ExactText> = []
    /// The proven state lines of the reserved agents `@runs` and `@provenance`, from which a run line is recomputed.
    private var runState: [AuditBundle.StateLine] = []
    private var run: AuditBundle.RunLine?

    public init(publicKey: LedgerPublicKey) {
        self.publicKey = publicKey
    }

    private func failure(_ what: String, commitTS: CommitTS? = nil) -> LedgerVerificationError {
        LedgerVerificationError(
            "line \(self.lineNumber)\(commitTS.map { " (commit_ts \($0))" } ?? ""): \(what)")
    }

    /// A key's address, compared by code points (as the store and the Python verifier compare keys).
    private static func address(_ agentID: String, _ key: String) -> ExactText { ExactText(agentID + "\u{0}" + key) }

    /// Checks one line (without its newline).
    public mutating func consume(_ line: some DataProtocol) throws(LedgerVerificationError) {
        var failure: LedgerVerificationError?
        Array(line).withUnsafeBytes { bytes in
            do { try self.consume(bytes: bytes) } catch {
                failure = (error as? LedgerVerificationError) ?? LedgerVerificationError("\(error)")
            }
        }
        if let failure { throw failure }
    }

    /// Checks one line (without its newline) from raw bytes.
    public mutating func consume(bytes line: UnsafeRawBufferPointer) throws(LedgerVerificationError) {
        self.lineNumber += 1
        guard !self.finished else { throw self.failure("a line after the end line") }
        let decoded: AuditBundle.Line
        do {
            decoded = try AuditBundle.decodeLine(line)
        } catch {
            throw self.failure("not a bundle line (\(error))")
        }
        var members = 0
        if decoded.manifest != nil { members += 1 }
        if decoded.event != nil { members += 1 }
        if decoded.leaf != nil { members += 1 }
        if decoded.state != nil { members += 1 }
        if decoded.witness != nil { members += 1 }
        if decoded.run != nil { members += 1 }
        if decoded.end != nil { members += 1 }
        guard members == 1 else { throw self.failure("a line must have exactly one member; it has \(members)") }
        if let manifest = decoded.manifest { return try self.start(manifest) }
        guard let manifest = self.manifest, let head = self.head else {
            throw self.failure("the bundle does not start with its manifest")
        }
        if let event = decoded.event {
            guard !self.inState else { throw self.failure("an event after the state lines", commitTS: event.commit_ts) }
            try self.position(event.commit_ts)
            guard let leaf = event.leafHash(namespace: manifest.namespace) else {
                throw self.failure(
                    "an operation is neither a put nor a delete (or its value, value digest or expiry does not fit "
                        + "its kind)", commitTS: event.commit_ts)
            }
            if let recorded = event.leaf_hash, Hex.hash(recorded) != leaf {
                throw self.failure(
                    "the event's content does not match the leaf hash it was exported with", commitTS: event.commit_ts)
            }
            if let agentID = manifest.agent_id, !event.operations.contains(where: { $0.agent_id == agentID }) {
                throw self.failure("an event of other agents only is given whole", commitTS: event.commit_ts)
            }
            self.append(leaf)
            self.events += 1
            for operation in event.operations {
                self.latest[Self.address(operation.agent_id, operation.key)] = (
                    operation.version, event.commit_ts, operation.value, operation.expires_at_micros != nil
                )
            }
        } else if let leaf = decoded.leaf {
            guard !self.inState else { throw self.failure("a leaf after the state lines", commitTS: leaf.commit_ts) }
            guard manifest.agent_id != nil else {
                throw self.failure("a bundle of the whole namespace gives every event whole", commitTS: leaf.commit_ts)
            }
            try self.position(leaf.commit_ts)
            guard let hash = Hex.hash(leaf.hash) else {
                throw self.failure("the leaf hash is not 32 bytes of hexadecimal", commitTS: leaf.commit_ts)
            }
            self.append(hash)
            self.leaves += 1
        } else if let witness = decoded.witness {
            guard self.stateLines == 0 else {
                throw self.failure("a witness after the state lines", commitTS: witness.event.commit_ts)
            }
            try self.checkRangeEnd(manifest, head)
            self.inState = true
            let commitTS = witness.event.commit_ts
            guard commitTS < manifest.from_commit_ts else {
                throw self.failure("a witness must be older than the range", commitTS: commitTS)
            }
            guard let leaf = witness.event.leafHash(namespace: manifest.namespace),
                let proof = Self.hashes(witness.proof),
                commitTS >= 1, commitTS <= head.treeSize,
                MerkleVerification.verifyInclusion(
                    leafIndex: commitTS - 1, treeSize: head.treeSize, leafHash: leaf, proof: proof, root: head.rootHash)
            else {
                throw self.failure(
                    "the witness event's inclusion proof does not lead to the signed root", commitTS: commitTS)
            }
            // A witness is older than the range: it counts for keys the range did not write, and of two witnesses that
            // wrote a key, the newer counts.
            for operation in witness.event.operations
            where (self.latest[Self.address(operation.agent_id, operation.key)]?.commitTS ?? 0) < commitTS {
                self.latest[Self.address(operation.agent_id, operation.key)] = (
                    operation.version, commitTS, operation.value, operation.expires_at_micros != nil
                )
            }
            self.witnesses += 1
        } else if let state = decoded.state {
            guard self.run == nil else { throw self.failure("a state line after the run line") }
            try self.checkRangeEnd(manifest, head)
            self.inState = true
            let address = Self.address(state.agent_id, state.key)
            guard state.commit_ts <= manifest.to_commit_ts, let written = self.latest[address],
                written.version == state.version, written.commitTS == state.commit_ts,
                written.value.sameText(as: state.value)
            else {
                throw self.failure(
                    "the state of agent '\(state.agent_id)' key '\(state.key)' (version \(state.version)) is not "
                        + "the newest version a proven event wrote", commitTS: state.commit_ts)
            }
            if let agentID = manifest.agent_id, agentID != state.agent_id {
                throw self.failure("a state entry of another agent ('\(state.agent_id)')", commitTS: state.commit_ts)
            }
            guard self.claimedState.insert(address).inserted else {
                throw self.failure(
                    "agent '\(state.agent_id)' key '\(state.key)' is given twice", commitTS: state.commit_ts)
            }
            self.stateLines += 1
            if state.agent_id == ReservedNames.runsAgent || state.agent_id == ReservedNames.provenanceAgent {
                self.runState.append(state)
            }
        } else if let run = decoded.run {
            try self.checkRangeEnd(manifest, head)
            try self.check(run, manifest)
        } else if let end = decoded.end {
            try self.checkRangeEnd(manifest, head)
            if let runID = manifest.run_id, self.run == nil {
                throw self.failure("the bundle of run '\(runID)' has no run line")
            }
            guard end.events == self.events, end.leaves == self.leaves, end.state == self.stateLines,
                end.witnesses == self.witnesses
            else {
                throw self.failure(
                    "the end line counts \(end.events) events, \(end.leaves) leaves, \(end.state) state entries and "
                        + "\(end.witnesses) witnesses; the bundle has \(self.events), \(self.leaves), "
                        + "\(self.stateLines) and \(self.witnesses)")
            }
            do {
                // Every key the range's events leave live must have its state line (from commit_ts 1: every key), so
                // that state lines cannot be dropped unnoticed (a run line is recomputed from them).
                let agentPrefix = manifest.agent_id.map { Array(($0 + "\u{0}").utf8) }
                let live = self.latest.filter { entry in
                    // A value with an expiry may have expired by the end of the range: its state line is optional.
                    entry.value.value != nil && !entry.value.expires
                        && entry.value.commitTS >= manifest.from_commit_ts
                        && (agentPrefix.map { entry.key.text.utf8.starts(with: $0) } ?? true)
                }.map(\.key)
                if let missing = live.first(where: { !self.claimedState.contains($0) }) {
                    let parts = missing.text.split(separator: "\u{0}", omittingEmptySubsequences: false)
                    throw self.failure(
                        "the state lines leave out agent '\(parts[0])' key '\(parts.count > 1 ? parts[1] : "")', "
                            + "which the events leave live")
                }
            }
            self.finished = true
        }
    }

    /// The report, once the end line was read.
    public func finish() throws(LedgerVerificationError) -> Report {
        guard self.finished, let manifest = self.manifest, let head = self.head else {
            throw LedgerVerificationError(
                "the bundle is cut short after line \(self.lineNumber): it has no end line")
        }
        return Report(
            namespace: manifest.namespace, agentID: manifest.agent_id, fromCommitTS: manifest.from_commit_ts,
            toCommitTS: manifest.to_commit_ts, head: head, events: self.events, leaves: self.leaves,
            stateEntries: self.stateLines, stateComplete: manifest.from_commit_ts == 1, run: self.run)
    }

    /// A run line must be the one its manifest announces, and exactly what the proven state gives.
    private mutating func check(
        _ run: AuditBundle.RunLine, _ manifest: AuditBundle.Manifest
    ) throws(LedgerVerificationError) {
        guard let runID = manifest.run_id else {
            throw self.failure("a run line in a bundle whose manifest names no run")
        }
        guard self.run == nil else { throw self.failure("a second run line") }
        guard run.runID == runID else {
            throw self.failure("the run line is of run '\(run.runID)'; the manifest names run '\(runID)'")
        }
        let expected: AuditBundle.RunLine
        do {
            expected = try AuditBundle.runLine(
                runID: runID, baselineRunID: run.baselineRunID, state: self.runState)
        } catch {
            throw self.failure("the run line cannot be recomputed from the proven state: \(error)")
        }
        guard run.canonicalBytes == expected.canonicalBytes else {
            throw self.failure(
                "the run line is not what the proven provenance of run '\(runID)' gives: its status, records, "
                    + "advisory or replay plan was changed")
        }
        self.run = run
    }

    private mutating func start(_ manifest: AuditBundle.Manifest) throws(LedgerVerificationError) {
        guard self.lineNumber == 1 else { throw self.failure("a second manifest") }
        guard manifest.format == AuditBundle.formatName, manifest.version == AuditBundle.formatVersion else {
            throw self.failure("not a \(AuditBundle.formatName) bundle of version \(AuditBundle.formatVersion)")
        }
        guard let signed = manifest.head.signedTreeHead else { throw self.failure("the head is malformed") }
        guard signed.keyID == self.publicKey.keyID else {
            throw self.failure(
                "the bundle is signed by key \(signed.keyID), not by the trusted key \(self.publicKey.keyID)")
        }
        guard self.publicKey.verify(signed) else {
            throw self.failure("the head's signature does not verify with the trusted key \(self.publicKey.keyID)")
        }
        guard signed.head.namespace == manifest.namespace else {
            throw self.failure("the head is of namespace '\(signed.head.namespace)', not '\(manifest.namespace)'")
        }
        guard manifest.from_commit_ts >= 1, manifest.from_commit_ts <= manifest.to_commit_ts + 1,
            manifest.to_commit_ts <= signed.head.treeSize
        else {
            throw self.failure(
                "the range \(manifest.from_commit_ts)…\(manifest.to_commit_ts) does not fit the tree of size "
                    + "\(signed.head.treeSize)")
        }
        if let since = manifest.since_head {
            guard let sinceSigned = since.signedTreeHead, self.publicKey.verify(sinceSigned),
                sinceSigned.head.namespace == manifest.namespace
            else { throw self.failure("the earlier head is malformed or not signed by the trusted key") }
            guard let proof = Self.hashes(manifest.since_consistency ?? []),
                MerkleVerification.verifyConsistency(
                    oldSize: sinceSigned.head.treeSize, newSize: signed.head.treeSize,
                    oldRoot: sinceSigned.head.rootHash, newRoot: signed.head.rootHash, proof: proof)
            else {
                throw self.failure(
                    "the head (size \(signed.head.treeSize)) does not extend the earlier head (size "
                        + "\(sinceSigned.head.treeSize)): history was rewritten")
            }
        }
        guard let prefix = Self.hashes(manifest.prefix) else { throw self.failure("a prefix hash is malformed") }
        let size = manifest.from_commit_ts - 1
        guard prefix.count == size.nonzeroBitCount else {
            throw self.failure(
                "the prefix has \(prefix.count) subtrees; a tree of \(size) leaves has \(size.nonzeroBitCount)")
        }
        self.frontier = MerkleFrontier(size: size, subtreeHashes: prefix)
        self.manifest = manifest
        self.head = signed.head
        self.nextCommitTS = manifest.from_commit_ts
    }

    /// Events and leaves come in commit_ts order, each commit_ts of the range exactly once.
    private func position(_ commitTS: CommitTS) throws(LedgerVerificationError) {
        guard let manifest = self.manifest else { return }
        guard commitTS <= manifest.to_commit_ts else {
            throw self.failure(
                "commit_ts is beyond the bundle's range, which ends at \(manifest.to_commit_ts)", commitTS: commitTS)
        }
        guard commitTS == self.nextCommitTS else {
            throw self.failure(
                commitTS < self.nextCommitTS
                    ? "out of order or repeated" : "commit_ts \(self.nextCommitTS) is missing before it",
                commitTS: commitTS)
        }
    }

    private mutating func append(_ leaf: EventHash) {
        self.frontier.appendLeaf(leaf)
        self.nextCommitTS += 1
    }

    /// Once every event of the range was read: their root must lead to the signed root.
    private mutating func checkRangeEnd(
        _ manifest: AuditBundle.Manifest, _ head: TreeHead
    ) throws(LedgerVerificationError) {
        guard !self.inState else { return }
        guard self.nextCommitTS == manifest.to_commit_ts + 1 else {
            throw self.failure(
                "the events stop at commit_ts \(self.nextCommitTS - 1); the range ends at \(manifest.to_commit_ts)")
        }
        guard let proof = Self.hashes(manifest.consistency),
            MerkleVerification.verifyConsistency(
                oldSize: manifest.to_commit_ts, newSize: head.treeSize, oldRoot: self.frontier.root,
                newRoot: head.rootHash, proof: proof)
        else {
            throw self.failure(
                "the events \(manifest.from_commit_ts)…\(manifest.to_commit_ts) do not lead to the signed root of "
                    + "tree size \(head.treeSize): an event was changed, dropped or reordered")
        }
        self.inState = true
    }

    private static func hashes(_ texts: [String]) -> [EventHash]? {
        var hashes: [EventHash] = []
        for text in texts {
            guard let hash = Hex.hash(text) else { return nil }
            hashes.append(hash)
        }
        return hashes
    }
}
