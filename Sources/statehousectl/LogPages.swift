import StatehouseClient
import StatehouseModel

/// Reads a namespace's events `from…through` in commit_ts order and hands each page to `body` (audit export, export).
///
/// commit_ts is gap-free, so every page's range is known in advance: a few are asked for at once and travel while the
/// current one is handled (the daemon and the client each get a core). A page the daemon cut short (its response size
/// limit) is completed before it is handed on.
func forEachLogPage(
    client: StatehouseClient, namespace: String, from first: CommitTS, through last: CommitTS,
    _ body: ([Event]) async throws -> Void
) async throws {
    let pageSize: UInt64 = 1000
    let pagesInFlight = 3
    @Sendable func readPage(from start: CommitTS, through end: CommitTS) async throws -> Page<Event> {
        try await client.readLog(
            LogFilter(namespace: namespace, fromCommitTS: start, toCommitTS: end), limit: Int(pageSize))
    }
    var inFlight: [(end: CommitTS, page: Task<Page<Event>, any Error>)] = []
    var nextStart = first
    func askForPages() {
        while inFlight.count < pagesInFlight, nextStart <= last {
            let (start, end) = (nextStart, min(nextStart + pageSize - 1, last))
            inFlight.append((end, Task { try await readPage(from: start, through: end) }))
            nextStart = end + 1
        }
    }
    askForPages()
    defer { for request in inFlight { request.page.cancel() } }
    while !inFlight.isEmpty {
        let request = inFlight.removeFirst()
        var page = try await request.page.value
        askForPages()
        while let tail = page.items.last, tail.commitTS < request.end {
            let rest = try await readPage(from: tail.commitTS + 1, through: request.end)
            guard !rest.items.isEmpty else { break }
            page.items += rest.items
        }
        try await body(page.items)
    }
}
