/// What a Statehouse binary was built from: the release version and the git commit, embedded at build time by
/// `Plugins/GitVersionPlugin` (so an installed binary knows it, wherever it is copied).
public enum StatehouseBuild {
    /// The release version of this source tree.
    public static let version = "0.1.0"

    /// The git commit (12 hex digits, `-dirty` when built with uncommitted changes), `STATEHOUSE_GIT_SHA` when the
    /// build set it, or "unknown" for a build outside a git checkout.
    public static let gitSHA: String = generatedGitSHA

    /// `0.1.0 (8b8e201d7abb)`.
    public static var description: String { "\(self.version) (\(self.gitSHA))" }
}
