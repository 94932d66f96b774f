import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import UnderstudyCore

/// Spec 11: a Forge app's calls, as `asApp()` (its app user) and `asUser()` (a person), with the
/// app's scopes — through the API gateway with the tokens Forge hands a remote, and through the
/// container egress proxy.
@Suite("Forge apps")
struct ForgeContractTests {
    static let reporter = "ari:cloud:ecosystem::app/aaaaaaaa-0000-4000-8000-000000000001"
    static let admin = "ari:cloud:ecosystem::app/aaaaaaaa-0000-4000-8000-000000000002"
    static let narrow = "ari:cloud:ecosystem::app/aaaaaaaa-0000-4000-8000-000000000003"
    static let reporterInstallation = "ari:cloud:ecosystem::installation/aaaaaaaa-0000-4000-8000-000000000001"
    static let forgeProxyError = HTTPField.Name("forge-proxy-error")!
    static let accountIdHeader = HTTPField.Name("X-AAccountId")!

    /// A token from `POST /_understudy/forge/tokens`, as the app's remote would receive it.
    static func token(
        _ client: any TestClientProtocol, app: String, as accountId: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> HTTPFields {
        let body = accountId.map { #"{"appId": "\#(app)", "accountId": "\#($0)"}"# } ?? #"{"appId": "\#(app)"}"#
        let response = try await client.execute(
            uri: "/_understudy/forge/tokens", method: .post, headers: .control, body: ByteBuffer(text: body))
        #expect(response.status == .created, sourceLocation: sourceLocation)
        guard case .string(let token)? = member(try response.json(), "token") else {
            Issue.record("no token in \(response.text)", sourceLocation: sourceLocation)
            return [:]
        }
        return [.authorization: "Bearer \(token)"]
    }

    static func property(_ key: String, of accountId: String) -> String {
        "\(TestSite.gateway)/rest/api/3/user/properties/\(key)?accountId=\(accountId)"
    }

    @Test("asApp acts as the app user: /myself is the app's account, and the journal names the Forge app")
    func asAppIsTheAppUser() async throws {
        try await TestSite.test { client in
            let asApp = try await Self.token(client, app: Self.reporter)
            try await client.execute(uri: "\(TestSite.gateway)/rest/api/3/myself", method: .get, headers: asApp) {
                response in
                #expect(response.status == .ok)
                #expect(response.headers[Self.accountIdHeader] == "557058:forge-reporter")
                let json = try response.json()
                #expect(member(json, "accountType") == .string("app"))
                #expect(member(json, "displayName") == .string("Tour Reporter"))
            }
            try await client.execute(uri: "/_understudy/requests?limit=1", method: .get, headers: .control) {
                #expect(
                    $0.text.contains(
                        #""caller":{"type":"forge","appId":"\#(Self.reporter)","accountId":"557058:forge-reporter"}"#))
            }
        }
    }

    @Test("asApp uses its own properties; another user's only with manage:jira-configuration, and says so")
    func asAppOnProperties() async throws {
        try await TestSite.test { client in
            let reporter = try await Self.token(client, app: Self.reporter)
            let own = Self.property("seen", of: "557058:forge-reporter")
            try await client.execute(uri: own, method: .put, headers: reporter, body: ByteBuffer(text: "true")) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: own, method: .get, headers: reporter) {
                #expect($0.text == #"{"key":"seen","value":true}"#)
            }
            try await client.execute(
                uri: Self.property("tour.progress", of: "557058:bob"), method: .get, headers: reporter
            ) { response in
                #expect(response.status == .forbidden)
                #expect(response.errorMessage == "You do not have permission to access the properties of this user.")
                #expect(
                    response.explanation?.hasSuffix(
                        "Forge app Tour Reporter's app user (asApp) is not a Jira administrator because its manifest does not list manage:jira-configuration; add that scope to permissions.scopes to use other users' properties as the app, or call asUser() to act as the user."
                    ) == true)
            }
            let admin = try await Self.token(client, app: Self.admin)
            try await client.execute(
                uri: Self.property("tour.progress", of: "557058:bob"), method: .get, headers: admin
            ) {
                response in
                #expect(response.status == .ok)
                #expect(response.text == #"{"key":"tour.progress","value":{"step":2,"done":false}}"#)
            }
        }
    }

    @Test("asUser acts as the person: their own properties, not another's unless they administer Jira")
    func asUserOnProperties() async throws {
        try await TestSite.test { client in
            let asBob = try await Self.token(client, app: Self.reporter, as: "557058:bob")
            try await client.execute(
                uri: Self.property("tour.progress", of: "557058:bob"), method: .get, headers: asBob
            ) {
                response in
                #expect(response.status == .ok)
                #expect(response.headers[Self.accountIdHeader] == "557058:bob")
            }
            try await client.execute(
                uri: Self.property("x", of: "557058:ada"), method: .put, headers: asBob, body: ByteBuffer(text: "1")
            ) {
                response in
                #expect(response.status == .forbidden)
                #expect(
                    response.explanation
                        == "Caller 557058:bob is not an administrator and the property belongs to 557058:ada; using another user's properties (reading, setting or deleting) needs the Administer Jira global permission."
                )
            }
            let asAda = try await Self.token(client, app: Self.reporter, as: "557058:ada")
            try await client.execute(
                uri: Self.property("x", of: "557058:bob"), method: .put, headers: asAda, body: ByteBuffer(text: "1")
            ) {
                #expect($0.status == .created, "Ada administers Jira")
            }
            try await client.execute(uri: "/_understudy/requests?limit=1", method: .get, headers: .control) {
                #expect(
                    $0.text.contains(#""caller":{"type":"forge","appId":"\#(Self.reporter)","accountId":"557058:ada"}"#)
                )
            }
        }
    }

