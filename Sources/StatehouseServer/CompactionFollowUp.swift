import Logging
import StatehouseAccess
import StatehouseArtifacts
import StatehouseCore

/// What the daemon does after each background compaction (`compaction-interval`): compaction removes old values, and
/// with them the last mention of some artifacts and some stored bytes, so this
///
/// - recounts the stored bytes of every namespace that lost values, for `quota-stored-bytes`;
/// - collects, in every namespace with artifacts, the blobs no stored value names any more and older than
///   `artifact-gc-min-age` (what `statehousectl artifact gc` does on demand).
///
/// Failures are logged and left for the next round: the daemon goes on serving.
struct CompactionFollowUp: Sendable {
    let engine: StatehouseEngine
    let access: AccessControl
    let artifacts: (any ArtifactStorage)?
    let minimumAge: Duration
    let logger: Logger

    func run(_ reports: [CompactionReport]) async {
        for report in reports { self.access.quotas.recountStoredBytes(namespace: report.namespace) }
        guard let artifacts else { return }
        let namespaces: [String]
        do {
            namespaces = try await artifacts.namespaces()
        } catch {
            self.logger.warning("Listing artifact namespaces failed", metadata: ["error": "\(error)"])
            return
        }
        for namespace in namespaces {
            guard !Task.isCancelled else { return }
            do {
                let referenced = try await self.engine.referencedDigests(namespace: namespace)
                let collection = try await artifacts.collect(
                    namespace: namespace, referenced: referenced, minimumAge: self.minimumAge)
                if collection.removed > 0 {
                    self.logger.info(
                        "Collected unreferenced artifacts",
                        metadata: [
                            "namespace": "\(namespace)", "removed": "\(collection.removed)",
                            "bytes": "\(collection.bytesRemoved)",
                        ])
                }
            } catch {
                self.logger.warning(
                    "Collecting artifacts failed", metadata: ["namespace": "\(namespace)", "error": "\(error)"])
            }
        }
    }
}
