import ArgumentParser
import Foundation
import Histogram
import StatehouseClient
import StatehouseModel
import Synchronization

/// `statehousectl bench`: a bounded load generator against a running daemon.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput and latency against a running statehoused.",
        discussion: """
            Runs until --duration or --ops is reached, whichever comes first, over the pipelined session stream \
            (or unary calls with --unary). It writes into its own namespace, "bench", unless -n names another (its \
            agents are bench-N and bench-reader), and says where it wrote. With --daemon-pid it also reports the \
            daemon's CPU time per operation (from /proc).
            """
    )

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        case put, txn, interactive, get, scan, replay
    }

    @OptionGroup var global: GlobalOptions
    @Option(help: "put (1-write commits), txn (10 writes), interactive (begin/write/commit), get, scan or replay.")
    var workload: Workload = .put
    @Option(help: "Concurrent clients.") var clients = 16
    @Option(help: "Seconds to run (at most 3600).") var duration = 10.0
    @Option(help: "Stop after this many operations.") var ops: Int?
    @Option(help: "Bytes per value.") var valueBytes = 100
    @Option(help: "Distinct keys per client (put, txn, interactive) or in all (get, scan).") var keys = 1000
    @Flag(help: "Use one unary call per request instead of the session stream.") var unary = false
    @Option(help: "statehoused's pid, to report its CPU time per operation.") var daemonPID: Int32?

    func validate() throws {
        guard (1...4096).contains(self.clients) else { throw ValidationError("--clients must be 1…4096") }
        guard self.duration > 0 && self.duration <= 3600 else {
            throw ValidationError("--duration must be in (0, 3600] seconds")
        }
        guard self.valueBytes >= 2 && self.valueBytes <= 1 << 20 else {
            throw ValidationError("--value-bytes must be 2…1048576")
        }
        guard self.keys >= 1 else { throw ValidationError("--keys must be at least 1") }
        if let ops = self.ops, ops < 1 { throw ValidationError("--ops must be at least 1") }
    }

    /// Where the bench writes: "bench", so that a run never lands in a user's real data by accident.
    var namespace: String { self.global.namespace ?? "bench" }

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let value = try JSONValue(validating: "\"" + String(repeating: "x", count: self.valueBytes - 2) + "\"")
        let namespace = self.namespace
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await self.prepare(client, value: value)
            let cpuBefore = self.daemonPID.flatMap(Self.cpuMicroseconds)
            let measured: (count: Int, seconds: Double, histogram: Histogram<UInt64>, events: Int)
            if self.unary {
                measured = try await self.measure { worker, iteration in
                    try await self.operation(
                        client: client, session: nil, worker: worker, iteration: iteration, value: value,
                        namespace: namespace)
                }
            } else {
                measured = try await client.withSession { session in
                    try await self.measure { worker, iteration in
                        try await self.operation(
                            client: client, session: session, worker: worker, iteration: iteration, value: value,
                            namespace: namespace)
                    }
                }
            }
            let cpuAfter = self.daemonPID.flatMap(Self.cpuMicroseconds)
            let cpuPerOp = zip2(cpuBefore, cpuAfter).map { Double($1 - $0) / Double(max(1, measured.count)) }
            return (measured, cpuPerOp)
        }
        self.report(result.0, cpuPerOperation: result.1)
    }

    /// Writes the keys that read workloads read.
    private func prepare(_ client: StatehouseClient, value: JSONValue) async throws {
        switch self.workload {
        case .get, .scan:
            for start in stride(from: 0, to: self.keys, by: 1000) {
                let operations = (start..<min(start + 1000, self.keys)).map {
                    WriteOperation.put(agentID: "bench-reader", key: "key/\($0)", value: value)
                }
                _ = try await client.commit(AtomicCommit(namespace: self.namespace, operations: operations))
            }
        case .replay:
            if try await client.head(namespace: self.namespace).commitTS == 0 {
                _ = try await client.commit(
                    AtomicCommit(
                        namespace: self.namespace,
                        operations: [.put(agentID: "bench", key: "seed", value: value)]))
            }
        case .put, .txn, .interactive:
            break
        }
    }

    /// One operation; returns the number of events it read (replay) or 0.
    private func operation(
        client: StatehouseClient,
        session: StatehouseSession?,
        worker: Int,
        iteration: Int,
        value: JSONValue,
        namespace: String
    ) async throws -> Int {
        let agent = "bench-\(worker)"
        switch self.workload {
        case .put:
            let commit = AtomicCommit(
                namespace: namespace,
                operations: [.put(agentID: agent, key: "key/\(iteration % self.keys)", value: value)])
            if let session { _ = try await session.commit(commit) } else { _ = try await client.commit(commit) }
        case .txn:
            let operations = (0..<10).map {
                WriteOperation.put(agentID: agent, key: "key/\((iteration * 10 + $0) % self.keys)", value: value)
            }
            let commit = AtomicCommit(namespace: namespace, operations: operations)
            if let session { _ = try await session.commit(commit) } else { _ = try await client.commit(commit) }
        case .interactive:
            let operation = WriteOperation.put(agentID: agent, key: "key/\(iteration % self.keys)", value: value)
            if let session {
                _ = try await session.transaction(namespace: namespace, operations: [operation])
            } else {
                let transaction = try await client.beginTransaction(namespace: namespace)
                try await transaction.put(agentID: operation.agentID, key: operation.key, value: value)
                _ = try await transaction.commit()
            }
        case .get:
            let key = "key/\((iteration &* 7919 &+ worker) % self.keys)"
            if let session {
                _ = try await session.get(namespace: namespace, agentID: "bench-reader", key: key)
            } else {
                _ = try await client.get(namespace: namespace, agentID: "bench-reader", key: key)
            }
        case .scan:
            let prefix = "key/\(iteration % 10)"
            if let session {
                _ = try await session.scan(namespace: namespace, agentID: "bench-reader", prefix: prefix)
            } else {
                _ = try await client.scan(namespace: namespace, agentID: "bench-reader", prefix: prefix, limit: 100)
            }
        case .replay:
            return try await client.replay(LogFilter(namespace: namespace)) { events in
                var count = 0
                for try await _ in events { count += 1 }
                return count
            }
        }
        return 0
    }

    /// Runs `body` from `clients` tasks until the duration or the operation budget is used up.
    private func measure(
        _ body: @escaping @Sendable (_ worker: Int, _ iteration: Int) async throws -> Int
    ) async throws -> (count: Int, seconds: Double, histogram: Histogram<UInt64>, events: Int) {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int(self.duration * 1000)))
        let budget = self.ops ?? Int.max
        let done = Counter()
        let (count, histogram, events) = try await withThrowingTaskGroup(of: (Histogram<UInt64>, Int)?.self) { group in
            group.addTask {
                // Progress once a second, on a terminal only.
                let progress = Progress("bench")
                var last = 0
                while clock.now < deadline && done.current < budget {
                    try? await Task.sleep(for: .seconds(1))
                    let now = done.current
                    progress.update(now, unit: "ops, \(now - last) ops/s")
                    last = now
                }
                progress.finish()
                return nil
            }
            for worker in 0..<self.clients {
                group.addTask {
                    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000)
                    var events = 0
                    var iteration = 0
                    while clock.now < deadline {
                        guard done.next() <= budget else { break }
                        let before = clock.now
                        events += try await body(worker, iteration)
                        let took = before.duration(to: clock.now)
                        _ = histogram.record(
                            UInt64(took.components.seconds) * 1_000_000
                                + UInt64(took.components.attoseconds / 1_000_000_000_000))
                        iteration += 1
                    }
                    return (histogram, events)
                }
            }
            var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000)
            var events = 0
            for try await result in group {
                guard let (histogram, workerEvents) = result else { continue }
                merged.add(histogram)
                events += workerEvents
            }
            return (Int(merged.totalCount), merged, events)
        }
        let elapsed = start.duration(to: clock.now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (count, seconds, histogram, events)
    }

    private func report(
        _ measured: (count: Int, seconds: Double, histogram: Histogram<UInt64>, events: Int), cpuPerOperation: Double?
    ) {
        let rate = Double(measured.count) / measured.seconds
        let percentiles = [50.0, 90.0, 99.0, 99.9].map { measured.histogram.valueAtPercentile($0) }
        let mode = self.unary ? "unary" : "session"
        if (try? self.global.format) == .json {
            var fields: [(String, JSONOutput)] = [
                ("workload", .string(self.workload.rawValue)), ("mode", .string(mode)),
                ("namespace", .string(self.namespace)), ("clients", .int(self.clients)),
                ("ops", .int(measured.count)), ("seconds", .number(String(format: "%.3f", measured.seconds))),
                ("ops_per_second", .number(String(format: "%.1f", rate))),
                ("p50_us", .int(percentiles[0])), ("p90_us", .int(percentiles[1])), ("p99_us", .int(percentiles[2])),
                ("p999_us", .int(percentiles[3])), ("max_us", .int(measured.histogram.max)),
            ]
            if measured.events > 0 {
                fields.append(
                    ("events_per_second", .number(String(format: "%.1f", Double(measured.events) / measured.seconds))))
            }
            if let cpu = cpuPerOperation {
                fields.append(("daemon_cpu_us_per_op", .number(String(format: "%.1f", cpu))))
            }
            print(JSONOutput.object(fields).text)
            return
        }
        print(
            "workload \(self.workload.rawValue)  mode \(mode)  clients \(self.clients)  \(String(format: "%.1f", measured.seconds)) s"
                + "  namespace \(self.namespace)")
        print(
            "ops \(measured.count)  ops/s \(String(format: "%.0f", rate))"
                + (measured.events > 0
                    ? "  events/s \(String(format: "%.0f", Double(measured.events) / measured.seconds))" : "")
                + (cpuPerOperation.map { "  daemon CPU \(String(format: "%.1f", $0)) µs/op" } ?? ""))
        print(
            "latency µs  p50 \(percentiles[0])  p90 \(percentiles[1])  p99 \(percentiles[2])  p999 \(percentiles[3])  max \(measured.histogram.max)"
        )
    }

    /// utime + stime of a process in µs, from /proc/PID/stat.
    static func cpuMicroseconds(_ pid: Int32) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        let ticks = Int(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) * 1_000_000 / max(1, ticks)
    }
}

/// Operations started, shared by the bench's tasks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    var current: Int { self.value.load(ordering: .relaxed) }

    /// Takes one operation; returns its 1-based number.
    func next() -> Int { self.value.add(1, ordering: .relaxed).newValue }
}

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
