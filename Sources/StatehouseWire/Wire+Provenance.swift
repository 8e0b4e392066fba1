import Foundation
package import StatehouseModel
package import StatehouseProto

// Provenance records and runs, both ways.
extension Wire {
    package static func draft(
        _ proto: Statehouse_V2_ProvenanceDraft, limits: EngineLimits
    ) throws -> (kind: ProvenanceKind, id: String?, payload: JSONValue, capturedAt: Microseconds?) {
        (
            try ProvenanceKind.parse(proto.kind), proto.id.isEmpty ? nil : proto.id,
            try self.value(proto.payload, limits: limits), proto.hasCapturedAtMicros ? proto.capturedAtMicros : nil
        )
    }

    package static func proto(
        draftKind kind: ProvenanceKind, id: String?, payload: JSONValue, capturedAt: Microseconds?
    ) -> Statehouse_V2_ProvenanceDraft {
        var proto = Statehouse_V2_ProvenanceDraft()
        proto.kind = kind.rawValue
        proto.id = id ?? ""
        proto.payload = Data(payload.utf8)
        if let capturedAt { proto.capturedAtMicros = capturedAt }
        return proto
    }

    package static func proto(_ record: ProvenanceRecord) -> Statehouse_V2_ProvenanceRecord {
        var proto = Statehouse_V2_ProvenanceRecord()
        proto.kind = record.kind.rawValue
        proto.id = record.id
        proto.agentID = record.agentID
        proto.capturedAtMicros = record.capturedAt
        proto.payload = Data(record.payload.utf8)
        proto.runID = record.runID ?? ""
        proto.commitTs = record.commitTS
        return proto
    }

    package static func provenanceRecord(_ proto: Statehouse_V2_ProvenanceRecord) throws -> ProvenanceRecord {
        ProvenanceRecord(
            kind: try ProvenanceKind.parse(proto.kind), id: proto.id, agentID: proto.agentID,
            capturedAt: proto.capturedAtMicros, payload: try JSONValue(validating: [UInt8](proto.payload)),
            runID: proto.runID.isEmpty ? nil : proto.runID, commitTS: proto.commitTs)
    }

    package static func proto(_ run: AgentRun) -> Statehouse_V2_AgentRun {
        var proto = Statehouse_V2_AgentRun()
        proto.id = run.id
        proto.agentID = run.agentID
        proto.status = run.status
        proto.startedAtMicros = run.startedAt
        if let endedAt = run.endedAt { proto.endedAtMicros = endedAt }
        proto.startCommitTs = run.startCommitTS
        if let end = run.endCommitTS { proto.endCommitTs = end }
        proto.provenance = run.provenance
        proto.metadata = run.metadata.map { Data($0.utf8) } ?? Data()
        return proto
    }

    package static func run(_ proto: Statehouse_V2_AgentRun) throws -> AgentRun {
        AgentRun(
            id: proto.id, agentID: proto.agentID, status: proto.status, startedAt: proto.startedAtMicros,
            endedAt: proto.hasEndedAtMicros ? proto.endedAtMicros : nil, startCommitTS: proto.startCommitTs,
            endCommitTS: proto.hasEndCommitTs ? proto.endCommitTs : nil, provenance: proto.provenance,
            metadata: proto.metadata.isEmpty ? nil : try JSONValue(validating: [UInt8](proto.metadata)))
    }
}
