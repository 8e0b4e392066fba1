import GRPCNIOTransportHTTP2
import StatehouseCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns the `--listen` address into the socket address the server binds.
///
/// An IPv4 or IPv6 address is bound as is; a name (`localhost`) is resolved once, at startup, and its first IPv4
/// address is bound (its first IPv6 one when it has none), so that `--listen localhost:50051` binds 127.0.0.1 as
/// the default does. Clients that connect to `localhost` try each of its addresses in turn.
enum ListenAddress {
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` naming the host when it does not resolve.
    static func socketAddress(_ address: HostAndPort) throws -> SocketAddress {
        switch address.hostKind {
        case .ipv4:
            return .ipv4(host: address.host, port: address.port)
        case .ipv6:
            return .ipv6(host: address.host, port: address.port)
        case .name:
            let resolved = try self.resolve(address.host)
            guard let first = resolved.first(where: { !$0.contains(":") }) ?? resolved.first else {
                throw StatehouseError.invalidArgument("cannot listen on \(address): '\(address.host)' has no address")
            }
            return first.contains(":") ? .ipv6(host: first, port: address.port) : .ipv4(host: first, port: address.port)
        }
    }

    /// The numeric addresses of a host name, in the resolver's order (blocking; called once at startup).
    static func resolve(_ host: String) throws -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let list else {
            let reason = String(cString: gai_strerror(status))
            throw StatehouseError.invalidArgument("cannot resolve host '\(host)': \(reason)")
        }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let family = current.pointee.ai_family
            let text: String?
            if family == AF_INET {
                text = current.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    var raw = pointer.pointee.sin_addr
                    return inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count)).map { String(cString: $0) }
                }
            } else if family == AF_INET6 {
                text = current.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    var raw = pointer.pointee.sin6_addr
                    return inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)).map { String(cString: $0) }
                }
            } else {
                text = nil
            }
            if let text, !addresses.contains(text) { addresses.append(text) }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}

extension ListenAddress {
    /// Resolves `address` and tries it (``probe(host:port:shownAs:)``): the socket address to bind, known to be free.
    static func checkedSocketAddress(_ address: HostAndPort, shownAs: String) throws -> SocketAddress {
        let socketAddress = try self.socketAddress(address)
        if let ipv4 = socketAddress.ipv4 {
            try self.probe(host: ipv4.host, port: ipv4.port, shownAs: shownAs)
        } else if let ipv6 = socketAddress.ipv6 {
            try self.probe(host: ipv6.host, port: ipv6.port, shownAs: shownAs)
        }
        return socketAddress
    }

    /// Binds and releases `host:port` (a numeric address) to find out, before anything is created on disk, whether
    /// the server will be able to listen there: a daemon that cannot listen must not leave a data directory behind.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/unavailable(_:)`` naming the address and the reason.
    static func probe(host: String, port: Int, shownAs address: String) throws {
        guard port != 0 else { return }  // any free port: nothing to find out
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let list else { return }
        defer { freeaddrinfo(list) }
        let descriptor = socket(list.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(descriptor, list.pointee.ai_addr, list.pointee.ai_addrlen) != 0 {
            let code = errno
            switch code {
            case EADDRINUSE:
                throw StatehouseError.unavailable("cannot listen on \(address): the address is already in use")
            case EADDRNOTAVAIL:
                throw StatehouseError.unavailable("cannot listen on \(address): no such local address")
            case EACCES:
                throw StatehouseError.unavailable(
                    "cannot listen on \(address): permission denied (ports below 1024 need privileges)")
            default:
                throw StatehouseError.unavailable("cannot listen on \(address): \(String(cString: strerror(code)))")
            }
        }
    }
}
