import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import UnderstudyAuth
import UnderstudyCore
import UnderstudyServer

/// The site every contract test starts from: an admin, a Jira user with admin-UI properties, a
/// user without Jira access, a deactivated user, Connect apps, an OAuth 2.0 app and Forge apps.
enum TestSite {
    static let baseURL = "https://understudy.test"

    static let file = """
        {"site": {"cloudId": "0f6b5a5e-4c5d-4e8f-9a1b-2c3d4e5f6a7b", "name": "Test site"},
         "users": [
           {"accountId": "557058:ada", "emailAddress": "ada@example.com", "displayName": "Ada Admin",
            "apiTokens": ["ada-token", {"token": "ada-read-token", "scopes": ["read:jira-user"]},
                          {"token": "ada-granular-token", "scopes": ["read:user.property:jira", "write:user.property:jira"]}],
            "groups": ["site-admins", "jira-software-users"],
            "timeZone": "Europe/London", "locale": "en_GB"},
           {"accountId": "557058:bob", "emailAddress": "bob@example.com", "displayName": "Bob",
            "apiTokens": ["bob-token", {"token": "bob-write-token", "scopes": ["read:jira-user", "write:jira-work"]}],
            "groups": ["jira-software-users"],
            "legacyProperties": {"slackhandle": "@bob", "team": "blue"}},
           {"accountId": "557058:cara", "emailAddress": "cara@example.com", "displayName": "Cara",
            "apiTokens": ["cara-token"], "groups": []},
           {"accountId": "557058:dave", "emailAddress": "dave@example.com", "displayName": "Dave",
            "apiTokens": ["dave-token"], "groups": ["jira-software-users"], "active": false}],
         "apps": [{"key": "com.example.tour", "name": "Product Tour", "clientKey": "jira:tour",
            "sharedSecret": "tour-secret", "scopes": ["READ", "WRITE", "DELETE"], "accountId": "557058:app-tour"},
           {"key": "com.example.reader", "name": "Reader", "clientKey": "jira:reader",
            "sharedSecret": "reader-secret", "scopes": ["READ"], "accountId": "557058:app-reader"},
           {"key": "com.example.plain", "name": "Plain", "clientKey": "jira:plain",
            "sharedSecret": "plain-secret", "scopes": ["ADMIN"], "accountId": "557058:app-plain",
            "groups": ["jira-software-users"]}],
         "userProperties": [{"accountId": "557058:bob", "key": "tour.progress", "value": {"step": 2, "done": false}}],
         "oauthApps": [{"clientId": "tour-client", "clientSecret": "tour-client-secret", "name": "Tour <Sync>",
            "callbackUrls": ["https://app.example.com/callback", "http://localhost:3000/callback"],
            "scopes": ["read:jira-user", "write:jira-work", "read:me", "offline_access", "read:user.property:jira"]}],
         "forgeApps": [
           {"appId": "ari:cloud:ecosystem::app/aaaaaaaa-0000-4000-8000-000000000001", "name": "Tour Reporter",
            "scopes": ["read:jira-user", "write:jira-work"], "connectKey": "com.example.tour",
            "accountId": "557058:forge-reporter"},
           {"appId": "ari:cloud:ecosystem::app/aaaaaaaa-0000-4000-8000-000000000002", "name": "Tour Admin",
            "scopes": ["read:user.property:jira", "write:user.property:jira", "manage:jira-configuration"],
            "accountId": "557058:forge-admin"},
           {"appId": "ari:cloud:ecosystem::app/aaaaaaaa-0000-4000-8000-000000000003", "name": "Narrow",
            "scopes": ["read:user.property:jira"], "connectKey": "com.example.gone", "accountId": "557058:forge-narrow"}]}
        """

    static let controlToken = "test-control-token"
    static let cloudId = "0f6b5a5e-4c5d-4e8f-9a1b-2c3d4e5f6a7b"
    /// The gateway's prefix for this site.
    static let gateway = "/ex/jira/\(cloudId)"

    static var site: Site {
        get throws { try SiteSetup.decoder.decode(Array(file.utf8), file: "test site") }
    }

    static func store() async throws -> InMemorySiteStore {
        let store = InMemorySiteStore()
        try await store.load(site)
        return store
    }

    /// Runs `body` against a fresh site through Hummingbird's in-process router test client.
    static func test(
        explain: Bool = true, store: (any SiteStore)? = nil, now: @escaping @Sendable () -> Date = Date.init,
        journalCapacity: Int = 1000, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let resolvedStore: any SiteStore
        if let store { resolvedStore = store } else { resolvedStore = try await Self.store() }
        var configuration = ServerConfiguration(baseURL: baseURL, explain: explain)
        configuration.controlToken = controlToken
        configuration.journalCapacity = journalCapacity
        try await resolvedStore.saveState()
        let app = buildApplication(configuration: configuration, store: resolvedStore, now: now)
        try await app.test(.router, body)
    }
}

extension HTTPFields {
    /// `Authorization: Basic base64(email:token)`.
    static func basic(_ email: String, _ token: String) -> HTTPFields {
        [.authorization: "Basic " + Data("\(email):\(token)".utf8).base64EncodedString()]
    }

    static let ada = basic("ada@example.com", "ada-token")
    static let bob = basic("bob@example.com", "bob-token")
    static let cara = basic("cara@example.com", "cara-token")
    /// The control API's token.
    static let control: HTTPFields = [.authorization: "Bearer \(TestSite.controlToken)"]

    /// `Authorization: JWT …` signed by an app of the test site for exactly this request.
    static func jwt(
        _ app: String = "com.example.tour", _ method: HTTPRequest.Method, _ target: String, issuedAt: Date = Date()
    ) -> HTTPFields {
        [.authorization: "JWT " + TestSite.token(app, method, target, issuedAt: issuedAt)]
    }
}

extension TestSite {
    static let secrets = [
        "com.example.tour": "tour-secret", "com.example.reader": "reader-secret", "com.example.plain": "plain-secret",
    ]

    static func token(_ app: String, _ method: HTTPRequest.Method, _ target: String, issuedAt: Date = Date()) -> String
    {
        ConnectJWT.sign(
            appKey: app, sharedSecret: secrets[app] ?? "unknown", method: method.rawValue, target: Substring(target),
            issuedAt: issuedAt)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var explanation: String? { headers[HTTPField.Name("X-Understudy-Explain")!] }

    /// The body parsed as JSON.
    func json() throws -> JSONValue { try JSONParser.parse(Array(body.readableBytesView)) }

    /// The first of Jira's `errorMessages`.
    var errorMessage: String? {
        guard case .object(let members)? = try? json(),
            case .array(let messages)? = members.first(where: { $0.name == "errorMessages" })?.value,
            case .string(let first)? = messages.first
        else { return nil }
        return first
    }
}

extension ByteBuffer {
    init(text: String) { self.init(string: text) }
}

/// The member names of a JSON object, in order.
func memberNames(_ value: JSONValue) -> [String] {
    if case .object(let members) = value { return members.map(\.name) }
    return []
}

func member(_ value: JSONValue, _ name: String) -> JSONValue? {
    if case .object(let members) = value { return members.first { $0.name == name }?.value }
    return nil
}
