import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import UnderstudyAuth
import UnderstudyCore
import UnderstudyServer

/// Spec 15–18: a person signs in, opens an app's page in Understudy's host page, and the app's
/// front end calls Jira through the host — as that person, limited by the app's scopes.
@Suite("App front ends")
struct FrontEndTests {
    /// The in-process test client sends `Host: localhost`; the browser's origin follows the Host.
    static let origin = "https://localhost"
    static let connectPage = "/plugins/servlet/ac/com.example.pages/tour-page"
    static let forgeUUID = "bbbbbbbb-0000-4000-8000-000000000001"

    /// The test site with a Connect app installed from a descriptor with pages (one of them with a
    /// hostile name and URL) and a Forge app with a Custom UI in `folder`.
    static func site(folder: URL) throws -> Site {
        var site = try TestSite.site
        let pages = try SiteSetup.decoder.decode(
            Array(
                """
                {"apps": [{"key": "com.example.pages", "name": "Pages", "clientKey": "jira:pages",
                  "sharedSecret": "pages-secret", "scopes": ["READ", "WRITE"], "accountId": "557058:app-pages",
                  "installation": {"descriptorUrl": "https://app.example.com/base/atlassian-connect.json",
                    "baseUrl": "https://app.example.com/base", "lifecycle": {}, "signing": "signed",
                    "state": "installed", "installedBy": "557058:ada",
                    "pages": [{"kind": "generalPages", "key": "tour-page", "url": "/tour?project={project.key}", "name": "Tour"},
                              {"kind": "adminPages", "key": "hostile", "url": "/x?a=\\"><script>alert(1)</script>",
                               "name": "<img src=x onerror=alert(1)></script>"}]}}],
                 "forgeApps": [{"appId": "ari:cloud:ecosystem::app/\(forgeUUID)", "name": "Tour UI",
                   "scopes": ["read:user.property:jira", "write:user.property:jira"],
                   "resources": [{"key": "main", "path": "\(folder.path)"}],
                   "modules": [{"key": "tour-page", "resource": "main", "title": "Tour (Forge)"}]}]}
                """.utf8), file: "front-end apps")
        site.apps += pages.apps
        site.forgeApps += pages.forgeApps
        return site
    }

