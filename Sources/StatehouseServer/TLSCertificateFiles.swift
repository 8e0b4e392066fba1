import Logging
import NIOCertificateReloading
import NIOSSL
import StatehouseModel
import Synchronization

/// The daemon's TLS material (`--tls-cert`, `--tls-key`, `--tls-client-ca`), read from PEM files at startup and again
/// on SIGHUP, for both listeners.
///
/// It is a `CertificateReloader`: each new TLS handshake, gRPC's and HTTP's, takes the certificate and key it holds
/// now, so a reload changes what new connections see while open ones keep theirs (nothing is dropped). A reload that
/// cannot read or parse the files keeps the material it had and says why.
final class TLSCertificateFiles: CertificateReloader, Sendable {
    let certificatePath: String
    let keyPath: String
    /// Clients must present a certificate signed by one of these (mTLS); nil accepts any client.
    let clientCAPath: String?
    private let current: Mutex<NIOSSLContextConfigurationOverride>

    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` naming the file that cannot be read or parsed.
    init(certificatePath: String, keyPath: String, clientCAPath: String?) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
        self.current = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
        if let clientCAPath { _ = try Self.certificates(clientCAPath, setting: "tls-client-ca") }
    }

    var sslContextConfigurationOverride: NIOSSLContextConfigurationOverride {
        self.current.withLock { $0 }
    }

    /// The client CA's certificates (mTLS trust roots); nil without `tls-client-ca`. Throws rather than answer nil
    /// for a file that became unreadable, which would let any client in.
    func clientCertificates() throws -> [NIOSSLCertificate]? {
        try self.clientCAPath.map { try Self.certificates($0, setting: "tls-client-ca") }
    }

    /// Reads the files again (SIGHUP); on failure the current material stays and the error is thrown.
    func reload() throws {
        let loaded = try Self.load(certificatePath: self.certificatePath, keyPath: self.keyPath)
        self.current.withLock { $0 = loaded }
    }

    private static func load(certificatePath: String, keyPath: String) throws -> NIOSSLContextConfigurationOverride {
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = try self.certificates(certificatePath, setting: "tls-cert").map { .certificate($0) }
        do {
            override.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
        } catch {
            throw StatehouseError.invalidArgument(
                "tls-key: cannot read a PEM private key from \(keyPath) (\(Self.reason(error)))")
        }
        return override
    }

    private static func certificates(_ path: String, setting: String) throws -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw StatehouseError.invalidArgument(
                "\(setting): cannot read PEM certificates from \(path) (\(Self.reason(error)))")
        }
        guard !certificates.isEmpty else {
            throw StatehouseError.invalidArgument("\(setting): \(path) holds no PEM certificate")
        }
        return certificates
    }

    private static func reason(_ error: any Error) -> String {
        "\(error)"
    }
}
