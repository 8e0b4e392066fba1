import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseModel

/// `token create|list|revoke` and `whoami`: access tokens (docs/security.md, "Tokens").
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke access tokens (needs the admin role on what they grant).",
        subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self]
    )
}

struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a token; its secret is printed this once.",
        discussion: """
            Each --grant is PATTERN:ROLE. PATTERN is a namespace (prod), a prefix and '*' (prod-*: prod-1, prod-eu, \\
            not prod) or '*' (every namespace); ROLE is read, write (read plus every change) or admin (write plus \\
            tokens, retention, compaction, backup, import). You can grant only within what you administer. With \\
            --certificate-subject, a client certificate with that subject gets the grants instead (mutual TLS); \\
            such a principal has no secret.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "A label for people: what or who the token is for.") var name: String = ""
    @Option(help: "PATTERN:ROLE, repeatable, e.g. 'prod-*:write' or '*:read'.") var grant: [String] = []
    @Option(help: "Seconds until the token expires (default: never).") var expiresIn: Int64?
    @Option(help: "Map this client-certificate subject (e.g. 'CN=agent-1,O=Acme') to the grants.")
    var certificateSubject: String?

    func validate() throws {
        guard !self.grant.isEmpty else { throw ValidationError("give at least one --grant PATTERN:ROLE") }
        if let expiresIn = self.expiresIn, expiresIn <= 0 { throw ValidationError("--expires-in must be positive") }
    }

    func run() async throws {
        let grants: [AccessGrant]
        do {
            grants = try self.grant.map { try AccessGrant(parsing: $0) }
        } catch let error as StatehouseError {
            throw ValidationError("\(error)")
        }
        let expiresAt = self.expiresIn.map { UInt64(Date().timeIntervalSince1970 * 1_000_000) + UInt64($0) * 1_000_000 }
        let (host, port) = try self.global.endpoint()
        let created = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.createToken(
                name: self.name, grants: grants, expiresAtMicros: expiresAt,
                certificateSubject: self.certificateSubject)
        }
        if try self.global.format == .json {
            var fields = TokenRender.fields(created.token)
            fields.append(("secret", created.secret.map { .string($0) } ?? .null))
            emit(JSONOutput.object(fields).text)
        } else {
            emit(TokenRender.line(created.token))
            if let secret = created.secret {
                emit("secret (shown once; keep it like a password): \(secret)")
            }
        }
    }
}

struct TokenList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the tokens you administer (never their secrets).")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Include revoked tokens.") var all = false

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let tokens = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { try await $0.listTokens(includeRevoked: self.all) }
        if try self.global.format == .json {
            emit(JSONOutput.array(tokens.map { .object(TokenRender.fields($0)) }).text)
        } else {
            for token in tokens { emit(TokenRender.line(token)) }
        }
    }
}

struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a token: it authenticates nothing from now on; its watches end.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The token's id (tok_…).") var id: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let token = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { try await $0.revokeToken(id: self.id) }
        emit(
            try self.global.format == .json
                ? JSONOutput.object(TokenRender.fields(token)).text : TokenRender.line(token))
    }
}

struct WhoAmI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami", abstract: "Show the token the daemon takes you for, and its grants.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let identity = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { try await $0.whoAmI() }
        if try self.global.format == .json {
            emit(
                JSONOutput.object([
                    ("principal_id", .string(identity.principalID)), ("name", .string(identity.name)),
                    ("grants", .array(identity.grants.map { .string($0.description) })),
                    ("auth_required", .bool(identity.authRequired)),
                ]).text)
        } else {
            emit(
                "\(identity.principalID) (\(identity.name)): \(identity.grants.map(\.description).joined(separator: " "))"
                    + (identity.authRequired ? "" : "; the daemon runs without auth"))
        }
    }
}

enum TokenRender {
    static func fields(_ token: AccessToken) -> [(String, JSONOutput)] {
        [
            ("id", .string(token.id)), ("name", .string(token.name)),
            ("grants", .array(token.grants.map { .string($0.description) })),
            ("created_at", .string(RFC3339.text(Microseconds(clamping: token.createdAtMicros)))),
            ("expires_at", token.expiresAtMicros.map { .string(RFC3339.text(Microseconds(clamping: $0))) } ?? .null),
            ("revoked_at", token.revokedAtMicros.map { .string(RFC3339.text(Microseconds(clamping: $0))) } ?? .null),
            ("created_by", .string(token.createdBy)),
            ("certificate_subject", token.certificateSubject.map { .string($0) } ?? .null),
        ]
    }

    static func line(_ token: AccessToken) -> String {
        var line = "\(token.id)  \(token.grants.map(\.description).joined(separator: " "))"
        if !token.name.isEmpty { line += "  \"\(token.name)\"" }
        if let subject = token.certificateSubject { line += "  certificate \(subject)" }
        if let expires = token.expiresAtMicros { line += "  expires \(RFC3339.text(Microseconds(clamping: expires)))" }
        if let revoked = token.revokedAtMicros { line += "  revoked \(RFC3339.text(Microseconds(clamping: revoked)))" }
        return line
    }
}
