import GRPCCore
import StatehouseAccess
import StatehouseCore
import StatehouseProto
import StatehouseWire

// Provenance records and runs: validate the wire input, check access, call the engine, encode the result.
extension ServiceImplementation {
    func drafts(_ protos: [Statehouse_V2_ProvenanceDraft]) throws -> [StatehouseEngine.ProvenanceDraft] {
        try protos.map {
            let draft = try Wire.draft($0, limits: self.limits)
            return StatehouseEngine.ProvenanceDraft(
                kind: draft.kind, id: draft.id, payload: draft.payload, capturedAt: draft.capturedAt)
        }
    }

    func recordProvenance(
        request: Statehouse_V2_RecordProvenanceRequest, context: ServerContext
    ) async throws -> Statehouse_V2_RecordProvenanceResponse {
        try self.authorize(.recordEvents, request.namespace)
        let records = try await self.engine.recordProvenance(
            namespace: Wire.namespace(request.namespace), agentID: request.agentID, try self.drafts(request.records),
            runID: request.runID.isEmpty ? nil : request.runID)
        var response = Statehouse_V2_RecordProvenanceResponse()
        response.records = records.map(Wire.proto)
        return response
    }

    func getProvenance(
        request: Statehouse_V2_GetProvenanceRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ProvenanceRecord {
        try self.authorize(.readState, request.namespace)
        return Wire.proto(
            try await self.engine.getProvenance(
                namespace: Wire.namespace(request.namespace), kind: ProvenanceKind.parse(request.kind),
                id: request.id))
    }

    func listProvenance(
        request: Statehouse_V2_ListProvenanceRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ListProvenanceResponse {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.listProvenance(
            namespace: Wire.namespace(request.namespace), agentID: request.agentID.isEmpty ? nil : request.agentID,
            kind: request.kind.isEmpty ? nil : try ProvenanceKind.parse(request.kind),
            runID: request.runID.isEmpty ? nil : request.runID, limit: Wire.limit(request.limit),
            cursor: Wire.cursor(request.cursor))
        var response = Statehouse_V2_ListProvenanceResponse()
        response.records = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func provenanceAt(
        request: Statehouse_V2_ProvenanceAtRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ProvenanceAtResponse {
        try self.authorize(.readState, request.namespace)
        let found = try await self.engine.provenance(
            namespace: Wire.namespace(request.namespace), agentID: request.agentID,
            at: Wire.statePoint(request.hasAt ? request.at : nil))
        var response = Statehouse_V2_ProvenanceAtResponse()
        response.commitTs = found.commitTS
        if let run = found.run { response.run = Wire.proto(run) }
        response.records = found.records.map(Wire.proto)
        return response
    }

    func startRun(request: Statehouse_V2_StartRunRequest, context: ServerContext) async throws -> Statehouse_V2_AgentRun
    {
        try self.authorize(.recordEvents, request.namespace)
        return Wire.proto(
            try await self.engine.startRun(
                namespace: Wire.namespace(request.namespace), agentID: request.agentID,
                id: request.id.isEmpty ? nil : request.id, provenance: try self.drafts(request.provenance),
                metadata: try Wire.optionalValue(request.metadata, limits: self.limits)))
    }

    func endRun(request: Statehouse_V2_EndRunRequest, context: ServerContext) async throws -> Statehouse_V2_AgentRun {
        try self.authorize(.recordEvents, request.namespace)
        return Wire.proto(
            try await self.engine.endRun(
                namespace: Wire.namespace(request.namespace), id: request.id,
                status: request.status.isEmpty ? "succeeded" : request.status))
    }

    func getRun(
        request: Statehouse_V2_GetRunRequest, context: ServerContext
    ) async throws -> Statehouse_V2_GetRunResponse {
        try self.authorize(.readState, request.namespace)
        let namespace = Wire.namespace(request.namespace)
        let run = try await self.engine.getRun(namespace: namespace, id: request.id)
        var response = Statehouse_V2_GetRunResponse()
        response.run = Wire.proto(run)
        response.provenance = try await self.engine.listProvenance(
            namespace: namespace, runID: run.id, limit: self.limits.maxPageSize
        ).items.map(Wire.proto)
        response.commits = try await self.engine.runCommits(
            namespace: namespace, run: run, limit: request.commitLimit == 0 ? 1000 : Int(request.commitLimit)
        ).map(Wire.proto)
        return response
    }
}

extension ServiceImplementation {
    func advise(
        request: Statehouse_V2_AdviseRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AdviseResponse {
        try self.authorize(.readState, request.namespace)
        let namespace = Wire.namespace(request.namespace)
        var response = Statehouse_V2_AdviseResponse()
        let advisory: ProvenanceAdvisory
        if !request.fromRun.isEmpty || !request.toRun.isEmpty {
            guard !request.fromRun.isEmpty, !request.toRun.isEmpty else {
                throw StatehouseError.invalidArgument("compare two runs: give both from_run and to_run")
            }
            advisory = try await self.engine.advise(
                namespace: namespace, fromRun: request.fromRun, toRun: request.toRun)
        } else {
            let found = try await self.engine.advise(
                namespace: namespace, agentID: request.agentID,
                from: Wire.statePoint(request.hasFrom ? request.from : nil),
                to: Wire.statePoint(request.hasTo ? request.to : nil))
            response.fromCommitTs = found.fromCommitTS
            response.toCommitTs = found.toCommitTS
            advisory = found.advisory
        }
        response.score = Int32(advisory.score)
        response.findings = advisory.findings.map { finding in
            var proto = Statehouse_V2_AdvisoryFinding()
            proto.rule = finding.rule
            proto.points = Int32(finding.points)
            proto.message = finding.message
            proto.recommendation = finding.recommendation
            return proto
        }
        return response
    }

    func getReplayPlan(
        request: Statehouse_V2_GetReplayPlanRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ReplayPlan {
        try self.authorize(.readState, request.namespace)
        let plan = try await self.engine.replayPlan(namespace: Wire.namespace(request.namespace), runID: request.runID)
        var response = Statehouse_V2_ReplayPlan()
        response.runID = request.runID
        response.sources = plan.sources.map { source in
            var proto = Statehouse_V2_ReplaySource()
            proto.source = source.source
            proto.steps = source.steps.map { step in
                var proto = Statehouse_V2_ReplayStep()
                proto.sequence = step.sequence
                proto.type = step.type
                proto.id = step.id
                proto.record = step.record
                proto.hash = step.hash ?? ""
                return proto
            }
            return proto
        }
        response.findings = plan.findings.map { finding in
            var proto = Statehouse_V2_ReplayFinding()
            proto.rule = finding.rule
            proto.source = finding.source
            proto.message = finding.message
            return proto
        }
        return response
    }
}
