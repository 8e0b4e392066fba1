import Foundation

/// Finds the git commit a binary was built from, for the startup banner and `Version`.
public enum BuildInfo {
    /// The commit of the checkout that contains `executablePath` (found by walking up to `.git`), or "unknown" for an
    /// installed binary. `STATEHOUSE_GIT_SHA` overrides it (packaging sets it).
    public static func gitSHA(executablePath: String, environment: [String: String]) -> String {
        if let sha = environment["STATEHOUSE_GIT_SHA"], !sha.isEmpty { return sha }
        var directory = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            let git = directory.appendingPathComponent(".git")
            if let head = try? String(contentsOf: git.appendingPathComponent("HEAD"), encoding: .utf8) {
                return self.resolve(head.trimmingCharacters(in: .whitespacesAndNewlines), git: git) ?? "unknown"
            }
            directory.deleteLastPathComponent()
        }
        return "unknown"
    }

    private static func resolve(_ head: String, git: URL) -> String? {
        guard head.hasPrefix("ref: ") else { return String(head.prefix(12)) }
        let reference = String(head.dropFirst(5))
        if let sha = try? String(contentsOf: git.appendingPathComponent(reference), encoding: .utf8) {
            return String(sha.trimmingCharacters(in: .whitespacesAndNewlines).prefix(12))
        }
        let packed = (try? String(contentsOf: git.appendingPathComponent("packed-refs"), encoding: .utf8)) ?? ""
        for line in packed.split(separator: "\n") where line.hasSuffix(" " + reference) {
            return String(line.prefix(12))
        }
        return nil
    }
}
