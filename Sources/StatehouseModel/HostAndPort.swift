/// A network address as people write it: `HOST:PORT`, where HOST is a name (`localhost`), an IPv4 address
/// (`127.0.0.1`) or an IPv6 address in brackets (`[::1]`).
///
/// Every place that takes an address (`statehoused --listen`, `statehousectl --addr`, their environment variables
/// and config keys) parses it here, so that they accept the same forms and reject the same mistakes with the same
/// words. Resolving a name is left to the side that connects or binds.
public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: `localhost`, `127.0.0.1`, `::1`.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// What the host is, as far as its text tells.
    public enum HostKind: Sendable, Hashable {
        case ipv4
        case ipv6
        /// A name to resolve (`localhost`, `db.internal`).
        case name
    }

    public var hostKind: HostKind {
        if self.host.contains(":") { return .ipv6 }
        let parts = self.host.split(separator: ".", omittingEmptySubsequences: false)
        let isIPv4 =
            parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                    && (Int(part).map { $0 <= 255 } ?? false)
            }
        return isIPv4 ? .ipv4 : .name
    }

    /// `host:port`, with brackets around an IPv6 host so that the text parses back.
    public var description: String {
        self.hostKind == .ipv6 ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }

    /// Parses `HOST:PORT` or `[IPV6]:PORT`.
    ///
    /// - Parameters:
    ///   - text: the address.
    ///   - portRange: the ports accepted (a server may take 0 for "any free port").
    /// - Throws: ``StatehouseError/invalidArgument(_:)`` saying what is wrong and showing the accepted forms.
    public init(parsing text: String, portRange: ClosedRange<Int> = 1...65535) throws {
        let forms = "use HOST:PORT, for example localhost:50051, 127.0.0.1:50051 or [::1]:50051"
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw StatehouseError.invalidArgument("'\(text)' has no closing ']'; \(forms)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw StatehouseError.invalidArgument("'\(text)' has no port after ']'; \(forms)")
            }
            portText = rest.dropFirst()
            guard host.contains(":") else {
                throw StatehouseError.invalidArgument("'\(text)': brackets are for IPv6 addresses; \(forms)")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw StatehouseError.invalidArgument("'\(text)' has no port; \(forms)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                throw StatehouseError.invalidArgument(
                    "'\(text)': write an IPv6 address in brackets, as in [::1]:50051"
                )
            }
        }
        guard !host.isEmpty else {
            throw StatehouseError.invalidArgument("'\(text)' has no host; \(forms)")
        }
        guard !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw StatehouseError.invalidArgument("'\(text)' is not a host name or address; \(forms)")
        }
        guard let port = Int(portText), portText.allSatisfy(\.isASCII), portRange.contains(port) else {
            throw StatehouseError.invalidArgument(
                "'\(portText)' in '\(text)' is not a port (\(portRange.lowerBound) to \(portRange.upperBound)); \(forms)"
            )
        }
        self.init(host: String(host), port: port)
    }
}

extension HostAndPort {
    /// Whether the host is a loopback name or address: `localhost` (and `*.localhost`), 127.0.0.0/8 or `::1`.
    public var isLoopback: Bool { Self.isLoopback(host: self.host) }

    public static func isLoopback(host: String) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name.hasSuffix(".localhost") || name == "::1" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
