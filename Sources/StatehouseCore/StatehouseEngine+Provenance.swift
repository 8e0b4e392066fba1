extension StatehouseEngine {
    /// What a caller records (the model's ``StatehouseModel/ProvenanceDraft``, shared with the client).
    public typealias ProvenanceDraft = StatehouseModel.ProvenanceDraft

    /// Most records one call records.
    static let maxProvenanceRecords = 1000

    /// Records provenance of an agent in one commit (under `@provenance`, key `KIND/ID`), each payload checked
    /// against its kind's schema. Records are immutable: an id already used for the kind is refused.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a payload that does not fit its schema
    ///   (naming the member), an id in use, or no record.
    @discardableResult
    public func recordProvenance(
        namespace: String = "default", agentID: String, _ drafts: [ProvenanceDraft], runID: String? = nil
    ) async throws -> [ProvenanceRecord] {
        if let runID {
            // Records join a run of the same agent that is still running.
            let run = try await self.getRun(namespace: namespace, id: runID)
            guard run.agentID == agentID, run.endedAt == nil else {
                throw StatehouseError.invalidArgument(
                    "run '\(runID.prefix(64))' is "
                        + (run.agentID != agentID ? "a run of agent '\(run.agentID)'" : "over (\(run.status))")
                        + "; record provenance with a running run of the same agent")
            }
        }
        let (records, operations, conditions) = try self.provenanceWrites(
            namespace: namespace, agentID: agentID, drafts, runID: runID)
        guard !records.isEmpty else { throw StatehouseError.invalidArgument("no provenance record to record") }
        let result = try await self.systemCommit(
            namespace: namespace, operations: operations, conditions: conditions,
            metadata: CommitMetadata(
                reason: "record provenance", tags: runID.map { [AgentRun.runTag: $0] } ?? [:]))
        return records.map { record in
            var record = record
            record.commitTS = result.commitTS
            return record
        }
    }

    private func provenanceWrites(
        namespace: String, agentID: String, _ drafts: [ProvenanceDraft], runID: String?
    ) throws -> ([ProvenanceRecord], [WriteOperation], [KeyCondition]) {
        try self.validateAgent(namespace: namespace, agentID: agentID)
        guard drafts.count <= Self.maxProvenanceRecords else {
            throw StatehouseError.invalidArgument(
                "\(drafts.count) provenance records in one call; the limit is \(Self.maxProvenanceRecords)")
        }
        let now = self.clock.wallMicroseconds()
        var records: [ProvenanceRecord] = []
        var keys: Set<String> = []
        for draft in drafts {
            try ProvenanceSchema.validate(draft.payload, kind: draft.kind)
            let id = draft.id ?? TransactionID.make(wallMicroseconds: now)
            try NameValidation.validateText(id, field: "provenance id", maxBytes: 256, allowEmpty: false)
            let compact = JSONValue(trusted: Array(try ParsedJSON(parsing: draft.payload.utf8).compactText.utf8))
            let record = ProvenanceRecord(
                kind: draft.kind, id: id, agentID: agentID, capturedAt: draft.capturedAt ?? now, payload: compact,
                runID: runID)
            guard keys.insert(record.key).inserted else {
                throw StatehouseError.invalidArgument("provenance record '\(record.key.prefix(64))' appears twice")
            }
            records.append(record)
        }
        let operations = records.map {
            WriteOperation.put(
                agentID: ReservedNames.provenanceAgent, key: $0.key, value: ProvenanceRecordCodec.value($0))
        }
        // A record id is used once: the commit fails (conflict) if another made it meanwhile or before.
        let conditions = records.map {
            KeyCondition(agentID: ReservedNames.provenanceAgent, key: $0.key, requirement: .expected(.absent))
        }
        return (records, operations, conditions)
    }

    /// One provenance record.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` when there is none.
    public func getProvenance(
        namespace: String = "default", kind: ProvenanceKind, id: String
    ) async throws -> ProvenanceRecord {
        try self.validateNamespace(namespace)
        let stored = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.provenanceAgent, key: "\(kind.rawValue)/\(id)", at: .latest)
        guard stored.value != nil else {
            throw StatehouseError.notFound("no \(kind.rawValue) provenance record '\(id.prefix(64))'")
        }
        return try ProvenanceRecordCodec.record(stored)
    }

    /// Provenance records by kind and id, narrowed to an agent, a kind or a run.
    public func listProvenance(
        namespace: String = "default", agentID: String? = nil, kind: ProvenanceKind? = nil, runID: String? = nil,
        limit: Int = 1000, cursor: String? = nil
    ) async throws -> Page<ProvenanceRecord> {
        try await self.recordPage(
            namespace: namespace, agent: ReservedNames.provenanceAgent,
            query: [agentID ?? "", kind?.rawValue ?? "", runID ?? ""], limit: limit, cursor: cursor
        ) { stored in
            guard stored.value != nil else { return nil }
            let record = try ProvenanceRecordCodec.record(stored)
            if let agentID, record.agentID != agentID { return nil }
            if let kind, record.kind != kind { return nil }
            if let runID, record.runID != runID { return nil }
            return record
        }
    }

    /// The provenance of an agent in effect at a commit: the records of the run in effect then (the last run the agent
    /// started at or before it, unless it had ended), else the newest record of each kind recorded at or before it.
    public func provenance(
        namespace: String = "default", agentID: String, at commitTS: CommitTS
    ) async throws -> (run: AgentRun?, records: [ProvenanceRecord]) {
        try self.validateAgent(namespace: namespace, agentID: agentID)
        var all: [ProvenanceRecord] = []
        var after: String?
        let pageSize = self.limits.maxPageSize
        while true {
            let page = try await self.backend.scan(
                namespace: namespace, agentID: ReservedNames.provenanceAgent, prefix: "", after: after,
                atCommit: commitTS, limit: pageSize)
            all += try page.map(ProvenanceRecordCodec.record).filter { $0.agentID == agentID }
            guard page.count == pageSize, let last = page.last else { break }
            after = last.key
        }
        let runs = try await self.runs(namespace: namespace, agentID: agentID, at: commitTS)
        if let run = runs.last(where: { $0.endCommitTS == nil || $0.endCommitTS! > commitTS }) {
            // Its records at the start, and those recorded with it since (by this point).
            let keys = Set(run.provenance)
            return (run, all.filter { keys.contains($0.key) || $0.runID == run.id })
        }
        var newest: [ProvenanceKind: ProvenanceRecord] = [:]
        for record in all where (newest[record.kind]?.commitTS ?? 0) <= record.commitTS {
            newest[record.kind] = record
        }
        return (nil, ProvenanceKind.allCases.compactMap { newest[$0] })
    }

    // MARK: Runs

    /// Starts a run of an agent: one commit records its provenance (as ``recordProvenance(namespace:agentID:_:runID:)``
    /// does) and the run (`@runs/ID`, status `running`). The agent's commits of the run carry the metadata tag
    /// `run_id` = ID.
    public func startRun(
        namespace: String = "default", agentID: String, id: String? = nil, provenance drafts: [ProvenanceDraft],
        metadata: JSONValue? = nil
    ) async throws -> AgentRun {
        let now = self.clock.wallMicroseconds()
        let id = id ?? TransactionID.make(wallMicroseconds: now)
        try NameValidation.validateText(id, field: "run id", maxBytes: 256, allowEmpty: false)
        let (records, operations, conditions) = try self.provenanceWrites(
            namespace: namespace, agentID: agentID, drafts, runID: id)
        var run = AgentRun(
            id: id, agentID: agentID, status: "running", startedAt: now, startCommitTS: 0,
            provenance: records.map(\.key), metadata: metadata)
        let result = try await self.systemCommit(
            namespace: namespace,
            operations: operations + [
                .put(agentID: ReservedNames.runsAgent, key: id, value: ProvenanceRecordCodec.value(run))
            ],
            conditions: conditions + [
                KeyCondition(agentID: ReservedNames.runsAgent, key: id, requirement: .expected(.absent))
            ],
            metadata: CommitMetadata(reason: "start run '\(id.prefix(64))'", tags: [AgentRun.runTag: id]))
        run.startCommitTS = result.commitTS
        return run
    }

    /// Ends a run with a status (`succeeded` by default).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for an unknown run;
    ///   ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for one already ended.
    public func endRun(namespace: String = "default", id: String, status: String = "succeeded") async throws -> AgentRun
    {
        try NameValidation.validateText(status, field: "status", maxBytes: 256, allowEmpty: false)
        let (stored, current) = try await self.readRun(namespace: namespace, id: id)
        guard current.endedAt == nil else {
            throw StatehouseError.invalidArgument("run '\(id.prefix(64))' already ended (status \(current.status))")
        }
        guard status != "running" else { throw StatehouseError.invalidArgument("a run cannot end as 'running'") }
        var run = current
        run.status = status
        run.endedAt = self.clock.wallMicroseconds()
        // An ended run names every record of its own (those recorded with it since its start too), so that an audit
        // bundle holding this run as the baseline of another can be checked to hold all of them.
        let keys = Set(run.provenance).union(try await self.records(ofRun: id, namespace: namespace).map(\.key))
        run.provenance = keys.sorted(by: utf8Order)
        // The end commit is the one that writes this record last: its commit_ts is read back from the record's
        // version (ProvenanceRecordCodec.run), so other commits of the namespace never conflict with ending a run.
        let result = try await self.systemCommit(
            namespace: namespace,
            operations: [.put(agentID: ReservedNames.runsAgent, key: id, value: ProvenanceRecordCodec.value(run))],
            conditions: [
                KeyCondition(
                    agentID: ReservedNames.runsAgent, key: id, requirement: .unchangedSinceRead(stored.version))
            ],
            metadata: CommitMetadata(reason: "end run '\(id.prefix(64))' (\(status))", tags: [AgentRun.runTag: id]))
        run.endCommitTS = result.commitTS
        return run
    }

    public func getRun(namespace: String = "default", id: String) async throws -> AgentRun {
        try await self.readRun(namespace: namespace, id: id).run
    }

    /// The commits of a run, oldest first: the agent's commits from the run's start to its end (or the head) that carry
    /// its `run_id` tag, at most `limit`.
    public func runCommits(namespace: String = "default", run: AgentRun, limit: Int = 1000) async throws -> [Event] {
        var events: [Event] = []
        var cursor: String?
        let filter = LogFilter(
            namespace: namespace, agentID: run.agentID, fromCommitTS: run.startCommitTS, toCommitTS: run.endCommitTS)
        repeat {
            let page = try await self.readLog(filter, limit: self.limits.maxPageSize, cursor: cursor)
            events += page.items.filter { $0.metadata.tags[AgentRun.runTag] == run.id }
            cursor = page.nextCursor
        } while cursor != nil && events.count < limit
        return Array(events.prefix(limit))
    }

    /// An agent's runs as of a commit, in the order they started.
    func runs(namespace: String, agentID: String, at commitTS: CommitTS) async throws -> [AgentRun] {
        var runs: [AgentRun] = []
        var after: String?
        let pageSize = self.limits.maxPageSize
        while true {
            let page = try await self.backend.scan(
                namespace: namespace, agentID: ReservedNames.runsAgent, prefix: "", after: after, atCommit: commitTS,
                limit: pageSize)
            for stored in page {
                let first = try await self.backend.get(
                    namespace: namespace, agentID: ReservedNames.runsAgent, key: stored.key, at: .version(1))
                let run = try ProvenanceRecordCodec.run(stored, startCommitTS: first.commitTS)
                if run.agentID == agentID { runs.append(run) }
            }
            guard page.count == pageSize, let last = page.last else { break }
            after = last.key
        }
        return runs.sorted { $0.startCommitTS < $1.startCommitTS }
    }

    private func readRun(namespace: String, id: String) async throws -> (stored: StateRecord, run: AgentRun) {
        try self.validateNamespace(namespace)
        let stored = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.runsAgent, key: id, at: .latest)
        guard stored.value != nil else { throw StatehouseError.notFound("no run '\(id.prefix(64))'") }
        let first = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.runsAgent, key: id, at: .version(1))
        return (stored, try ProvenanceRecordCodec.run(stored, startCommitTS: first.commitTS))
    }
}

