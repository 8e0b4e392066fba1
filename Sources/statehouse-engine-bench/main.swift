// Benchmarks of the engine itself (no network): durable commits, reads, history and log scans on the SQLite
// store in a temporary directory with synchronous=FULL. Prints a table; never fails on speed.
//
// Usage: statehouse-engine-bench [--seconds S] [--data-dir DIR] [--filter TEXT] [--readers N]
import Foundation
import Logging
import StatehouseCore
import StatehouseSQLite

struct Options {
    var seconds = 3.0
    var dataDirectory: String?
    /// Only runs whose name contains this text.
    var filter: String?
    /// Reader threads of the SQLite store.
    var readers = SQLiteConfiguration.inMemory().readerCount

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--seconds": self.seconds = Double(iterator.next() ?? "") ?? self.seconds
            case "--data-dir": self.dataDirectory = iterator.next()
            case "--filter": self.filter = iterator.next()
            case "--readers": self.readers = Int(iterator.next() ?? "") ?? self.readers
            default:
                FileHandle.standardError.write(
                    Data(
                        "usage: statehouse-engine-bench [--seconds S] [--data-dir DIR] [--filter TEXT] [--readers N]\n"
                            .utf8))
                exit(2)
            }
        }
    }
}

/// Latencies of one run, in microseconds.
struct Measurement {
    var name: String
    var operations: Int
    var elapsed: Duration
    var latencies: [Double]
    var unit = "ops/s"
    var skipped = false

    var rate: Double { Double(self.operations) / self.seconds }
    var seconds: Double { Double(self.elapsed.components.seconds) + Double(self.elapsed.components.attoseconds) / 1e18 }

    func percentile(_ p: Double) -> Double {
        guard !self.latencies.isEmpty else { return 0 }
        let sorted = self.latencies.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    var row: String {
        let latency =
            self.latencies.isEmpty
            ? String(repeating: " ", count: 30) + "-"
            : String(format: "%9.0f %9.0f %9.0f", self.percentile(0.5), self.percentile(0.99), self.percentile(0.999))
        return self.name.padding(toLength: 44, withPad: " ", startingAt: 0)
            + String(format: "%12.0f %-9@", self.rate, self.unit as NSString) + latency
    }
}

let options = Options(CommandLine.arguments)

func selected(_ name: String) -> Bool {
    options.filter.map { name.contains($0) } ?? true
}

func report(_ measurement: Measurement) {
    if !measurement.skipped { print(measurement.row) }
}
let logger = Logger(label: "statehouse.bench", factory: { _ in SwiftLogNoOpLogHandler() })
let directory =
    options.dataDirectory
    ?? FileManager.default.temporaryDirectory.appendingPathComponent("statehouse-bench-\(UUID().uuidString)").path
let clock = ContinuousClock()
let keySpread = 1000
let value = try JSONValue(
    validating: #"{"role":"planner","step":42,"note":"benchmark value of about one hundred bytes....."}"#)

/// Runs `body` from `concurrency` tasks until `seconds` pass; each call is one operation.
func measure(
    _ name: String,
    concurrency: Int,
    seconds: Double,
    operationsPerCall: Int = 1,
    _ body: @escaping @Sendable (_ worker: Int, _ iteration: Int) async throws -> Void
) async throws -> Measurement {
    guard selected(name) else {
        return Measurement(name: name, operations: 0, elapsed: .zero, latencies: [], skipped: true)
    }
    let deadline = clock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
    let start = clock.now
    let results = try await withThrowingTaskGroup(of: [Double].self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                var latencies: [Double] = []
                var iteration = 0
                while clock.now < deadline && iteration < 50_000_000 {
                    let before = clock.now
                    try await body(worker, iteration)
                    let took = before.duration(to: clock.now)
                    latencies.append(Double(took.components.attoseconds) / 1e12 + Double(took.components.seconds) * 1e6)
                    iteration += 1
                }
                return latencies
            }
        }
        var all: [Double] = []
        for try await latencies in group { all += latencies }
        return all
    }
    let elapsed = start.duration(to: clock.now)
    return Measurement(name: name, operations: results.count * operationsPerCall, elapsed: elapsed, latencies: results)
}

