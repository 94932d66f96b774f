/// How a server is set up: where it listens, what base URL its links carry, whether it explains.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The site's base URL for every `self` link, without a trailing slash.
    public var baseURL: String
    /// Whether 4xx responses carry `X-Understudy-Explain` (off with `--no-explain`).
    public var explain: Bool

    public init(host: String = "127.0.0.1", port: Int = 8080, baseURL: String? = nil, explain: Bool = true) {
        self.host = host
        self.port = port
        var base = baseURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.explain = explain
    }
}
