import Foundation
public import StatehouseModel
import StatehouseProto
import StatehouseWire

// Provenance records and runs (docs/api.md, "Provenance").
extension StatehouseClient {
    /// A record to make (the model's ``StatehouseModel/ProvenanceDraft``, shared with the engine).
    public typealias ProvenanceDraft = StatehouseModel.ProvenanceDraft

    /// Records provenance of an agent in one commit; each payload must fit its kind's schema.
    public func recordProvenance(
        namespace: String = "default", agentID: String, _ drafts: [ProvenanceDraft], runID: String? = nil
    ) async throws -> [ProvenanceRecord] {
        var request = Statehouse_V2_RecordProvenanceRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.records = drafts.map(\.proto)
        request.runID = runID ?? ""
        return try await self.call {
            try await self.stub.recordProvenance(request).records.map(Wire.provenanceRecord)
        }
    }

    public func listProvenance(
        namespace: String = "default", agentID: String? = nil, kind: ProvenanceKind? = nil, runID: String? = nil,
        limit: Int = 1000, cursor: String? = nil
    ) async throws -> Page<ProvenanceRecord> {
        var request = Statehouse_V2_ListProvenanceRequest()
        request.namespace = namespace
        request.agentID = agentID ?? ""
        request.kind = kind?.rawValue ?? ""
        request.runID = runID ?? ""
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        return try await self.call {
            let response = try await self.stub.listProvenance(request)
            return Page(
                items: try response.records.map(Wire.provenanceRecord),
                nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
        }
    }

    /// The provenance in effect for an agent at a point, with the commit_ts it resolved to and the run then.
    public func provenance(
        namespace: String = "default", agentID: String, at point: StatePoint = .latest
    ) async throws -> (commitTS: CommitTS, run: AgentRun?, records: [ProvenanceRecord]) {
        var request = Statehouse_V2_ProvenanceAtRequest()
        request.namespace = namespace
        request.agentID = agentID
        if let at = Wire.proto(point) { request.at = at }
        return try await self.call {
            let response = try await self.stub.provenanceAt(request)
            return (
                response.commitTs, response.hasRun ? try Wire.run(response.run) : nil,
                try response.records.map(Wire.provenanceRecord)
            )
        }
    }

    public func startRun(
        namespace: String = "default", agentID: String, id: String? = nil, provenance: [ProvenanceDraft],
        metadata: JSONValue? = nil
    ) async throws -> AgentRun {
        var request = Statehouse_V2_StartRunRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.id = id ?? ""
        request.provenance = provenance.map(\.proto)
        if let metadata { request.metadata = Data(metadata.utf8) }
        return try await self.call { try Wire.run(try await self.stub.startRun(request)) }
    }

    public func endRun(namespace: String = "default", id: String, status: String = "succeeded") async throws -> AgentRun
    {
        var request = Statehouse_V2_EndRunRequest()
        request.namespace = namespace
        request.id = id
        request.status = status
        return try await self.call { try Wire.run(try await self.stub.endRun(request)) }
    }

    /// A run, its provenance records and the commits it made (at most `commitLimit`).
    public func run(
        namespace: String = "default", id: String, commitLimit: Int = 1000
    ) async throws -> (run: AgentRun, provenance: [ProvenanceRecord], commits: [Event]) {
        var request = Statehouse_V2_GetRunRequest()
        request.namespace = namespace
        request.id = id
        request.commitLimit = UInt32(clamping: commitLimit)
        return try await self.call {
            let response = try await self.stub.getRun(request)
            return (
                try Wire.run(response.run), try response.provenance.map(Wire.provenanceRecord),
                try response.commits.map(Wire.event)
            )
        }
    }
}

extension StatehouseClient {
    /// Advice on reproducing: the agent's provenance at `to` against `from`, or (with both) run against run.
    public func advise(
        namespace: String = "default", agentID: String = "", from: StatePoint = .latest, to: StatePoint = .latest,
        fromRun: String? = nil, toRun: String? = nil
    ) async throws -> (fromCommitTS: CommitTS, toCommitTS: CommitTS, score: Int, findings: [ProvenanceAdvisory.Finding])
    {
        var request = Statehouse_V2_AdviseRequest()
        request.namespace = namespace
        request.agentID = agentID
        if let point = Wire.proto(from) { request.from = point }
        if let point = Wire.proto(to) { request.to = point }
        request.fromRun = fromRun ?? ""
        request.toRun = toRun ?? ""
        return try await self.call {
            let response = try await self.stub.advise(request)
            return (
                response.fromCommitTs, response.toCommitTs, Int(response.score),
                response.findings.map {
                    ProvenanceAdvisory.Finding(
                        rule: $0.rule, points: Int($0.points), message: $0.message, recommendation: $0.recommendation)
                }
            )
        }
    }

    /// The plan to replay the mutations a run recorded.
    public func replayPlan(namespace: String = "default", runID: String) async throws -> MutationReplayPlan.Wire {
        var request = Statehouse_V2_GetReplayPlanRequest()
        request.namespace = namespace
        request.runID = runID
        return try await self.call {
            let response = try await self.stub.getReplayPlan(request)
            return MutationReplayPlan.Wire(
                sources: response.sources.map { source in
                    (source.source, source.steps.map { ($0.sequence, $0.type, $0.id, $0.record) })
                },
                findings: response.findings.map { ($0.rule, $0.source, $0.message) })
        }
    }
}

extension StatehouseModel.ProvenanceDraft {
    var proto: Statehouse_V2_ProvenanceDraft {
        Wire.proto(draftKind: self.kind, id: self.id, payload: self.payload, capturedAt: self.capturedAt)
    }
}
