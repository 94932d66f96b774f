import Foundation
import Synchronization

/// How a server is set up: where it listens, what base URL its links carry, whether it explains.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The site's base URL for every `self` link, without a trailing slash.
    public var baseURL: String
    /// Whether `baseURL` was given (`--base-url`) rather than derived from host and port; a
    /// derived one follows the port actually bound when `port` is 0.
    public var baseURLIsExplicit: Bool
    /// The path of the base URL (e.g. `/jira`), which Connect's query string hash leaves out.
    public var basePath: String {
        guard let schemeEnd = baseURL.range(of: "://") else { return "" }
        let afterScheme = baseURL[schemeEnd.upperBound...]
        guard let slash = afterScheme.firstIndex(of: "/") else { return "" }
        return String(afterScheme[slash...])
    }
    /// Whether 4xx responses carry `X-Understudy-Explain` (off with `--no-explain`).
    public var explain: Bool
    /// A connection with no request in progress and no traffic for this long is closed, so idle
    /// clients cannot hold connections open for ever.
    public var idleTimeout: Duration = .seconds(30)
    /// A request must arrive in full within this long of its first byte, or its connection is
    /// closed: clients that send a byte now and then cannot hold connections for ever.
    public var requestTimeout: Duration = .seconds(10)
    /// The token of the control API (`Authorization: Bearer …`); a random one when `nil`.
    public var controlToken: String?
    /// How many requests the journal keeps (`GET /_understudy/requests`).
    public var journalCapacity = 1000

    public init(host: String = "127.0.0.1", port: Int = 8080, baseURL: String? = nil, explain: Bool = true) {
        self.host = host
        self.port = port
        var base = baseURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.baseURLIsExplicit = baseURL != nil
        self.explain = explain
    }
}

/// The base URL in use, which for `--port 0` is known only once the server has bound its port.
final class SiteAddress: Sendable {
    private let current: Mutex<String>
    private let configuration: ServerConfiguration

    init(_ configuration: ServerConfiguration) {
        self.configuration = configuration
        self.current = Mutex(configuration.baseURL)
    }

    var baseURL: String { current.withLock { $0 } }

    /// Called when the server listens; a derived base URL takes the bound port.
    func serverIsListening(onPort port: Int) {
        guard !configuration.baseURLIsExplicit else { return }
        let bound = ServerConfiguration(
            host: configuration.host, port: port, baseURL: nil, explain: configuration.explain)
        current.withLock { $0 = bound.baseURL }
    }
}