extension StatehouseEngine {
    /// ``provenance(namespace:agentID:at:)`` at a point (a commit_ts, a time, a snapshot, or the head), with the
    /// commit_ts it resolved to.
    public func provenance(
        namespace: String = "default", agentID: String, at point: StatePoint
    ) async throws -> (commitTS: CommitTS, run: AgentRun?, records: [ProvenanceRecord]) {
        try self.validateAgent(namespace: namespace, agentID: agentID)
        let head = try await self.backend.head(namespace: namespace).commitTS
        let commitTS = try await self.resolve(point, namespace: namespace, head: head)
        let (run, records) = try await self.provenance(namespace: namespace, agentID: agentID, at: commitTS)
        return (commitTS, run, records)
    }
}

extension StatehouseEngine {
    /// Advice on reproducing the agent's work at `to` from what was in effect at `from` (``ProvenanceAdvisory``).
    public func advise(
        namespace: String = "default", agentID: String, from: StatePoint, to: StatePoint
    ) async throws -> (fromCommitTS: CommitTS, toCommitTS: CommitTS, advisory: ProvenanceAdvisory) {
        let baseline = try await self.provenance(namespace: namespace, agentID: agentID, at: from)
        let candidate = try await self.provenance(namespace: namespace, agentID: agentID, at: to)
        return (
            baseline.commitTS, candidate.commitTS,
            ProvenanceAdvisory(baseline: baseline.records, candidate: candidate.records)
        )
    }

