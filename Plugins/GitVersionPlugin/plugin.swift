import Foundation
import PackagePlugin

/// Embeds the git commit of the checkout into the binaries at build time, so that an installed `statehoused` or
/// `statehousectl` reports what it was built from (`--version`, `version`) wherever it is copied.
///
/// A prebuild command (it runs before every build) writes `GeneratedBuildInfo.swift` with the commit: the
/// `STATEHOUSE_GIT_SHA` environment variable when set (for builds outside a checkout), else `git rev-parse` of the
/// package, with `-dirty` when tracked files have changes, else "unknown". The file is rewritten only when its text
/// changes, so an unchanged commit costs no recompilation.
@main
struct GitVersionPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let directory = context.pluginWorkDirectoryURL.appendingPathComponent("generated")
        let output = directory.appendingPathComponent("GeneratedBuildInfo.swift")
        let script = #"""
            set -u
            package="$1"; out="$2"
            mkdir -p "$(dirname "$out")"
            # Only characters that are safe inside a Swift string literal (a SHA, a tag, -dirty).
            sha=$(printf '%s' "${STATEHOUSE_GIT_SHA:-}" | tr -cd 'A-Za-z0-9._+-')
            if [ -z "$sha" ]; then
                sha=$(git -C "$package" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
                if [ "$sha" != unknown ] && [ -n "$(git -C "$package" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                    sha="$sha-dirty"
                fi
            fi
            text="// Generated at build time by Plugins/GitVersionPlugin; never committed.
            let generatedGitSHA = \"$sha\""
            if [ ! -f "$out" ] || [ "$(cat "$out")" != "$text" ]; then printf '%s\n' "$text" > "$out"; fi
            """#
        return [
            .prebuildCommand(
                displayName: "Embedding the git commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", context.package.directoryURL.path, output.path],
                outputFilesDirectory: directory
            )
        ]
    }
}
