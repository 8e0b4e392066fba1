import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP: re-reads the TLS certificate and key (``TLSCertificateFiles/reload()``), so that new connections of both
/// listeners get the new certificate while open ones keep theirs; a reload that fails keeps the old material and logs
/// why. Without TLS there is nothing to reload, and the signal is logged rather than ending the daemon (its default
/// action), so that a service manager's "reload" is harmless.
struct ReloadService: Service {
    let tls: TLSCertificateFiles?
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                guard let tls = self.tls else {
                    self.logger.notice("SIGHUP: nothing to reload (no TLS certificate is configured)")
                    continue
                }
                do {
                    try tls.reload()
                    self.logger.notice("Reloaded the TLS certificate", metadata: ["tls.cert": "\(tls.certificatePath)"])
                } catch {
                    self.logger.error(
                        "Reloading the TLS certificate failed; keeping the current one", metadata: ["error": "\(error)"]
                    )
                }
            }
        }
    }
}
