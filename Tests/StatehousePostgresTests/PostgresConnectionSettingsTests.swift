import Foundation
import StatehouseModel
import StatehousePostgres
import Testing

@Suite("PostgreSQL connection settings")
struct PostgresConnectionSettingsTests {
    @Test("a URL's parts, and libpq's defaults for what it leaves out")
    func parse() throws {
        let full = try PostgresConnectionSettings(
            url: "postgresql://app@db.internal:6432/agents?sslmode=require", environment: [:])
        #expect(full.host == "db.internal" && full.port == 6432 && full.user == "app" && full.database == "agents")
        #expect(full.tls == .require && !full.hasPassword)
        let short = try PostgresConnectionSettings(url: "postgres://app@127.0.0.1", environment: [:])
        #expect(short.port == 5432 && short.database == "app" && short.tls == .prefer)
        #expect(short.description == "postgres://app@127.0.0.1:5432/app?sslmode=prefer")
    }

    @Test(
        "bad URLs are refused naming what is wrong",
        arguments: [
            ("mysql://app@h/db", "postgres:// or postgresql://"), ("postgres:///db", "names no host"),
            ("postgres://h/db", "names no user"), ("postgres://app@h/db?sslmode=maybe", "sslmode must be"),
            ("postgres://app@h/db?timeout=3", "unknown PostgreSQL URL parameter 'timeout'"),
            ("not a url at all", "is not a URL"),
        ])
    func refused(_ url: String, _ message: String) {
        #expect {
            try PostgresConnectionSettings(url: url, environment: [:])
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("the password: a file, else the environment, else the URL; never in the description")
    func password() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pg-password-\(UUID().uuidString)")
        try "from-file\nignored\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let url = "postgres://app:from-url@h/db"
        let environment = [PostgresConnectionSettings.passwordEnvironment: "from-env"]
        for (settings, expected) in [
            (try PostgresConnectionSettings(url: url, environment: [:]), "from-url"),
            (try PostgresConnectionSettings(url: url, environment: environment), "from-env"),
            (try PostgresConnectionSettings(url: url, passwordFile: file.path, environment: environment), "from-file"),
        ] {
            #expect(settings.hasPassword && !settings.description.contains(expected))
            #expect(!"\(settings)".contains("from-"))
        }
        #expect {
            try PostgresConnectionSettings(url: url, passwordFile: "/nonexistent/pw", environment: [:])
        } throws: { error in
            "\(error)".contains("cannot read the PostgreSQL password file") && !"\(error)".contains("from-url")
        }
        #expect {
            try PostgresConnectionSettings(url: "mysql://app:secret@h/db", environment: [:])
        } throws: { error in
            !"\(error)".contains("secret")
        }
    }
}
