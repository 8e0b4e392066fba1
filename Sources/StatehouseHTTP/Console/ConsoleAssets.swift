import HTTPTypes
import Hummingbird
import NIOCore

/// The web console: one HTML page, one script and one style sheet, compiled into the binary (no files to install,
/// no build step), served at `/`, `/console.js` and `/console.css`. The page only calls the public `/v1` API.
enum ConsoleAssets {
    static func register(on router: Router<HTTPRequestContext>) {
        let assets: [(path: String, type: String, body: String)] = [
            ("/", "text/html; charset=utf-8", ConsoleAssets.html),
            ("/console.js", "text/javascript; charset=utf-8", ConsoleAssets.script),
            ("/console.css", "text/css; charset=utf-8", ConsoleAssets.style),
        ]
        for asset in assets {
            let body = ByteBuffer(string: asset.body)
            let headers: HTTPFields = [
                .contentType: asset.type, .cacheControl: "no-cache",
                HTTPField.Name("Content-Security-Policy")!:
                    "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'",
            ]
            router.get(RouterPath(asset.path)) { _, _ in
                Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
            }
        }
    }

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Statehouse console</title>
        <link rel="stylesheet" href="/console.css">
        </head>
        <body>
        <header>
          <a class="brand" href="#/">Statehouse</a>
          <nav id="crumbs" aria-label="Breadcrumbs"></nav>
          <button id="signout" type="button" hidden>Forget token</button>
        </header>
        <div id="error" role="alert" hidden></div>
        <main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
        <script src="/console.js"></script>
        </body>
        </html>
        """#
}
