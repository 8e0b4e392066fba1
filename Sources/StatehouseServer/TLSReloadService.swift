import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads the TLS certificate and key on SIGHUP (``TLSCertificateFiles/reload()``): new connections of both
/// listeners get the new certificate, open ones keep theirs. A reload that fails keeps the old material and logs why.
struct TLSReloadService: Service {
    let files: TLSCertificateFiles
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                do {
                    try self.files.reload()
                    self.logger.notice(
                        "Reloaded the TLS certificate", metadata: ["tls.cert": "\(self.files.certificatePath)"])
                } catch {
                    self.logger.error(
                        "Reloading the TLS certificate failed; keeping the current one", metadata: ["error": "\(error)"]
                    )
                }
            }
        }
    }
}
