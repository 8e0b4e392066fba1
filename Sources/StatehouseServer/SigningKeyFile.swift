import Foundation
import Logging
import StatehouseCore

/// Where the daemon's ledger key (which signs tree heads) comes from: a file given with `--signing-key`, or
/// `ledger-signing-key.pem` in the data directory, created on first start (mode 0600). An in-memory store gets a key
/// that lives as long as the process.
enum SigningKeyFile {
    static let defaultFileName = "ledger-signing-key.pem"

    /// The signer for `configuration`, creating the default key file when it does not exist yet.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/unavailable(_:)`` naming the file and the cause when a key file
    ///   cannot be read, is not an Ed25519 PEM key, or cannot be created.
    static func signer(for configuration: ServerConfiguration, logger: Logger) throws -> TreeHeadSigner {
        if let path = configuration.signingKeyPath {
            return try self.load(path, logger: logger)
        }
        if configuration.useMemory {
            let signer = TreeHeadSigner()
            logger.notice(
                "In-memory store: tree heads are signed with a key that ends with this process",
                metadata: ["key.id": "\(signer.publicKey.keyID)"])
            return signer
        }
        let path = configuration.dataDirectory + "/" + self.defaultFileName
        if FileManager.default.fileExists(atPath: path) { return try self.load(path, logger: logger) }
        return try self.create(path, logger: logger)
    }

    private static func load(_ path: String, logger: Logger) throws -> TreeHeadSigner {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StatehouseError.unavailable(
                "cannot read the signing key \(path): \(String(cString: strerror(errno)))")
        }
        let signer: TreeHeadSigner
        do {
            signer = try TreeHeadSigner(pem: String(decoding: data, as: UTF8.self))
        } catch {
            throw StatehouseError.unavailable("cannot use the signing key \(path): \(error)")
        }
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
            mode & 0o077 != 0
        {
            logger.warning(
                "The signing key file can be read by other users; make it 0600",
                metadata: ["path": "\(path)", "mode": "\(String(mode & 0o777, radix: 8))"])
        }
        logger.info("Tree heads are signed", metadata: ["key.id": "\(signer.publicKey.keyID)", "key.file": "\(path)"])
        return signer
    }

    /// Writes a new key to `path` (never over an existing file), readable by the owner only, and syncs it.
    private static func create(_ path: String, logger: Logger) throws -> TreeHeadSigner {
        let signer = TreeHeadSigner()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StatehouseError.unavailable(
                "cannot create the signing key \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let bytes = Array(signer.pem.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw StatehouseError.unavailable("cannot write the signing key \(path): \(reason)")
        }
        logger.notice(
            "Created the ledger signing key; back it up with the data directory",
            metadata: ["key.id": "\(signer.publicKey.keyID)", "key.file": "\(path)"])
        return signer
    }
}
