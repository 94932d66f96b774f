import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import UnderstudyClient
import UnderstudyCore
import UnderstudyTesting

#if canImport(Glibc)
    import Glibc
#endif

/// A Swift developer tests their integration: an Understudy site in the test process, and the
/// client calling it with Basic or Connect auth, as it would call Jira Cloud.
@Suite("Swift client and test server")
struct JiraClientTests {
    struct Progress: Codable, Equatable {
        var step: Int
        var done: Bool
    }

    struct Fixture {
        var builder = SiteBuilder()
        let ada: SiteBuilder.Person
        let bob: SiteBuilder.Person
        let cara: SiteBuilder.Person
        let app: SiteBuilder.App

        init() throws {
            ada = builder.user("ada@example.com", name: "Ada Admin", admin: true)
            bob = builder.user("bob@example.com", name: "Bob")
            cara = builder.user("cara@example.com", name: "Cara", groups: [])
            app = builder.app("com.example.tour", scopes: [.read, .write, .delete])
            try builder.userProperty("tour", of: bob, json: #"{"step": 2, "done": false}"#)
            try builder.appProperty("settings", of: app, json: #"{"enabled": true}"#)
        }
    }

    func withSite(_ body: (Fixture, UnderstudyTestServer) async throws -> Void) async throws {
        let fixture = try Fixture()
        let server = try await UnderstudyTestServer.start(fixture.builder)
        do {
            try await body(fixture, server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func basic(_ person: SiteBuilder.Person, _ server: UnderstudyTestServer) throws -> JiraClient {
        try JiraClient(
            site: server.baseURL, authentication: .basic(email: person.emailAddress, apiToken: person.apiToken),
            retryPolicy: .none)
    }

    @Test("Basic auth: myself, user lookup, and the four property operations with Codable values")
    func basicAuth() async throws {
        try await withSite { site, server in
            let jira = try basic(site.bob, server)
            #expect(try await jira.myself().displayName == "Bob")
            #expect(try await jira.user(accountId: site.ada.accountId).emailAddress == "ada@example.com")
            #expect(try await jira.userPropertyKeys(accountId: site.bob.accountId) == ["tour"])
            #expect(
                try await jira.userProperty("tour", accountId: site.bob.accountId, as: Progress.self)
                    == Progress(step: 2, done: false))
            let created = try await jira.setUserProperty(
                "tour two", accountId: site.bob.accountId, value: Progress(step: 1, done: false))
            #expect(created == .created)
            let updated = try await jira.setUserProperty(
                "tour two", accountId: site.bob.accountId, value: Progress(step: 3, done: true))
            #expect(updated == .updated)
            #expect(
                try await jira.rawUserProperty("tour two", accountId: site.bob.accountId)
                    == #"{"done":true,"step":3}"#)
            try await jira.deleteUserProperty("tour two", accountId: site.bob.accountId)
            #expect(try await jira.userPropertyKeys(accountId: site.bob.accountId) == ["tour"])
        }
    }

    @Test("Connect auth: every request signed with its own qsh, including awkward keys and app properties")
    func connectAuth() async throws {
        try await withSite { site, server in
            let jira = try JiraClient(
                site: server.baseURL,
                authentication: .connect(appKey: site.app.key, sharedSecret: site.app.sharedSecret))
            #expect(try await jira.myself().accountType == "app")
            let key = "progress ü/+&=?"
            #expect(try await jira.setRawUserProperty(key, accountId: site.bob.accountId, json: "[1,2]") == .created)
            #expect(try await jira.rawUserProperty(key, accountId: site.bob.accountId) == "[1,2]")
            #expect(try await jira.appPropertyKeys(appKey: site.app.key) == ["settings"])
            #expect(try await jira.rawAppProperty("settings", appKey: site.app.key) == #"{"enabled":true}"#)
            #expect(try await jira.setAppProperty("count", appKey: site.app.key, value: 1) == .created)
            #expect(try await jira.appProperty("count", appKey: site.app.key, as: Int.self) == 1)
            try await jira.deleteAppProperty("count", appKey: site.app.key)
        }
    }

    @Test("Refusals are typed errors with Jira's messages, the status and Understudy's explanation")
    func errors() async throws {
        try await withSite { site, server in
            let bob = try basic(site.bob, server)
            let forbidden = await #expect(throws: JiraClientError.self) {
                try await bob.setUserProperty("x", accountId: site.ada.accountId, value: 1)
            }
            #expect(forbidden?.status == 403)
            #expect(forbidden?.errorMessages == ["You do not have permission to access the properties of this user."])
            #expect(forbidden?.explanation?.contains("Administer Jira") == true)
            #expect(forbidden?.requestId?.isEmpty == false)

            let missing = await #expect(throws: JiraClientError.self) {
                try await bob.rawUserProperty("nothing", accountId: site.bob.accountId)
            }
            #expect(missing?.status == 404)

            let wrongToken = try JiraClient(
                site: server.baseURL, authentication: .basic(email: "bob@example.com", apiToken: "not-it"))
            let unauthenticated = await #expect(throws: JiraClientError.self) { try await wrongToken.myself() }
            #expect(unauthenticated?.status == 401)
            #expect(unauthenticated?.explanation?.contains("not one of bob@example.com's tokens") == true)

            let noAccess = try basic(site.cara, server)
            let denied = await #expect(throws: JiraClientError.self) {
                try await noAccess.userPropertyKeys(accountId: site.cara.accountId)
            }
            #expect(denied?.status == 403)

            let notAnApp = await #expect(throws: JiraClientError.self) {
                try await bob.appPropertyKeys(appKey: site.app.key)
            }
            #expect(notAnApp?.status == 401)
            #expect(notAnApp?.errorMessages == ["Access to this resource must be authenticated as an app."])

            let wrongSecret = try JiraClient(
                site: server.baseURL, authentication: .connect(appKey: site.app.key, sharedSecret: "wrong"),
                retryPolicy: .none)
            let badSignature = await #expect(throws: JiraClientError.self) { try await wrongSecret.myself() }
            #expect(badSignature?.explanation?.contains("verifying the signature") == true)

            #expect(throws: JiraClientUsageError.self) {
                try JiraClient(site: "ftp://example.com", authentication: .bearer("x"))
            }
        }
    }

    @Test("429 with Retry-After is retried, bounded; the last refusal is thrown")
    func retries() async throws {
        try await withSite { site, server in
            try await addFault(server, #"{"path": "/rest/api/3/myself", "status": 429, "retryAfter": 0, "times": 2}"#)
            let patient = try JiraClient(
                site: server.baseURL,
                authentication: .basic(email: site.ada.emailAddress, apiToken: site.ada.apiToken),
                retryPolicy: .init(maximumRetries: 3, initialDelay: .milliseconds(10)))
            #expect(try await patient.myself().displayName == "Ada Admin", "answered after two 429s")

            try await addFault(server, #"{"path": "/rest/api/3/myself", "status": 503, "retryAfter": 0}"#)
            let limited = try JiraClient(
                site: server.baseURL,
                authentication: .basic(email: site.ada.emailAddress, apiToken: site.ada.apiToken),
                retryPolicy: .init(maximumRetries: 2, initialDelay: .milliseconds(10)))
            let unavailable = await #expect(throws: JiraClientError.self) { try await limited.myself() }
            #expect(unavailable?.status == 503)
        }
    }

    // How fast it starts is a benchmark figure (BENCHMARKS.md, cold start), not an assertion here: a
    // time bound in a test run beside the others fails when the machine is busy, not when it is slow.
    @Test("The test server starts, resets through its control token, and stops, releasing its port")
    func testServerLifecycle() async throws {
        var builder = SiteBuilder()
        let person = builder.user("solo@example.com")
        let server = try await UnderstudyTestServer.start(builder)
        let jira = try JiraClient(
            site: server.baseURL, authentication: .basic(email: person.emailAddress, apiToken: person.apiToken))
        try await jira.setUserProperty("k", accountId: person.accountId, value: "v")
        #expect(try await control(server, .POST, "/_understudy/reset") == 200)
        #expect(try await jira.userPropertyKeys(accountId: person.accountId) == [])
        await server.stop()
        #expect(Self.connectionIsRefused(port: server.port), "the port is released")
    }

    /// Whether a TCP connection to 127.0.0.1:port is refused at once (nothing listens there).
    static func connectionIsRefused(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result != 0 && errno == ECONNREFUSED
    }

    func addFault(_ server: UnderstudyTestServer, _ rule: String) async throws {
        #expect(try await control(server, .POST, "/_understudy/faults", body: rule) == 201)
    }

    /// A call to the test server's control API with its token.
    func control(_ server: UnderstudyTestServer, _ method: HTTPMethod, _ path: String, body: String? = nil)
        async throws -> Int
    {
        var request = HTTPClientRequest(url: server.baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(server.controlToken)")
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }
}

/// An OAuth 2.0 integration written in Swift: the client talks to the gateway and refreshes an
/// expired access token by itself, keeping the rotated refresh token.
@Suite("Swift client as an OAuth 2.0 app")
struct JiraClientOAuthTests {
    @Test("The gateway with .oauth: calls as the user, refreshes after expiry, keeps the newest tokens")
    func oauthRefreshesByItself() async throws {
        var builder = SiteBuilder()
        let bob = builder.user("bob@example.com", name: "Bob")
        let client = builder.oauthApp("Sync", scopes: ["read:jira-user", "write:jira-work", "offline_access"])
        let server = try await UnderstudyTestServer.start(builder)
        defer { Task { await server.stop() } }
        let tokens = try await server.oauthTokens(for: client, as: bob)
        let authentication = JiraClient.Authentication.oauth(
            clientId: client.clientId, clientSecret: client.clientSecret, token: tokens.accessToken,
            refreshToken: tokens.refreshToken, tokenURL: server.tokenURL)
        let jira = try JiraClient(site: server.gatewayURL, authentication: authentication, retryPolicy: .none)
        #expect(try await jira.myself().accountId == bob.accountId)
        #expect(try await jira.setRawUserProperty("sync", accountId: bob.accountId, json: "1") == .created)

        try await moveClock(server, by: 3601)
        #expect(try await jira.rawUserProperty("sync", accountId: bob.accountId) == "1", "refreshed by itself")
        guard case .oauth(let session) = authentication else { return }
        let current = await session.tokens
        #expect(current.accessToken != tokens.accessToken)
        #expect(current.refreshToken != tokens.refreshToken, "the rotated refresh token is kept")

        // Scopes are not a credential problem: a scope mismatch is not refreshed, it is reported.
        do {
            _ = try await jira.appPropertyKeys(appKey: "com.example.none")
            Issue.record("app properties refuse OAuth callers")
        } catch let error as JiraClientError {
            #expect(error.status == 401)
        }
    }

    @Test("Without a refresh token an expired access token is reported with the gateway's reason")
    func noRefreshToken() async throws {
        var builder = SiteBuilder()
        let bob = builder.user("bob@example.com")
        let client = builder.oauthApp("Sync", scopes: ["read:jira-user"])
        let server = try await UnderstudyTestServer.start(builder)
        defer { Task { await server.stop() } }
        let tokens = try await server.oauthTokens(for: client, as: bob)
        #expect(tokens.refreshToken == nil)
        let jira = try JiraClient(
            site: server.gatewayURL,
            authentication: .oauth(
                clientId: client.clientId, clientSecret: client.clientSecret, token: tokens.accessToken,
                tokenURL: server.tokenURL), retryPolicy: .none)
        try await moveClock(server, by: 3601)
        do {
            _ = try await jira.myself()
            Issue.record("an expired token is refused")
        } catch let error as JiraClientError {
            #expect(error.status == 401)
            #expect(error.explanation?.contains("expired at") == true)
        }
    }

    func moveClock(_ server: UnderstudyTestServer, by seconds: Int) async throws {
        var request = HTTPClientRequest(url: "\(server.baseURL)/_understudy/clock")
        request.method = .PUT
        request.headers.add(name: "Authorization", value: "Bearer \(server.controlToken)")
        request.body = .bytes(ByteBuffer(string: "{\"offsetSeconds\": \(seconds)}"))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(response.status == .ok)
    }
}

/// A Forge Remote written in Swift: it calls the gateway with the tokens Forge hands it, as the
/// app (an app system token) or as the user (an app user token).
@Suite("Swift client as a Forge Remote")
struct JiraClientForgeTests {
    @Test("asApp and asUser through the gateway, with the app's scopes and Connect app properties")
    func forgeRemote() async throws {
        var builder = SiteBuilder()
        let bob = builder.user("bob@example.com", name: "Bob")
        let connect = builder.app("com.example.tour")
        try builder.appProperty("settings", of: connect, json: #"{"enabled": true}"#)
        let forge = builder.forgeApp(
            "Tour", scopes: ["read:jira-user", "write:jira-work"], connectKey: "com.example.tour")
        let server = try await UnderstudyTestServer.start(builder)
        defer { Task { await server.stop() } }

        let asUser = try JiraClient(
            site: server.gatewayURL, authentication: .bearer(try await server.forgeToken(for: forge, as: bob)),
            retryPolicy: .none)
        #expect(try await asUser.myself().accountId == bob.accountId)
        #expect(try await asUser.setRawUserProperty("tour", accountId: bob.accountId, json: "2") == .created)

        let asApp = try JiraClient(
            site: server.gatewayURL, authentication: .bearer(try await server.forgeToken(for: forge)),
            retryPolicy: .none)
        #expect(try await asApp.myself().accountId == forge.accountId)
        #expect(try await asApp.rawAppProperty("settings", appKey: "com.example.tour") == #"{"enabled":true}"#)
        do {
            _ = try await asApp.rawUserProperty("tour", accountId: bob.accountId)
            Issue.record("the app user does not administer Jira without manage:jira-configuration")
        } catch let error as JiraClientError {
            #expect(error.status == 403)
            #expect(error.explanation?.contains("manage:jira-configuration") == true)
        }
    }
}
