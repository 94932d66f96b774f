import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import UnderstudyAuth
import UnderstudyCore
import UnderstudyTesting

/// A Connect developer installs their app into Understudy the way Jira Cloud installs it, and
/// checks what their lifecycle handlers receive: the body, the signature, every claim, the key by
/// kid — and, on purpose, what a wrong signature looks like (spec 13).
@Suite("Connect installs")
struct ConnectInstallTests {
    struct Fixture {
        var builder = SiteBuilder()
        let ada: SiteBuilder.Person
        let bob: SiteBuilder.Person
        /// A Forge app that took over Connect app `com.example.onforge` (Connect on Forge).
        let onForge: SiteBuilder.ForgeAppHandle
        init() {
            ada = builder.user("ada@example.com", name: "Ada Admin", admin: true)
            bob = builder.user("bob@example.com", name: "Bob")
            onForge = builder.forgeApp("Tour on Forge", scopes: ["read:jira-user"], connectKey: "com.example.onforge")
        }
    }

    func withSite(_ body: (Fixture, UnderstudyTestServer, LifecycleReceiver) async throws -> Void) async throws {
        let fixture = Fixture()
        let server = try await UnderstudyTestServer.start(fixture.builder)
        let receiver = try await LifecycleReceiver.start()
        do {
            try await body(fixture, server, receiver)
        } catch {
            await receiver.stop()
            await server.stop()
            throw error
        }
        await receiver.stop()
        await server.stop()
    }

