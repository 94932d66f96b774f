import Foundation
import PostgresNIO

/// Where a PostgreSQL database is, from a `postgres://user:password@host:port/database` URL.
struct PostgresLocation: Sendable {
    let host: String
    let port: Int
    let username: String
    let password: String?
    let database: String

    /// The URL without its password, for messages and logs.
    var redacted: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    init(url: String) throws(PostgresSiteStore.OpenError) {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme.lowercased())
        else {
            throw .init(description: "'\(Self.redact(url))' is not a postgres://user:password@host:port/database URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .init(description: "the PostgreSQL URL \(Self.redact(url)) names no host")
        }
        guard let username = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !username.isEmpty
        else {
            throw .init(
                description: "the PostgreSQL URL \(Self.redact(url)) names no user (postgres://user:password@…)")
        }
        let database = String(components.percentEncodedPath.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
        guard !database.isEmpty else {
            throw .init(description: "the PostgreSQL URL \(Self.redact(url)) names no database (…/database)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = username
        self.password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        self.database = database
    }

    /// Removes the password from a URL that may not even parse.
    static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url.range(of: "@", options: .backwards),
            at.lowerBound > schemeEnd.upperBound
        else { return url }
        let credentials = url[schemeEnd.upperBound..<at.lowerBound]
        let user = credentials.split(separator: ":", maxSplits: 1).first ?? ""
        return String(url[..<schemeEnd.upperBound]) + user + url[at.lowerBound...]
    }

    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
        configuration.options.connectTimeout = .seconds(2)
        configuration.options.maximumConnections = 16
        return configuration
    }

    var connectionConfiguration: PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}

extension PostgresLocation {
    /// A pipelined connection to this database that has parsed `statements`, whose statements
    /// PostgreSQL ends itself after `statementTimeout`.
    func openPipelined(statements: [PostgresStatement], statementTimeout: Duration) async throws
        -> PostgresPipelineConnection
    {
        let milliseconds =
            statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
        return try await PostgresPipelineConnection.open(
            host: host, port: port, user: username, password: password, database: database,
            applicationName: "understudy", settings: ["SET statement_timeout = \(milliseconds)"],
            statements: statements, timeout: .seconds(2),
            backstop: .milliseconds(milliseconds) + .seconds(1))
    }
}