    @Test("A scope missing from the manifest is the gateway's scope mismatch, naming the scope to add")
    func missingManifestScope() async throws {
        try await TestSite.test { client in
            let narrow = try await Self.token(client, app: Self.narrow)
            try await client.execute(
                uri: Self.property("seen", of: "557058:forge-narrow"), method: .put, headers: narrow,
                body: ByteBuffer(text: "true")
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.text == #"{"code":401,"message":"Unauthorized; scope does not match"}"#)
                #expect(
                    response.explanation
                        == "PUT /rest/api/3/user/properties/{propertyKey} needs write:jira-work (classic) or write:user.property:jira (granular); the token has read:user.property:jira. Forge app Narrow gets only the scopes its manifest lists: add write:jira-work or write:user.property:jira to permissions.scopes in manifest.yml, then forge deploy and forge install --upgrade (here: the app's scopes in the site file)."
                )
            }
        }
    }

    @Test("Connect app properties: only the Forge app with that Connect key, acting as itself")
    func connectAppProperties() async throws {
        try await TestSite.test { client in
            let settings = "\(TestSite.gateway)/rest/atlassian-connect/1/addons/com.example.tour/properties/settings"
            let reporter = try await Self.token(client, app: Self.reporter)
            try await client.execute(
                uri: settings, method: .put, headers: reporter, body: ByteBuffer(text: #"{"on":1}"#)
            ) {
                #expect($0.text == #"{"message":"Property created.","statusCode":201}"#)
            }
            try await client.execute(uri: settings, method: .get, headers: reporter) {
                #expect(
                    $0.text
                        == #"{"key":"settings","value":{"on":1},"self":"\#(TestSite.baseURL)\#(TestSite.gateway)/rest/atlassian-connect/1/addons/com.example.tour/properties/settings"}"#
                )
            }
            // The Connect app itself, with its JWT on the site URL, sees the same property.
            let onSite = "/rest/atlassian-connect/1/addons/com.example.tour/properties/settings"
            try await client.execute(
                uri: onSite, method: .get,
                headers: [.authorization: "JWT \(TestSite.token("com.example.tour", .get, onSite))"]
            ) { #expect($0.status == .ok) }

            let refusals: [(HTTPFields, String, String)] = [
                (try await Self.token(client, app: Self.reporter, as: "557058:bob"), settings, "not asUser()"),
                (
                    reporter, "\(TestSite.gateway)/rest/atlassian-connect/1/addons/com.example.reader/properties",
                    "Tour Reporter's Connect key is com.example.tour"
                ),
                (try await Self.token(client, app: Self.admin), settings, "Tour Admin has no Connect key"),
                (
                    try await Self.token(client, app: Self.narrow),
                    "\(TestSite.gateway)/rest/atlassian-connect/1/addons/com.example.gone/properties",
                    "no Connect app with that key is installed"
                ),
                (GatewayContractTests.adaRead, settings, "an OAuth 2.0 token or an API token is not an app"),
            ]
            for (headers, uri, reason) in refusals {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized, "\(reason)")
                    #expect(
                        response.text
                            == #"{"message":"Access to this resource must be authenticated as an app.","statusCode":401}"#
                    )
                    #expect(response.explanation?.contains(reason) == true, "\(response.explanation ?? "")")
                }
            }
        }
    }

    @Test("Forge tokens expire after four hours by the site clock")
    func expiry() async throws {
        try await TestSite.test { client in
            let reporter = try await Self.token(client, app: Self.reporter)
            try await client.execute(
                uri: "/_understudy/clock", method: .put, headers: .control,
                body: ByteBuffer(text: #"{"offsetSeconds": 14401}"#)
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "\(TestSite.gateway)/rest/api/3/myself", method: .get, headers: reporter) {
                response in
                #expect(response.text == #"{"code":401,"message":"Unauthorized"}"#)
                #expect(response.explanation?.hasPrefix("The Forge token expired at ") == true)
            }
        }
    }

    @Test("Minting refuses unknown apps and users, and people who cannot sign in")
    func mintingRefusals() async throws {
        try await TestSite.test { client in
            for (body, reason) in [
                (#"{"appId": "ari:cloud:ecosystem::app/none"}"#, "No Forge app of this site has appId"),
                (#"{"appId": "\#(Self.reporter)", "accountId": "557058:nobody"}"#, "No active person"),
                (#"{"appId": "\#(Self.reporter)", "accountId": "557058:dave"}"#, "No active person"),
                (#"{"appId": "\#(Self.reporter)", "accountId": "557058:app-tour"}"#, "No active person"),
            ] {
                try await client.execute(
                    uri: "/_understudy/forge/tokens", method: .post, headers: .control, body: ByteBuffer(text: body)
                ) { response in
                    #expect(response.status == .notFound, "\(body)")
                    #expect(response.errorMessage?.contains(reason) == true, "\(body): \(response.text)")
                }
            }
            for body in ["[]", #"{"accountId": "557058:bob"}"#, #"{"appId": "\#(Self.reporter)", "accountId": 7}"#] {
                try await client.execute(
                    uri: "/_understudy/forge/tokens", method: .post, headers: .control, body: ByteBuffer(text: body)
                ) { #expect($0.status == .badRequest, "\(body)") }
            }
            try await client.execute(
                uri: "/_understudy/forge/tokens", method: .post,
                body: ByteBuffer(text: #"{"appId": "\#(Self.reporter)"}"#)
            ) { #expect($0.status == .unauthorized, "the control API needs its token") }
        }
    }

    @Test("The control API installs a Forge app whose app user follows from its scopes; reset forgets it")
    func installThroughControlAPI() async throws {
        try await TestSite.test { client in
            let body = #"{"name": "Fresh", "scopes": ["read:jira-user", "manage:jira-configuration"]}"#
            let created = try await client.execute(
                uri: "/_understudy/forge/apps", method: .post, headers: .control, body: ByteBuffer(text: body))
            #expect(created.status == .created)
            let json = try created.json()
            guard case .string(let appId)? = member(json, "appId") else {
                Issue.record("no appId in \(created.text)")
                return
            }
            #expect(appId.hasPrefix("ari:cloud:ecosystem::app/"))
            #expect(
                created.text.contains(
                    #""groups":["atlassian-addons-admin","jira-software-users"],"administersJira":true"#))
            let fresh = try await Self.token(client, app: appId)
            try await client.execute(
                uri: Self.property("tour.progress", of: "557058:bob"), method: .get, headers: fresh
            ) {
                #expect($0.status == .ok)
            }
            try await client.execute(
                uri: "/_understudy/forge/apps", method: .post, headers: .control,
                body: ByteBuffer(text: #"{"appId": "\#(appId)", "name": "Again", "scopes": []}"#)
            ) { #expect($0.status == .conflict) }
            try await client.execute(
                uri: "/_understudy/forge/apps", method: .post, headers: .control,
                body: ByteBuffer(text: #"{"appId": "12345", "name": "Bare", "scopes": []}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorMessage?.contains("ari:cloud:ecosystem::app/<uuid>") == true)
            }
            try await client.execute(uri: "/_understudy/reset", method: .post, headers: .control) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/_understudy/forge/apps", method: .get, headers: .control) { response in
                #expect(!response.text.contains(appId))
                #expect(response.text.contains(Self.reporterInstallation))
            }
            try await client.execute(uri: "\(TestSite.gateway)/rest/api/3/myself", method: .get, headers: fresh) {
                #expect($0.status == .unauthorized, "the app's tokens went with it")
            }
        }
    }
}