    // MARK: Helpers

    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let text: String
        var json: JSONValue { (try? JSONParser.parse(text)) ?? .null }
        var explanation: String { headers.first(name: "X-Understudy-Explain") ?? "" }
    }

    func call(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1024 * 1024)
        return Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
    }

    func install(_ server: UnderstudyTestServer, _ body: String) async throws -> Answer {
        try await call(
            .POST, server.baseURL + "/_understudy/connect/installations",
            headers: [("Authorization", "Bearer \(server.controlToken)")], body: body)
    }

    func uninstall(_ server: UnderstudyTestServer, _ key: String) async throws -> Answer {
        try await call(
            .DELETE, server.baseURL + "/_understudy/connect/installations/\(key)",
            headers: [("Authorization", "Bearer \(server.controlToken)")])
    }

    /// `GET /rest/api/3/myself` as the app, signed with `sharedSecret`.
    func myselfAsApp(_ server: UnderstudyTestServer, key: String, sharedSecret: String) async throws -> Answer {
        let token = ConnectJWT.sign(
            appKey: key, sharedSecret: sharedSecret, method: "GET", target: "/rest/api/3/myself")
        return try await call(.GET, server.baseURL + "/rest/api/3/myself", headers: [("Authorization", "JWT \(token)")])
    }

    static func decode(_ segment: Substring) -> JSONValue {
        var text = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        return Data(base64Encoded: text).flatMap { try? JSONParser.parse(Array($0)) } ?? .null
    }

    /// The header and claims of a JWT, unverified.
    static func parts(_ token: String) -> (header: [String: JSONValue], claims: [String: JSONValue]) {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        func members(_ value: JSONValue) -> [String: JSONValue] {
            guard case .object(let members) = value else { return [:] }
            return Dictionary(members.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        return (members(decode(segments[0])), members(decode(segments[1])))
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { text } else { nil }
    }

    static func number(_ value: JSONValue?) -> Int64? {
        if case .number(let text)? = value { Int64(text) } else { nil }
    }

    static func member(_ name: String, of value: JSONValue) -> JSONValue? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.name == name }?.value
    }

    // MARK: Stories

    @Test("Installing calls installed with RS256 and every claim Jira sends, then enabled with HS256")
    func signedInstall() async throws {
        try await withSite { site, server, receiver in
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.receiver"))
            let answer = try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#)
            #expect(answer.status == 201, "\(answer.text)")
            #expect(Self.string(Self.member("outcome", of: answer.json)) == "installed")
            #expect(receiver.events == ["installed", "enabled"])

            let installed = try #require(receiver.received.first)
            #expect(installed.path == "/app/installed")
            let clientKey = try #require(installed.field("clientKey"))
            #expect(UUID(uuidString: clientKey) != nil, "a new clientKey is a UUID")
            let sharedSecret = try #require(installed.field("sharedSecret"))
            #expect(sharedSecret.count >= 43, "at least 32 random bytes, base64url")
            #expect(installed.field("key") == "com.example.receiver")
            #expect(installed.field("baseUrl") == server.baseURL)
            #expect(installed.field("displayUrl") == server.baseURL)
            #expect(installed.field("productType") == "jira")
            #expect(installed.field("description") == "Atlassian Jira at \(server.baseURL)")
            #expect(installed.field("eventType") == "installed")
            #expect(installed.field("serverVersion") != nil && installed.field("pluginsVersion") != nil)

            let token = try #require(installed.token, "installed carries Authorization: JWT")
            let (header, claims) = Self.parts(token)
            #expect(Self.string(header["alg"]) == "RS256")
            #expect(Self.string(header["typ"]) == "JWT")
            let kid = try #require(Self.string(header["kid"]))
            #expect(Self.string(claims["iss"]) == clientKey, "iss is the body's clientKey")
            #expect(claims["aud"] == .array([.string(receiver.baseUrl)]), "aud is [descriptor baseUrl]")
            #expect(
                Self.string(claims["qsh"]) == CanonicalRequest(method: "POST", target: "/installed").queryStringHash,
                "qsh of POST&/installed&: the path relative to the baseUrl's /app")
            let issuedAt = try #require(Self.number(claims["iat"]))
            #expect(Self.number(claims["exp"]) == issuedAt + 900)
            #expect(abs(Double(issuedAt) - Date().timeIntervalSince1970) < 60)
            #expect(Self.string(claims["sub"]) == site.ada.accountId, "sub: the site's first administrator")
            #expect(claims["context"] == .object([]))

            let key = try await call(.GET, server.baseURL + "/connect-install-keys/\(kid)")
            #expect(key.status == 200)
            #expect(key.text.hasPrefix("-----BEGIN PUBLIC KEY-----"))
            #expect(ConnectLifecycleJWT.verifiesRS256(token, publicKeyPEM: key.text), "the key fetched by kid verifies")
            let unknown = try await call(.GET, server.baseURL + "/connect-install-keys/\(UUID().uuidString)")
            #expect(unknown.status == 404)
            #expect(unknown.explanation.contains("no install key"))

            let enabled = receiver.received[1]
            #expect(!enabled.has("sharedSecret"), "only installed carries the secret")
            #expect(enabled.field("eventType") == "enabled")
            let enabledToken = try ConnectJWT.parse(try #require(enabled.token))
            #expect(enabledToken.algorithm == "HS256")
            try ConnectJWT.verifySignature(enabledToken, sharedSecret: sharedSecret, appKey: "com.example.receiver")
            #expect(enabledToken.issuer == clientKey)
            #expect(
                enabledToken.queryStringHash == CanonicalRequest(method: "POST", target: "/enabled").queryStringHash)

            let myself = try await myselfAsApp(server, key: "com.example.receiver", sharedSecret: sharedSecret)
            #expect(myself.status == 200, "the installed app calls Jira with the secret it was given")
            #expect(Self.string(Self.member("accountType", of: myself.json)) == "app")
        }
    }

    @Test(
        "A re-install keeps the clientKey and the app's properties and rotates the secret; legacy signs with the previous one"
    )
    func reinstallAndLegacy() async throws {
        try await withSite { _, server, receiver in
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.legacy"))
            let order = #"{"descriptorUrl": "\#(receiver.descriptorUrl)", "signing": "legacy"}"#
            #expect(try await install(server, order).status == 201)
            let first = receiver.received[0]
            #expect(first.authorization == nil, "legacy: the first install is unsigned")
            let clientKey = try #require(first.field("clientKey"))
            let firstSecret = try #require(first.field("sharedSecret"))

            let propertyTarget = "/rest/atlassian-connect/1/addons/com.example.legacy/properties/settings"
            let put = ConnectJWT.sign(
                appKey: "com.example.legacy", sharedSecret: firstSecret, method: "PUT",
                target: Substring(propertyTarget))
            let stored = try await call(
                .PUT, server.baseURL + propertyTarget, headers: [("Authorization", "JWT \(put)")], body: "{\"on\":true}"
            )
            #expect(stored.status == 201)

            #expect(try await install(server, order).status == 201)
            let second = receiver.received[2]
            #expect(second.field("clientKey") == clientKey, "a re-install keeps the clientKey")
            let secondSecret = try #require(second.field("sharedSecret"))
            #expect(secondSecret != firstSecret, "and rotates the secret")
            let token = try ConnectJWT.parse(try #require(second.token))
            #expect(token.algorithm == "HS256")
            try ConnectJWT.verifySignature(token, sharedSecret: firstSecret, appKey: "legacy")
            #expect(token.issuer == clientKey)

            let old = try await myselfAsApp(server, key: "com.example.legacy", sharedSecret: firstSecret)
            #expect(old.status == 401, "the previous secret no longer signs")
            let get = ConnectJWT.sign(
                appKey: "com.example.legacy", sharedSecret: secondSecret, method: "GET",
                target: Substring(propertyTarget))
            let read = try await call(.GET, server.baseURL + propertyTarget, headers: [("Authorization", "JWT \(get)")])
            #expect(read.status == 200, "the app's properties survive the re-install")
        }
    }

    @Test(
        "Each tamper mode signs installed wrongly on purpose, and the app is never usable",
        arguments: ConnectLifecycleTamper.allCases)
    func tampered(tamper: ConnectLifecycleTamper) async throws {
        try await withSite { _, server, receiver in
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.tamper"))
            receiver.answer("installed", status: 401, body: "refused")
            let answer = try await install(
                server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)", "tamper": "\#(tamper.rawValue)"}"#)
            #expect(answer.status == 200, "\(answer.text)")
            #expect(Self.string(Self.member("outcome", of: answer.json)) == "tampered")
            #expect(Self.member("appRefused", of: answer.json) == .bool(true))
            #expect(receiver.events == ["installed"], "no enabled after a tampered install")

            let installed = receiver.received[0]
            let clientKey = try #require(installed.field("clientKey"))
            let secret = try #require(installed.field("sharedSecret"))
            guard tamper != .unsigned else {
                #expect(installed.authorization == nil)
                return
            }
            let token = try #require(installed.token)
            let (header, claims) = Self.parts(token)
            let now = Int64(Date().timeIntervalSince1970)
            let keyText = try await call(
                .GET, server.baseURL + "/connect-install-keys/\(Self.string(header["kid"]) ?? "none")")
            switch tamper {
            case .expired: #expect((Self.number(claims["exp"]) ?? now) < now - 600)
            case .wrongAudience: #expect(claims["aud"] != .array([.string(receiver.baseUrl)]))
            case .wrongQueryStringHash:
                #expect(
                    Self.string(claims["qsh"]) == CanonicalRequest(method: "GET", target: "/installed").queryStringHash)
            case .unknownKid: #expect(keyText.status == 404)
            case .wrongIssuer: #expect(Self.string(claims["iss"]) != clientKey)
            case .symmetric:
                #expect(Self.string(header["alg"]) == "HS256")
                try ConnectJWT.verifySignature(try ConnectJWT.parse(token), sharedSecret: secret, appKey: "tamper")
            case .contextQueryStringHash: #expect(Self.string(claims["qsh"]) == "context-qsh")
            case .unsigned: break
            }
            if tamper != .unknownKid, tamper != .symmetric {
                #expect(ConnectLifecycleJWT.verifiesRS256(token, publicKeyPEM: keyText.text), "otherwise signed right")
            }
            let refused = try await myselfAsApp(server, key: "com.example.tamper", sharedSecret: secret)
            #expect(refused.status == 401)
            #expect(refused.explanation.contains("incomplete"), "\(refused.explanation)")
        }
    }

    @Test("An app that accepts a tampered install is told so, and still is not usable")
    func tamperAccepted() async throws {
        try await withSite { _, server, receiver in
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.careless"))
            let answer = try await install(
                server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)", "tamper": "context-qsh"}"#)
            #expect(answer.status == 200)
            #expect(Self.member("appRefused", of: answer.json) == .bool(false))
            #expect(Self.string(Self.member("problem", of: answer.json))?.contains("should have refused") == true)
            let secret = try #require(receiver.received.first?.field("sharedSecret"))
            #expect(try await myselfAsApp(server, key: "com.example.careless", sharedSecret: secret).status == 401)
        }
    }

    @Test(
        "An app that answers 500 or is not listening: the install is incomplete and its JWTs are refused with the reason"
    )
    func incompleteInstalls() async throws {
        try await withSite { _, server, receiver in
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.failing"))
            receiver.answer("installed", status: 500, body: "database is down")
            let failed = try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#)
            #expect(failed.status == 502)
            #expect(Self.string(Self.member("outcome", of: failed.json)) == "incomplete")
            let calls = Self.member("calls", of: failed.json)
            guard case .array(let list)? = calls, let first = list.first else {
                Issue.record("no calls in \(failed.text)")
                return
            }
            #expect(Self.member("status", of: first) == .number("500"))
            #expect(Self.string(Self.member("body", of: first)) == "database is down")
            #expect(receiver.events == ["installed"], "enabled only after a completed install")
            let secret = try #require(receiver.received.first?.field("sharedSecret"))
            let refused = try await myselfAsApp(server, key: "com.example.failing", sharedSecret: secret)
            #expect(refused.status == 401)
            #expect(refused.explanation.contains("incomplete") && refused.explanation.contains("500"))

            // The descriptor is served, but its baseUrl points where nothing listens.
            let closed = try await LifecycleReceiver.start(prefix: "/gone")
            let goneBase = closed.baseUrl
            await closed.stop()
            receiver.serve(
                descriptor: """
                    {"key": "com.example.gone", "baseUrl": "\(goneBase)", "authentication": {"type": "jwt"},
                     "lifecycle": {"installed": "/installed"}}
                    """)
            let attempted = ContinuousClock.now
            let unreachable = try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#)
            #expect(unreachable.status == 502)
            #expect(unreachable.text.contains("nothing is listening at \(goneBase)/installed (connection refused)"))
            #expect(ContinuousClock.now - attempted < .seconds(5), "a refused connection is reported at once")
        }
    }

    @Test("An app that hangs delays only its own install: 10 s, while the site keeps answering")
    func hangingApp() async throws {
        try await withSite { site, server, receiver in
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.slow"))
            receiver.hang(for: .seconds(14))
            let installFinished = Mutex(false)
            async let installing = { () async throws -> Answer in
                let answer = try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#)
                installFinished.withLock { $0 = true }
                return answer
            }()
            while receiver.received.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            // The app holds the installed call now; the site answers others meanwhile.
            let basic = "Basic " + Data("\(site.ada.emailAddress):\(site.ada.apiToken)".utf8).base64EncodedString()
            let myself = try await call(
                .GET, server.baseURL + "/rest/api/3/myself", headers: [("Authorization", basic)])
            #expect(myself.status == 200)
            #expect(installFinished.withLock { !$0 }, "answered while the install was still waiting for the app")
            let answer = try await installing
            #expect(answer.status == 502)
            #expect(
                answer.text.contains("did not answer within 10 s"),
                "cut at 10 s, not when the app answered: \(answer.text)")
        }
    }

    @Test("A descriptor that cannot be fetched or is invalid installs nothing, and says where it is wrong")
    func badDescriptors() async throws {
        try await withSite { _, server, receiver in
            let missing = try await install(
                server, #"{"descriptorUrl": "\#(receiver.baseUrl)/missing/atlassian-connect.json"}"#)
            #expect(missing.status == 400)
            #expect(missing.text.contains("could not be fetched"))

            receiver.serve(descriptor: "{not json")
            let notJSON = try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#)
            #expect(notJSON.status == 400)
            #expect(notJSON.text.contains("is not JSON"))

            receiver.serve(descriptor: #"{"key": "my app", "baseUrl": "ftp://x", "authentication": {"type": "oauth"}}"#)
            let invalid = try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#)
            #expect(invalid.status == 400)
            #expect(invalid.text.contains(#"$.key: \"my app\" does not match ^[a-zA-Z0-9-._]+$"#), "\(invalid.text)")
            #expect(invalid.text.contains("$.baseUrl"))
            #expect(invalid.text.contains("$.authentication.type"))
            #expect(receiver.received.isEmpty, "no lifecycle call for a descriptor that was refused")

            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.first"))
            #expect(try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#).status == 201)
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.second"))
            let sameBase = try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#)
            #expect(sameBase.status == 400)
            #expect(sameBase.text.contains("com.example.first"))

            let badOrder = try await install(server, #"{"descriptorUrl": "file:///etc/passwd"}"#)
            #expect(badOrder.status == 400)
            let badTamper = try await install(
                server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)", "tamper": "gentle"}"#)
            #expect(badTamper.status == 400)
            #expect(badTamper.text.contains("wrong-audience"))
        }
    }

    @Test("Uninstalling calls disabled then uninstalled, refuses the app's JWTs, and a later install is a re-install")
    func uninstallStory() async throws {
        try await withSite { _, server, receiver in
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.leaving"))
            #expect(try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#).status == 201)
            let clientKey = try #require(receiver.received[0].field("clientKey"))
            let secret = try #require(receiver.received[0].field("sharedSecret"))

            let answer = try await uninstall(server, "com.example.leaving")
            #expect(answer.status == 200, "\(answer.text)")
            #expect(receiver.events == ["installed", "enabled", "disabled", "uninstalled"])
            let disabled = try ConnectJWT.parse(try #require(receiver.received[2].token))
            #expect(disabled.algorithm == "HS256")
            try ConnectJWT.verifySignature(disabled, sharedSecret: secret, appKey: "leaving")
            let uninstalled = receiver.received[3]
            #expect(!uninstalled.has("sharedSecret"))
            #expect(uninstalled.field("eventType") == "uninstalled")
            let (header, claims) = Self.parts(try #require(uninstalled.token))
            #expect(Self.string(header["alg"]) == "RS256")
            #expect(claims["aud"] == .array([.string(receiver.baseUrl)]))
            #expect(
                Self.string(claims["qsh"]) == CanonicalRequest(method: "POST", target: "/uninstalled").queryStringHash)

            let refused = try await myselfAsApp(server, key: "com.example.leaving", sharedSecret: secret)
            #expect(refused.status == 401)
            #expect(refused.explanation.contains("uninstalled"))
            #expect(try await uninstall(server, "com.example.nobody").status == 404)

            #expect(try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#).status == 201)
            #expect(receiver.received[4].field("clientKey") == clientKey, "installing again keeps the clientKey")

            let journal = try await call(
                .GET, server.baseURL + "/_understudy/requests?caller=lifecycle",
                headers: [("Authorization", "Bearer \(server.controlToken)")])
            #expect(journal.text.contains("\"type\":\"lifecycle\""))
            #expect(journal.text.contains(receiver.baseUrl + "/uninstalled"))
        }
    }

    @Test("The plugin manager installs and uninstalls the way Atlassian Connect Express drives it")
    func pluginManager() async throws {
        try await withSite { site, server, receiver in
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.upm"))
            let ada = "Basic " + Data("\(site.ada.emailAddress):\(site.ada.apiToken)".utf8).base64EncodedString()
            let bob = "Basic " + Data("\(site.bob.emailAddress):\(site.bob.apiToken)".utf8).base64EncodedString()
            let upm = server.baseURL + "/rest/plugins/1.0/"

            #expect(try await call(.GET, upm).status == 401)
            let notAdmin = try await call(.GET, upm, headers: [("Authorization", bob)])
            #expect(notAdmin.status == 403)
            #expect(notAdmin.explanation.contains("Administer Jira"))

            let listing = try await call(.GET, upm, headers: [("Authorization", ada)])
            #expect(listing.status == 200)
            let token = try #require(listing.headers.first(name: "upm-token"))
            let body = #"{"pluginUri": "\#(receiver.descriptorUrl)", "pluginName": "Receiver"}"#
            let forged = try await call(
                .POST, upm + "?token=forged", headers: [("Authorization", ada)], body: body)
            #expect(forged.status == 403)
            let oversized = try await call(
                .POST, upm + "?token=\(token)", headers: [("Authorization", ada)],
                body: #"{"pluginUri": ""# + String(repeating: "x", count: 70_000) + #""}"#)
            #expect(oversized.status == 413)
            #expect(oversized.text.contains("The request body is too large."))

            let started = try await call(
                .POST, upm + "?token=\(token)",
                headers: [
                    ("Authorization", ada), ("Content-Type", "application/vnd.atl.plugins.remote.install+json"),
                ], body: body)
            #expect(started.status == 202)
            let links = try #require(Self.member("links", of: started.json))
            let taskPath = try #require(Self.string(Self.member("self", of: links)))
            #expect(taskPath.hasPrefix("/rest/plugins/1.0/pending/"))

            var finished: Answer?
            for _ in 0..<100 {
                let task = try await call(.GET, server.baseURL + taskPath, headers: [("Authorization", ada)])
                #expect(task.status == 200)
                if Self.member("status", of: task.json) == nil {
                    finished = task
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let done = try #require(finished, "the task finishes")
            #expect(Self.string(Self.member("key", of: done.json)) == "com.example.upm")
            #expect(Self.member("enabled", of: done.json) == .bool(true))
            let token2 = try #require(receiver.received.first?.token)
            #expect(Self.string(Self.parts(token2).claims["sub"]) == site.ada.accountId, "sub: the admin who installed")

            let listed = try await call(.GET, upm, headers: [("Authorization", ada)])
            #expect(listed.text.contains("\"key\":\"com.example.upm\""))

            let removed = try await call(.DELETE, upm + "com.example.upm-key", headers: [("Authorization", ada)])
            #expect(removed.status == 204)
            #expect(receiver.events.suffix(2) == ["disabled", "uninstalled"])
            #expect(
                try await call(.DELETE, upm + "com.example.nobody-key", headers: [("Authorization", ada)]).status == 404
            )

            receiver.serve(descriptor: "[]")
            let failing = try await call(
                .POST, upm + "?token=\(token)", headers: [("Authorization", ada)], body: body)
            let failPath = try #require(
                Self.string(Self.member("self", of: Self.member("links", of: failing.json) ?? .null)))
            var failure: JSONValue?
            for _ in 0..<100 {
                let task = try await call(.GET, server.baseURL + failPath, headers: [("Authorization", ada)])
                if let status = Self.member("status", of: task.json), Self.member("done", of: status) == .bool(true) {
                    failure = status
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let status = try #require(failure)
            #expect(Self.string(Self.member("errorMessage", of: status))?.contains("not valid") == true)
        }
    }

    @Test("A Connect-on-Forge install carries the Forge installationId in every lifecycle body")
    func connectOnForge() async throws {
        try await withSite { site, server, receiver in
            receiver.serve(descriptor: receiver.standardDescriptor(key: "com.example.onforge"))
            let installed = try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#)
            #expect(installed.status == 201)
            let installationIds = receiver.received.map { $0.field("installationId") }
            #expect(installationIds == [site.onForge.installationId, site.onForge.installationId])
        }
    }

    @Test("User webhooks: a snapshot that adds, changes and removes people notifies the app, HS256-signed")
    func userWebhooks() async throws {
        try await withSite { site, server, receiver in
            receiver.serve(
                descriptor: """
                    {"key": "com.example.hooks", "baseUrl": "\(receiver.baseUrl)", "authentication": {"type": "jwt"},
                     "scopes": ["read"], "lifecycle": {"installed": "/installed"},
                     "modules": {"webhooks": [{"event": "user_created", "url": "/user-created"},
                                              {"event": "user_updated", "url": "/user-updated"},
                                              {"event": "user_deleted", "url": "/user-deleted"},
                                              {"event": "jira:issue_updated", "url": "/issue-updated"}]}}
                    """)
            #expect(try await install(server, #"{"descriptorUrl": "\#(receiver.descriptorUrl)"}"#).status == 201)
            let secret = try #require(receiver.received.first?.field("sharedSecret"))
            let clientKey = try #require(receiver.received.first?.field("clientKey"))

            let control = [("Authorization", "Bearer \(server.controlToken)")]
            let snapshot = try await call(.GET, server.baseURL + "/_understudy/snapshot", headers: control)
            guard case .object(var top) = snapshot.json, let index = top.firstIndex(where: { $0.name == "users" }),
                case .array(let users) = top[index].value
            else {
                Issue.record("no users in \(snapshot.text)")
                return
            }
            var changed = users.filter { Self.string(Self.member("accountId", of: $0)) != site.bob.accountId }.map {
                user -> JSONValue in
                guard case .object(var members) = user,
                    Self.string(Self.member("accountId", of: user)) == site.ada.accountId
                else { return user }
                members = members.map {
                    $0.name == "displayName" ? JSONMember("displayName", .string("Ada Lovelace")) : $0
                }
                return .object(members)
            }
            changed.append(
                .object([
                    JSONMember("accountId", .string("557058:cara")),
                    JSONMember("emailAddress", .string("cara@example.com")),
                    JSONMember("displayName", .string("Cara")),
                ]))
            top[index] = JSONMember("users", .array(changed))
            let replaced = try await call(
                .PUT, server.baseURL + "/_understudy/snapshot", headers: control, body: JSONValue.object(top).jsonText)
            #expect(replaced.status == 200, "\(replaced.text)")

            for _ in 0..<100 where receiver.received.count < 4 { try await Task.sleep(for: .milliseconds(50)) }
            let hooks = receiver.received.dropFirst()
            #expect(hooks.count == 3, "one delivery per change: \(receiver.events)")
            var seen: [String: String] = [:]
            for hook in hooks {
                let event = try #require(hook.field("webhookEvent"))
                let user = try #require(Self.member("user", of: hook.body))
                seen[event] = Self.string(Self.member("accountId", of: user))
                #expect(hook.path == "/app/" + event.replacingOccurrences(of: "_", with: "-"))
                #expect(Self.member("accountType", of: user) == .string("atlassian"))
                #expect(Self.number(Self.member("timestamp", of: hook.body)) != nil)
                let token = try ConnectJWT.parse(try #require(hook.token))
                #expect(token.algorithm == "HS256")
                try ConnectJWT.verifySignature(token, sharedSecret: secret, appKey: "hooks")
                #expect(token.issuer == clientKey)
                #expect(
                    token.queryStringHash
                        == CanonicalRequest(method: "POST", target: Substring(String(hook.path.dropFirst(4))))
                        .queryStringHash)
            }
            #expect(
                seen == [
                    "user_created": "557058:cara", "user_updated": site.ada.accountId,
                    "user_deleted": site.bob.accountId,
                ])
        }
    }
}