    /// A Custom UI folder with an index.html and an asset, and a secret file next to the folder.
    static func customUI() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-ui-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("ui")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("static"), withIntermediateDirectories: true)
        try Data(
            "<!doctype html><HTML><Head lang=en><script src=\"static/app.js\"></script></head><body></body></html>".utf8
        )
        .write(to: folder.appendingPathComponent("index.html"))
        try Data("console.log('app')".utf8).write(to: folder.appendingPathComponent("static/app.js"))
        try Data("secret".utf8).write(to: root.appendingPathComponent("secret.txt"))
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent("escape.txt"),
            withDestinationURL: root.appendingPathComponent("secret.txt"))
        // 33 MiB without writing them: a sparse file one byte over the size served.
        let huge = try FileHandle(
            forWritingTo: {
                let url = folder.appendingPathComponent("static/huge.bin")
                _ = FileManager.default.createFile(atPath: url.path, contents: nil)
                return url
            }())
        try huge.truncate(atOffset: 32 * 1024 * 1024 + 1)
        try huge.close()
        return folder
    }

    /// A site clock the story can move.
    final class Clock: Sendable {
        let offset = Mutex<TimeInterval>(0)
        func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    }

    static func test(
        clock: Clock = Clock(), _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let folder = try customUI()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let store = InMemorySiteStore()
        try await store.load(try site(folder: folder))
        try await TestSite.test(store: store, now: { clock.now() }, body)
    }

    /// A session for `accountId` from the control API, as a `Cookie` header.
    static func session(_ client: any TestClientProtocol, _ accountId: String) async throws -> HTTPFields {
        let response = try await client.execute(
            uri: "/_understudy/sessions", method: .post, headers: .control,
            body: ByteBuffer(text: #"{"accountId": "\#(accountId)"}"#))
        #expect(response.status == .created)
        guard case .string(let cookie)? = member(try response.json(), "cookie") else { return [:] }
        return [.cookie: cookie]
    }

    /// A call as the host page's script makes it: same origin, with the session.
    static func relay(
        _ client: any TestClientProtocol, _ path: String, cookie: HTTPFields, _ body: String,
        origin: String? = FrontEndTests.origin
    ) async throws -> TestResponse {
        var headers = cookie
        headers[.contentType] = "application/json"
        if let origin { headers[.origin] = origin }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(text: body))
    }

    static let connectRelay = "/understudy-host/connect/com.example.pages/request"

    /// The claims of a compact JWT, after checking its HS256 signature with `secret`.
    static func verifiedClaims(_ token: String, secret: String) throws -> JSONValue {
        let parts = token.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(parts[0]).\(parts[1])".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        let expected = Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(parts[2] == expected, "signed with the app's shared secret")
        var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        return try JSONParser.parse(Array(try #require(Data(base64Encoded: payload))))
    }

    static func number(_ value: JSONValue?) -> Int? {
        if case .number(let text)? = value { Int(text) } else { nil }
    }

    @Test("Without a session a page sends the browser to sign in and back; wrong credentials show the form again")
    func signingIn() async throws {
        try await Self.test { client in
            let page = try await client.execute(uri: Self.connectPage, method: .get)
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=%2Fplugins%2Fservlet%2Fac%2Fcom.example.pages%2Ftour-page")

            let form = try await client.execute(uri: page.headers[.location] ?? "", method: .get)
            #expect(form.status == .ok)
            #expect(form.text.contains(#"name="next" value="/plugins/servlet/ac/com.example.pages/tour-page""#))

            func post(_ fields: String, origin: String? = Self.origin) async throws -> TestResponse {
                var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                if let origin { headers[.origin] = origin }
                return try await client.execute(
                    uri: "/login", method: .post, headers: headers, body: ByteBuffer(text: fields))
            }
            let wrong = try await post("email=bob%40example.com&api_token=nope&next=%2F")
            #expect(wrong.status == .ok)
            #expect(wrong.headers[.setCookie] == nil)
            #expect(wrong.text.contains("do not belong to a user of this site"))

            let forged = try await post("email=bob%40example.com&api_token=bob-token", origin: "https://evil.example")
            #expect(forged.status == .forbidden)
            #expect(forged.headers[.setCookie] == nil)
            let noOrigin = try await post("email=bob%40example.com&api_token=bob-token", origin: nil)
            #expect(noOrigin.status == .forbidden)

            let deactivated = try await post("email=dave%40example.com&api_token=dave-token")
            #expect(deactivated.text.contains("deactivated"))

            let signedIn = try await post(
                "email=bob%40example.com&api_token=bob-token&next=%2Fplugins%2Fservlet%2Fac%2Fcom.example.pages%2Ftour-page"
            )
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == Self.connectPage)
            let cookie = try #require(signedIn.headers[.setCookie])
            #expect(cookie.hasPrefix("understudy_session="))
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"))

            let value = String(cookie.split(separator: ";")[0])
            let opened = try await client.execute(uri: Self.connectPage, method: .get, headers: [.cookie: value])
            #expect(opened.status == .ok)
            #expect(opened.text.contains("Signed in as <strong>Bob</strong>"))

            let out = try await client.execute(
                uri: "/logout", method: .post, headers: [.cookie: value, .origin: Self.origin])
            #expect(out.status == .seeOther)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.execute(uri: Self.connectPage, method: .get, headers: [.cookie: value])
            #expect(after.status == .seeOther, "signed out")
        }
    }

    @Test(
        "Only a path of this site is followed after signing in",
        arguments: ["https://evil.example/", "//evil.example", "/\\evil.example", "https:evil.example", "/\t/evil", ""])
    func nextIsSameOrigin(next: String) async throws {
        try await Self.test { client in
            let encoded = PercentEncoding.encode(next)
            let signedIn = try await client.execute(
                uri: "/login", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .origin: Self.origin],
                body: ByteBuffer(text: "email=bob%40example.com&api_token=bob-token&next=\(encoded)"))
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/")
        }
    }

    @Test("The iframe URL carries Jira's context parameters and a jwt whose qsh covers that GET without the jwt")
    func iframeURL() async throws {
        try await Self.test { client in
            let cookie = try await Self.session(client, "557058:bob")
            let page = try await client.execute(uri: Self.connectPage, method: .get, headers: cookie)
            #expect(page.status == .ok)
            let html = page.text
            let start = try #require(html.range(of: #"id="understudy-app-frame" title="Tour" src=""#))
            let end = try #require(html[start.upperBound...].firstIndex(of: "\""))
            let source = String(html[start.upperBound..<end]).replacingOccurrences(of: "&amp;", with: "&")
            #expect(source.hasPrefix("https://app.example.com/base/tour?project=&xdm_e="))
            let components = try #require(URLComponents(string: source))
            let query = Dictionary(
                (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(query["xdm_e"] == Self.origin)
            #expect(query["xdm_c"] == "channel-com.example.pages__tour-page")
            #expect(query["cp"] == "" && query["lic"] == "none" && query["cv"] != nil)
            #expect(query["xdm_deprecated_addon_key_do_not_use"] == "com.example.pages")

            let token = try #require(query["jwt"])
            let claims = try Self.verifiedClaims(token, secret: "pages-secret")
            #expect(member(claims, "iss") == .string("jira:pages"))
            #expect(member(claims, "sub") == .string("557058:bob"))
            let issuedAt = try #require(Self.number(member(claims, "iat")))
            #expect(Self.number(member(claims, "exp")) == issuedAt + 180)
            let withoutJWT = source.dropFirst("https://app.example.com".count).replacingOccurrences(
                of: "&jwt=" + token, with: "")
            let expected = CanonicalRequest(method: "GET", target: Substring(withoutJWT), basePath: "/base")
            #expect(expected.path == "/tour", "the qsh path is relative to the baseUrl's path")
            #expect(member(claims, "qsh") == .string(expected.queryStringHash))
        }
    }

    @Test("Host pages set a strict policy and escape a hostile module's name and URL")
    func hostPageSafety() async throws {
        try await Self.test { client in
            let cookie = try await Self.session(client, "557058:ada")
            let page = try await client.execute(
                uri: "/plugins/servlet/ac/com.example.pages/hostile", method: .get, headers: cookie)
            #expect(page.status == .ok)
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self'"))
            #expect(policy.contains("frame-src https://app.example.com/base/;"))
            #expect(policy.contains("frame-ancestors 'none'"))
            #expect(!page.text.contains("<script>alert(1)"))
            #expect(!page.text.contains("<img src=x"))
            #expect(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"))
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")

            let script = try await client.execute(uri: "/atlassian-connect/all.js", method: .get)
            #expect(script.headers[.contentType] == "text/javascript;charset=UTF-8")
            #expect(script.text.contains("event.source !== window.parent || event.origin !== host"))

            let unknown = try await client.execute(
                uri: "/plugins/servlet/ac/com.example.pages/nope", method: .get, headers: cookie)
            #expect(unknown.status == .notFound)
            #expect(unknown.explanation?.contains("declares tour-page, hostile") == true)
            let notInstalled = try await client.execute(
                uri: "/plugins/servlet/ac/com.example.tour/page", method: .get, headers: cookie)
            #expect(notInstalled.status == .notFound)
        }
    }

    @Test("AP.request runs as the signed-in user within the app's scopes; each refusal says which of the two refused")
    func apRequest() async throws {
        try await Self.test { client in
            let bob = try await Self.session(client, "557058:bob")
            let own = "/rest/api/3/user/properties/tour.progress?accountId=557058:bob"
            let read = try await Self.relay(client, Self.connectRelay, cookie: bob, #"{"url": "\#(own)"}"#)
            #expect(read.status == .ok)
            let envelope = try read.json()
            #expect(member(envelope, "status") == .number("200"))
            #expect(member(envelope, "body") == .string(#"{"key":"tour.progress","value":{"step":2,"done":false}}"#))

            let written = try await Self.relay(
                client, Self.connectRelay, cookie: bob,
                #"{"url": "\#(own)", "type": "put", "contentType": "application/json", "data": "{\"step\":3}"}"#)
            #expect(written.status == .ok, "updated")

            let others = try await Self.relay(
                client, Self.connectRelay, cookie: bob,
                #"{"url": "/rest/api/3/user/properties/x?accountId=557058:ada"}"#)
            #expect(others.status == .forbidden)
            #expect(
                others.explanation?.hasPrefix(
                    "App com.example.pages's Connect scopes allow this; the signed-in user's Jira permissions refused it"
                ) == true)

            let ada = try await Self.session(client, "557058:ada")
            let removed = try await Self.relay(
                client, Self.connectRelay, cookie: ada, #"{"url": "\#(own)", "type": "DELETE"}"#)
            #expect(removed.status == .forbidden, "Ada administers Jira, but the app has no DELETE scope")
            #expect(removed.explanation?.contains("Refused by app com.example.pages's Connect scopes") == true)
            #expect(
                member(try removed.json(), "body")
                    == .string(#"{"errorMessages":["Request not in an authorized API scope"],"errors":{}}"#))

            let journal = try await client.execute(
                uri: "/_understudy/requests?caller=AP.request", method: .get, headers: .control)
            guard case .array(let entries)? = member(try journal.json(), "requests") else {
                Issue.record("no journal")
                return
            }
            #expect(entries.count == 4)
            let caller = member(entries[0], "caller")
            #expect(caller.flatMap { member($0, "type") } == .string("user"))
            #expect(caller.flatMap { member($0, "accountId") } == .string("557058:ada"))
            #expect(caller.flatMap { member($0, "appKey") } == .string("com.example.pages"))
            #expect(caller.flatMap { member($0, "via") } == .string("AP.request"))
        }
    }

    @Test("The relay answers only this site's own pages, with a live session, and refuses what is not a call")
    func relayRefusals() async throws {
        let clock = Clock()
        try await Self.test(clock: clock) { client in
            let bob = try await Self.session(client, "557058:bob")
            let call = #"{"url": "/rest/api/3/myself"}"#
            #expect(
                try await Self.relay(client, Self.connectRelay, cookie: bob, call, origin: nil).status == .forbidden)
            let elsewhere = try await Self.relay(
                client, Self.connectRelay, cookie: bob, call, origin: "https://app.example.com")
            #expect(elsewhere.status == .forbidden)
            #expect(elsewhere.explanation?.contains("this call came from https://app.example.com") == true)
            #expect(try await Self.relay(client, Self.connectRelay, cookie: [:], call).status == .unauthorized)

            for (body, expected) in [
                ("not json", HTTPResponse.Status.badRequest),
                (#"{"url": "https://evil.example/rest/api/3/myself"}"#, .badRequest),
                (#"{"url": "//evil.example/x"}"#, .badRequest),
                (#"{"url": "/rest/api/3/myself", "type": "B R E W"}"#, .badRequest),
            ] {
                let refused = try await Self.relay(client, Self.connectRelay, cookie: bob, body)
                #expect(refused.status == expected, "\(body)")
                #expect(refused.explanation != nil)
            }
            // A relayed call is at most 1 MiB with its body.
            let huge =
                #"{"url": "/rest/api/3/myself", "type": "PUT", "data": ""#
                + String(repeating: "x", count: 1_048_576) + #""}"#
            let tooLarge = try await Self.relay(client, Self.connectRelay, cookie: bob, huge)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(
                tooLarge.explanation
                    == "A relayed call is at most 1048576 bytes with its body.")
            let unknownApp = try await Self.relay(
                client, "/understudy-host/connect/com.example.nope/request", cookie: bob, call)
            #expect(unknownApp.status == .notFound)

            clock.offset.withLock { $0 = 12 * 3600 + 60 }
            let expired = try await Self.relay(client, Self.connectRelay, cookie: bob, call)
            #expect(expired.status == .unauthorized)
            #expect(expired.explanation?.contains("The session expired at") == true)
        }
    }

    @Test("AP.context.getToken() is a context JWT of the app about the user")
    func contextToken() async throws {
        try await Self.test { client in
            let bob = try await Self.session(client, "557058:bob")
            let answer = try await Self.relay(
                client, "/understudy-host/connect/com.example.pages/token", cookie: bob, "{}")
            #expect(answer.status == .ok)
            guard case .string(let token)? = member(try answer.json(), "token") else {
                Issue.record("no token")
                return
            }
            let claims = try Self.verifiedClaims(token, secret: "pages-secret")
            #expect(member(claims, "qsh") == .string("context-qsh"))
            #expect(member(claims, "iss") == .string("jira:pages"))
            #expect(member(claims, "sub") == .string("557058:bob"))
            #expect(member(claims, "context") == .object([]))
            let issuedAt = try #require(Self.number(member(claims, "iat")))
            #expect(Self.number(member(claims, "exp")) == issuedAt + 900)
        }
    }

    @Test("Sessions are for active people of the site only")
    func sessionsForPeople() async throws {
        try await Self.test { client in
            for (accountId, status) in [
                ("557058:nobody", HTTPResponse.Status.notFound), ("557058:forge-reporter", .badRequest),
                ("557058:dave", .badRequest),
            ] {
                let response = try await client.execute(
                    uri: "/_understudy/sessions", method: .post, headers: .control,
                    body: ByteBuffer(text: #"{"accountId": "\#(accountId)"}"#))
                #expect(response.status == status, "\(accountId)")
            }
            let withoutToken = try await client.execute(
                uri: "/_understudy/sessions", method: .post, body: ByteBuffer(text: #"{"accountId": "557058:bob"}"#))
            #expect(withoutToken.status == .unauthorized)
        }
    }

    @Test("A Custom UI is served sandboxed with the bridge first, and nothing outside its folder is served")
    func customUIFiles() async throws {
        try await Self.test { client in
            let bob = try await Self.session(client, "557058:bob")
            let page = try await client.execute(
                uri: "/forge/apps/\(Self.forgeUUID)/tour-page", method: .get, headers: bob)
            #expect(page.status == .ok)
            #expect(
                page.text.contains(#"src="/forge/resources/\#(Self.forgeUUID)/main/index.html" sandbox="allow-scripts"#)
            )
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-src 'self';") == true)
            for named in [
                "ari:cloud:ecosystem::app/\(Self.forgeUUID)", "ari%3Acloud%3Aecosystem%3A%3Aapp%2F\(Self.forgeUUID)",
            ] {
                let byAppId = try await client.execute(
                    uri: "/forge/apps/\(named)/tour-page", method: .get, headers: bob)
                #expect(byAppId.status == .ok, "the whole appId names the app too: \(named)")
            }

            let base = "/forge/resources/\(Self.forgeUUID)/main/"
            let index = try await client.execute(uri: base + "index.html", method: .get)
            #expect(index.status == .ok)
            #expect(
                index.text.hasPrefix(
                    #"<!doctype html><HTML><Head lang=en><script src="/understudy-host/bridge.js"></script><script src="static/app.js">"#
                ))
            #expect(index.headers[.contentSecurityPolicy]?.hasPrefix("sandbox allow-scripts") == true)
            let asset = try await client.execute(uri: base + "static/app.js", method: .get)
            #expect(asset.status == .ok)
            #expect(asset.headers[.contentType] == "text/javascript;charset=UTF-8")

            let huge = try await client.execute(uri: base + "static/huge.bin", method: .get)
            #expect(huge.status == .notFound)
            #expect(huge.explanation?.hasSuffix("static/huge.bin is larger than 33554432 bytes.") == true)

            for escape in [
                "../secret.txt", "%2E%2E/secret.txt", "static/..%2F..%2Fsecret.txt", "escape.txt", "static%2Fapp.js",
            ] {
                let refused = try await client.execute(uri: base + escape, method: .get)
                #expect(refused.status == .notFound, "\(escape)")
                #expect(!refused.text.contains("secret") || refused.text.contains("Not found"), "\(escape)")
            }
        }
    }

    @Test("fetchProduct runs as the user within the Forge app's scopes, answering the gateway's refusals as responses")
    func forgeBridge() async throws {
        try await Self.test { client in
            let bob = try await Self.session(client, "557058:bob")
            let relay = "/understudy-host/forge/\(Self.forgeUUID)/fetch"
            func fetch(_ restPath: String, _ requestInit: String = "{}") async throws -> TestResponse {
                try await Self.relay(
                    client, relay, cookie: bob,
                    #"{"product": "jira", "restPath": "\#(restPath)", "fetchRequestInit": \#(requestInit)}"#)
            }
            let own = "/rest/api/3/user/properties/tour.progress?accountId=557058:bob"
            let read = try await fetch(own)
            #expect(read.status == .ok)
            #expect(member(try read.json(), "isAttachment") == .bool(false))
            let written = try await fetch(
                own, #"{"method": "PUT", "headers": [["Content-Type", "application/json"]], "body": "{\"step\":4}"}"#)
            #expect(written.status == .ok)

            let myself = try await fetch("/rest/api/3/myself")
            #expect(myself.status == .unauthorized)
            #expect(
                member(try myself.json(), "body")
                    == .string(#"{"code":401,"message":"Unauthorized; scope does not match"}"#))
            #expect(myself.explanation?.contains("read:jira-user") == true)

            let others = try await fetch("/rest/api/3/user/properties/x?accountId=557058:ada")
            #expect(others.status == .forbidden)

            let confluence = try await Self.relay(
                client, relay, cookie: bob, #"{"product": "confluence", "restPath": "/wiki"}"#)
            #expect(confluence.status == .badRequest)

            let journal = try await client.execute(
                uri: "/_understudy/requests?caller=@forge/bridge", method: .get, headers: .control)
            guard case .array(let entries)? = member(try journal.json(), "requests") else {
                Issue.record("no journal")
                return
            }
            #expect(entries.count == 4)
        }
    }
}