    /// Advice comparing the provenance recorded with two runs.
    public func advise(namespace: String = "default", fromRun: String, toRun: String) async throws -> ProvenanceAdvisory
    {
        _ = try await self.getRun(namespace: namespace, id: fromRun)
        _ = try await self.getRun(namespace: namespace, id: toRun)
        return ProvenanceAdvisory(
            baseline: try await self.records(ofRun: fromRun, namespace: namespace),
            candidate: try await self.records(ofRun: toRun, namespace: namespace))
    }

    /// The plan to replay the mutations recorded with a run, checked against the run's config records.
    public func replayPlan(namespace: String = "default", runID: String) async throws -> MutationReplayPlan {
        _ = try await self.getRun(namespace: namespace, id: runID)
        let records = try await self.records(ofRun: runID, namespace: namespace)
        return MutationReplayPlan(
            mutations: records.filter { $0.kind == .mutation }, configs: records.filter { $0.kind == .config })
    }
}

extension StatehouseEngine {
    /// Every provenance record recorded with a run, page after page.
    func records(ofRun runID: String, namespace: String) async throws -> [ProvenanceRecord] {
        var records: [ProvenanceRecord] = []
        var cursor: String?
        repeat {
            let page = try await self.listProvenance(
                namespace: namespace, runID: runID, limit: self.limits.maxPageSize, cursor: cursor)
            records += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return records
    }
}
