import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnderstudyAuth
import UnderstudyCore
import UnderstudyServer

/// An Understudy site inside the test process: started on a free port of 127.0.0.1 in
/// milliseconds, over an in-memory store, and stopped when the test is done.
///
/// ```swift
/// var site = SiteBuilder()
/// let ada = site.user("ada@example.com", admin: true)
/// let server = try await UnderstudyTestServer.start(site)
/// defer { Task { await server.stop() } }
/// let jira = try JiraClient(site: server.baseURL, authentication: .basic(email: ada.emailAddress, apiToken: ada.apiToken))
/// ```
public final class UnderstudyTestServer: Sendable {
    /// `http://127.0.0.1:<port>`
    public let baseURL: String
    public let port: Int
    /// The token of the control API (`/_understudy/`), for reset, snapshot, journal and faults.
    public let controlToken: String
    /// The site's cloudId: the gateway's URL is `gatewayURL`.
    public let cloudId: String
    private let store: any SiteStore
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    private init(
        port: Int, controlToken: String, cloudId: String, store: any SiteStore, group: ServiceGroup,
        running: Task<Void, any Error>
    ) {
        self.port = port
        self.baseURL = "http://127.0.0.1:\(port)"
        self.controlToken = controlToken
        self.cloudId = cloudId
        self.store = store
        self.group = group
        self.running = running
    }

    /// The API gateway, `{baseURL}/ex/jira/{cloudId}`: the site URL of OAuth 2.0 and scoped-token callers.
    public var gatewayURL: String { "\(baseURL)/ex/jira/\(cloudId)" }

    /// The authorization server's token endpoint.
    public var tokenURL: String { "\(baseURL)/oauth/token" }

    /// Tokens of `client` for `person`, as if they had consented on the consent page and the code
    /// had been exchanged (a refresh token when `scopes` has `offline_access`).
    public func oauthTokens(
        for client: SiteBuilder.OAuthClient, as person: SiteBuilder.Person, scopes: [String]? = nil
    ) async throws -> OAuthTokens {
        let minted = try await OAuthTokenMinter(store: store).mint(
            clientId: client.clientId, accountId: person.accountId, scopes: scopes ?? client.scopes)
        return OAuthTokens(accessToken: minted.accessToken, refreshToken: minted.refreshToken, scopes: minted.scopes)
    }

    /// A token Forge would hand the app's remote: an app system token (`asApp()`), or with
    /// `person` an app user token (`asUser()`). Send it as `Bearer` to `gatewayURL`.
    public func forgeToken(for app: SiteBuilder.ForgeAppHandle, as person: SiteBuilder.Person? = nil) async throws
        -> String
    {
        try await ForgeTokenMinter(store: store).mint(appId: app.appId, accountId: person?.accountId).token
    }

    /// Starts a site built in code.
    public static func start(_ builder: SiteBuilder, explain: Bool = true) async throws -> UnderstudyTestServer {
        try await start(site: builder.site, explain: explain)
    }

    /// Starts a site from a site file (the format of `understudy seed`).
    public static func start(siteFile path: String, explain: Bool = true) async throws -> UnderstudyTestServer {
        try await start(site: try SiteSetup.readSiteFile(path), explain: explain)
    }

    /// Starts a site; throws if the site is inconsistent or no port could be bound.
    public static func start(site: Site, explain: Bool = true) async throws -> UnderstudyTestServer {
        let store = InMemorySiteStore()
        try await store.load(site)
        let identity = try await SiteSetup.ensureIdentity(of: store)
        await store.saveState()
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, explain: explain)
        let token = APITokens.randomHex(byteCount: 16)
        configuration.controlToken = token
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let logger = Logger(label: "understudy.test", factory: { _ in SwiftLogNoOpLogHandler() })
        let application = buildApplication(
            configuration: configuration, store: store, logger: logger,
            onServerRunning: { port in continuation.yield(port) })
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
        let running = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = await running.result
            throw UnderstudyTestServerError(description: "the test server did not start")
        }
        return UnderstudyTestServer(
            port: port, controlToken: token, cloudId: identity.cloudId, store: store, group: group, running: running)
    }

    /// Stops the server gracefully: requests in flight finish and the server stops answering.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await running.result
    }
}

/// An OAuth 2.0 app's tokens for a user, as the token endpoint gives them.
public struct OAuthTokens: Sendable, Equatable {
    public let accessToken: String
    /// `nil` unless the scopes include `offline_access`.
    public let refreshToken: String?
    public let scopes: [String]
}

/// Why a test server could not start.
public struct UnderstudyTestServerError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