print(
    "Statehouse engine benchmark: SQLite store at \(directory), synchronous=FULL, \(options.readers) reader threads, "
        + "\(options.seconds) s per run")
print("Each row: throughput, then latency per call in µs (p50, p99, p99.9).")
print("")
print(
    "benchmark".padding(toLength: 44, withPad: " ", startingAt: 0)
        + "  throughput"
        + String(repeating: " ", count: 11) + "p50       p99     p99.9")

var storeConfiguration = SQLiteConfiguration.directory(directory)
storeConfiguration.readerCount = options.readers
let backend = try await SQLiteBackend.open(configuration: storeConfiguration, logger: logger)
let engine = StatehouseEngine(
    backend: backend,
    configuration: .defaults { configuration in
        let environment = ProcessInfo.processInfo.environment
        if let step = environment["STATEHOUSE_BENCH_COMPACTION_STEP"].flatMap(Int.init) {
            configuration.compactionStepSize = step
        }
        if let pause = environment["STATEHOUSE_BENCH_COMPACTION_PAUSE_MS"].flatMap(Int.init) {
            configuration.compactionPause = .milliseconds(pause)
        }
    }, logger: logger)
try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { await engine.run() }
    defer { group.cancelAll() }

    for concurrency in [1, 16, 64] {
        let result = try await measure(
            "durable 1-write commits, \(concurrency) committers", concurrency: concurrency,
            seconds: options.seconds
        ) { worker, iteration in
            _ = try await engine.commit(
                AtomicCommit(operations: [
                    .put(agentID: "writer-\(worker)", key: "key/\(iteration % keySpread)", value: value)
                ]))
        }
        report(result)
    }
    for concurrency in [1, 64] {
        let result = try await measure(
            "10-write transactions, \(concurrency) committers", concurrency: concurrency,
            seconds: options.seconds
        ) { worker, iteration in
            _ = try await engine.commit(
                AtomicCommit(
                    operations: (0..<10).map {
                        .put(agentID: "txn-\(worker)", key: "key/\((iteration * 10 + $0) % 5000)", value: value)
                    }))
        }
        report(result)
    }
    do {
        let result = try await measure(
            "interactive begin/put/commit, 64 clients", concurrency: 64,
            seconds: options.seconds
        ) { worker, iteration in
            let txn = try engine.beginTransaction()
            try engine.put(
                txnID: txn.txnID, agentID: "interactive-\(worker)", key: "key/\(iteration % 100)", value: value)
            _ = try await engine.commit(txnID: txn.txnID)
        }
        report(result)
    }

    // Reads: 10,000 keys of one agent, and one key with a long history.
    for chunk in 0..<10 {
        _ = try await engine.commit(
            AtomicCommit(
                operations: (0..<1000).map {
                    .put(agentID: "reader", key: "key/\(chunk * 1000 + $0)", value: value)
                }))
    }
    for concurrency in [1, 2, 64] {
        let result = try await measure(
            "point reads (latest), \(concurrency) readers", concurrency: concurrency,
            seconds: options.seconds
        ) { worker, iteration in
            _ = try await engine.get(agentID: "reader", key: "key/\((iteration * 7919 + worker) % 10_000)")
        }
        report(result)
    }
    for concurrency in [1, 2] {
        var result = try await measure(
            "multi-key reads of 100 keys, \(concurrency) readers", concurrency: concurrency,
            seconds: options.seconds
        ) { worker, iteration in
            let keys = (0..<100).map {
                KeyAddress(agentID: "reader", key: "key/\((iteration * 7919 + worker * 100 + $0) % 10_000)")
            }
            _ = try await engine.get(keys: keys)
        }
        result.operations *= 100
        result.unit = "keys/s"
        report(result)
    }
    let short = try await measure("latest read, key with 1 version", concurrency: 1, seconds: options.seconds / 2) {
        _, _ in
        _ = try await engine.get(agentID: "reader", key: "key/1")
    }
    for start in stride(from: 0, to: 10_000, by: 1000) {
        _ = try await withThrowingTaskGroup(of: Void.self) { group in
            for version in start..<(start + 1000) {
                group.addTask { _ = try await engine.put(agentID: "reader", key: "hot", value: "\(version)") }
            }
            try await group.waitForAll()
        }
    }
    let long = try await measure("latest read, key with 10,000 versions", concurrency: 1, seconds: options.seconds / 2)
    { _, _ in
        _ = try await engine.get(agentID: "reader", key: "hot")
    }
    report(short)
    report(long)
    let asOf = try await measure(
        "read as of a commit_ts, 10,000 versions", concurrency: 1, seconds: options.seconds / 2
    ) { _, iteration in
        _ = try await engine.get(agentID: "reader", key: "hot", at: .commit(CommitTS(1000 + iteration % 1000)))
    }
    report(asOf)
    var history = try await measure("key history, pages of 100 versions", concurrency: 1, seconds: options.seconds) {
        _, _ in
        _ = try await engine.history(agentID: "reader", key: "hot", limit: 100)
    }
    history.name = "key history, pages of 100 versions"
    history.operations *= 100
    history.unit = "versions/s"
    report(history)
    let scan = try await measure("prefix scan, pages of 100 keys", concurrency: 1, seconds: options.seconds) {
        _, iteration in
        _ = try await engine.scan(agentID: "reader", prefix: "key/\(iteration % 10)", limit: 100)
    }
    report(scan)

    // The ledger: proofs and verified reads over the log written above (about 10,000 events by now).
    let treeSize = try await engine.treeHead().treeSize
    for concurrency in [1, 2, 64] {
        let result = try await measure(
            "inclusion proofs (tree of \(treeSize)), \(concurrency) readers", concurrency: concurrency,
            seconds: options.seconds
        ) { worker, iteration in
            _ = try await engine.inclusionProof(commitTS: CommitTS(1 + (iteration * 7919 + worker) % Int(treeSize)))
        }
        report(result)
    }
    for concurrency in [1, 2] {
        let result = try await measure(
            "verified reads, key of a 1,000-write commit, \(concurrency) readers", concurrency: concurrency,
            seconds: options.seconds
        ) { worker, iteration in
            _ = try await engine.verifiedGet(agentID: "reader", key: "key/\((iteration * 7919 + worker) % 10_000)")
        }
        report(result)
    }
    for concurrency in [1, 2] {
        // "hot" was written by 10,000 one-write commits: the event returned with the proof is small.
        let plain = try await measure(
            "plain reads, key of a 1-write commit, \(concurrency) readers", concurrency: concurrency,
            seconds: options.seconds / 2
        ) { _, _ in
            _ = try await engine.get(agentID: "reader", key: "hot")
        }
        report(plain)
        let verified = try await measure(
            "verified reads, key of a 1-write commit, \(concurrency) readers", concurrency: concurrency,
            seconds: options.seconds / 2
        ) { _, _ in
            _ = try await engine.verifiedGet(agentID: "reader", key: "hot")
        }
        report(verified)
    }
    let signing = try await measure("tree heads signed (a new size each)", concurrency: 1, seconds: options.seconds / 2)
    { _, iteration in
        _ = try await engine.signedTreeHead(size: UInt64(1 + iteration % Int(treeSize)))
    }
    report(signing)

    // Listings: 100,000 keys of one agent. A page's cost must not depend on where its cursor is.
    if selected("key listing") {
        for chunk in 0..<100 {
            _ = try await engine.commit(
                AtomicCommit(
                    operations: (0..<1000).map {
                        .put(agentID: "lister", key: "key/\(String(format: "%06d", chunk * 1000 + $0))", value: value)
                    }))
        }
        let listStart = clock.now
        var listed = 0
        var lastCursor: String?
        var cursor: String?
        repeat {
            let page = try await engine.listKeys(agentID: "lister", limit: 1000, cursor: cursor)
            listed += page.items.count
            if page.nextCursor != nil { lastCursor = page.nextCursor }
            cursor = page.nextCursor
        } while cursor != nil
        var whole = Measurement(
            name: "key listing, all 100,000 keys in pages of 1,000", operations: listed,
            elapsed: listStart.duration(to: clock.now), latencies: [])
        whole.unit = "keys/s"
        report(whole)
        precondition(listed == 100_000, "listed \(listed) of 100,000 keys")
        let first = try await measure(
            "key listing, first page of 1,000 keys", concurrency: 1, seconds: options.seconds / 2
        ) { _, _ in
            _ = try await engine.listKeys(agentID: "lister", limit: 1000)
        }
        report(first)
        let deepCursor = lastCursor
        let last = try await measure(
            "key listing, last page of 1,000 keys", concurrency: 1, seconds: options.seconds / 2
        ) { _, _ in
            _ = try await engine.listKeys(agentID: "lister", limit: 1000, cursor: deepCursor)
        }
        report(last)
    }

    // The agent lifecycle: a snapshot names a point (its cost does not depend on the agent's size); a restore writes
    // the difference in one commit.
    if selected("snapshot create") {
        let result = try await measure(
            "snapshot create, agent of 10,000 keys", concurrency: 1, seconds: options.seconds
        ) { _, iteration in
            _ = try await engine.createSnapshot(name: "bench-\(iteration)", agentID: "reader")
        }
        report(result)
    }
    for keys in [1000, 100_000] where selected("restore, \(keys)") {
        let agent = "restore-\(keys)"
        func write(_ marker: Int) async throws {
            for chunk in stride(from: 0, to: keys, by: 5000) {
                _ = try await engine.commit(
                    AtomicCommit(
                        operations: (chunk..<min(chunk + 5000, keys)).map {
                            .put(
                                agentID: agent, key: "key/\($0)", value: try! JSONValue(validating: "[\(marker),\($0)]")
                            )
                        }))
            }
        }
        try await write(0)
        _ = try await engine.createSnapshot(name: "\(agent)-a", agentID: agent)
        try await write(1)
        _ = try await engine.createSnapshot(name: "\(agent)-b", agentID: agent)
        // Each restore changes every key: a and b alternate.
        let result = try await measure(
            "restore, \(keys) keys changed", concurrency: 1, seconds: keys > 10_000 ? 0.1 : options.seconds
        ) { _, iteration in
            let copy = try await engine.restoreSnapshot(name: "\(agent)-\(iteration % 2 == 0 ? "a" : "b")")
            precondition(copy.puts == keys, "a restore wrote \(copy.puts) of \(keys) keys")
        }
        report(result)
    }
    // Retention: 1-write commits from 64 committers without, then during, a compaction that removes 100,000 values
    // (20,000 keys × 6 versions of 400 bytes, keep the latest). The target: p99 during at most twice p99 without.
    if selected("compaction") {
        let filler = String(repeating: "r", count: 380)
        for round in 0..<6 {
            for chunk in stride(from: 0, to: 20_000, by: 2000) {
                _ = try await engine.commit(
                    AtomicCommit(
                        operations: (chunk..<chunk + 2000).map {
                            .put(
                                agentID: "retained", key: "key/\($0)",
                                value: try! JSONValue(validating: "[\(round),\"\(filler)\"]"))
                        }))
            }
        }
        func commits(_ name: String) async throws -> Measurement {
            try await measure(name, concurrency: 64, seconds: options.seconds) { worker, iteration in
                _ = try await engine.commit(
                    AtomicCommit(operations: [
                        .put(agentID: "during-\(worker)", key: "key/\(iteration % keySpread)", value: value)
                    ]))
            }
        }
        report(try await commits("compaction: 1-write commits, 64, before"))
        try await engine.setRetention(policy: RetentionPolicy(keepVersions: 1))
        let started = clock.now
        let compaction = Task { try await engine.compact() }
        report(try await commits("compaction: the same while it runs"))
        let compacted = try await compaction.value
        var removal = Measurement(
            name: "compaction: \(compacted.valuesRemoved) values removed", operations: compacted.valuesRemoved,
            elapsed: started.duration(to: clock.now), latencies: [])
        removal.unit = "values/s"
        report(removal)
    }
    if selected("search") {
        let words = [
            "disk", "network", "timeout", "memory", "planner", "weather", "invoice", "upload", "retry", "cache",
            "login", "report", "deploy", "search", "budget", "email",
        ]
        let events = Int(ProcessInfo.processInfo.environment["STATEHOUSE_BENCH_SEARCH_EVENTS"] ?? "") ?? 100_000
        for batch in stride(from: 0, to: events, by: 1000) {
            _ = try await engine.recordEvents(
                (batch..<min(batch + 1000, events)).map { index in
                    AgentEventDraft(
                        agentID: "agent-\(index % 50)", type: index % 7 == 0 ? "error" : "message",
                        content: try! JSONValue(
                            validating:
                                #"{"text":"\#(words[index % 16]) \#(words[(index / 16) % 16]) \#(words[(index / 256) % 16]) event \#(index)"}"#
                        ),
                        sessionID: "s\(index % 1000)")
                })
        }
        var result = try await measure(
            "search, two words + agent and type filters, \(events) events", concurrency: 1, seconds: options.seconds
        ) { _, iteration in
            // Two different words (the same word twice would be a one-word query, over six times as many events).
            _ = try await engine.search(
                SearchQuery(
                    "\(words[iteration % 16]) \(words[(iteration + 1 + iteration / 16 % 15) % 16])", kinds: [.event],
                    agentID: "agent-\(iteration % 50)", type: "error"),
                limit: 20)
        }
        result.unit = "queries/s"
        report(result)
        var oneWord = try await measure(
            "search, one word + agent and type filters, \(events) events", concurrency: 1, seconds: options.seconds
        ) { _, iteration in
            _ = try await engine.search(
                SearchQuery(words[iteration % 16], kinds: [.event], agentID: "agent-\(iteration % 50)", type: "error"),
                limit: 20)
        }
        oneWord.unit = "queries/s"
        report(oneWord)
        var plain = try await measure(
            "search, two words, no filter, \(events) events", concurrency: 1, seconds: options.seconds
        ) { _, iteration in
            _ = try await engine.search(
                SearchQuery("\(words[iteration % 16]) \(words[(iteration + 1 + iteration / 16 % 15) % 16])"), limit: 20)
        }
        plain.unit = "queries/s"
        report(plain)
    }

    // The log: at least 100,000 events (committed 1,000 at a time by concurrent committers), read in pages of 1,000.
    guard selected("log read") || selected("verify") else { return }
    while try await engine.head().commitTS < 100_000 {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<1000 {
                group.addTask {
                    _ = try await engine.put(agentID: "log-\(index % 64)", key: "key/\(index)", value: "\(index)")
                }
            }
            try await group.waitForAll()
        }
    }
    let head = try await engine.head()
    if selected("log read") {
        let logStart = clock.now
        var events = 0
        var operations = 0
        var pages: [Double] = []
        var cursor: String?
        repeat {
            let before = clock.now
            let page = try await engine.readLog(LogFilter(), limit: 1000, cursor: cursor)
            let took = before.duration(to: clock.now)
            pages.append(Double(took.components.attoseconds) / 1e12 + Double(took.components.seconds) * 1e6)
            events += page.items.count
            operations += page.items.reduce(0) { $0 + $1.operations.count }
            cursor = page.nextCursor
        } while cursor != nil
        var log = Measurement(
            name: "log read, \(events) events (\(operations) ops)", operations: events,
            elapsed: logStart.duration(to: clock.now), latencies: pages)
        log.unit = "events/s"
        report(log)
        precondition(CommitTS(events) == head.commitTS, "log read returned \(events) of \(head.commitTS) events")
    }
    if selected("verify") {
        let verifyStart = clock.now
        let verification = try await engine.verify()
        var verify = Measurement(
            name: "verify the hash chain", operations: verification.eventsChecked,
            elapsed: verifyStart.duration(to: clock.now), latencies: [])
        verify.unit = "events/s"
        report(verify)
    }

}

extension StatehouseEngine {
    fileprivate func put(agentID: String, key: String, value: String) async throws -> CommitResult {
        try await self.commit(
            AtomicCommit(operations: [.put(agentID: agentID, key: key, value: try JSONValue(validating: value))]))
    }
}
if options.dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) }
