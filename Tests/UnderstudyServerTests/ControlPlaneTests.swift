import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import UnderstudyAuth
import UnderstudyCore
import UnderstudyServer

/// What a test suite does with the control API under /_understudy/: reset, snapshot, inspect,
/// inject faults, move the clock; and that Jira's credentials never open it.
@Suite("Control API")
struct ControlPlaneTests {
    static let property = "/rest/api/3/user/properties/tour.progress?accountId=557058:bob"

    /// The members of a JSON object answer; none if it is not one.
    func json(_ response: TestResponse) -> [String: JSONValue] {
        guard case .object(let members)? = try? response.json() else { return [:] }
        return Dictionary(members.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    @Test("Jira's credentials, a wrong token or none cannot use the control API; the control token can")
    func onlyTheControlToken() async throws {
        try await TestSite.test { client in
            let target = "/_understudy/snapshot"
            for (headers, fragment) in [
                (HTTPFields.ada, "never Jira credentials"),
                (HTTPFields.jwt("com.example.tour", .get, target), "never Jira credentials"),
                ([.authorization: "Bearer not-the-token"], "not this server's control token"),
                ([:], "Send the control token"),
            ] {
                try await client.execute(uri: target, method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.errorMessage == "The control API needs the control token.")
                    #expect(response.explanation?.contains(fragment) == true, "\(response.explanation ?? "")")
                }
            }
            try await client.execute(uri: target, method: .get, headers: .control) { #expect($0.status == .ok) }
            // …and the control token is not a Jira credential either.
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .control) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test("Reset goes back to the site loaded at start, whatever the test changed")
    func reset() async throws {
        try await TestSite.test { client in
            let mine = "/rest/api/3/user/properties/mine?accountId=557058:ada"
            try await client.execute(uri: mine, method: .put, headers: .ada, body: ByteBuffer(string: "1")) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: Self.property, method: .delete, headers: .ada) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: "/_understudy/reset", method: .post, headers: .control) { response in
                #expect(response.status == .ok)
                #expect(json(response)["milliseconds"] != nil)
            }
            try await client.execute(uri: mine, method: .get, headers: .ada) { #expect($0.status == .notFound) }
            try await client.execute(uri: Self.property, method: .get, headers: .ada) { #expect($0.status == .ok) }
            try await client.execute(uri: "/_understudy/reset", method: .get, headers: .control) {
                #expect($0.status == .methodNotAllowed)
            }
        }
    }

    @Test("A snapshot is a site file with token hashes only; putting one back restores it; a bad one is 400")
    func snapshot() async throws {
        try await TestSite.test { client in
            let saved = try await client.execute(uri: "/_understudy/snapshot", method: .get, headers: .control)
            #expect(saved.status == .ok)
            #expect(saved.text.contains("\"apiTokenHashes\":[\"hmac-sha256:"))
            #expect(!saved.text.contains("ada-token"), "never a token in clear")
            #expect(saved.text.contains("\"legacyProperties\":{\"slackhandle\":\"@bob\",\"team\":\"blue\"}"))
            // It is a site file: `serve --seed` and `seed` read it back as the same site.
            let reread = try SiteSetup.decoder.decode(saved.body.readableBytesView, file: "snapshot.json")
            let original = try TestSite.site
            #expect(Set(reread.users) == Set(original.users))
            #expect(Set(reread.appUsers) == Set(original.appUsers))
            #expect(Set(reread.apps.map(\.key)) == Set(original.apps.map(\.key)))
            #expect(reread.userProperties == original.userProperties)

            // A test replaces the site with its own…
            let own = """
                {"users": [{"accountId": "557058:zed", "emailAddress": "zed@example.com", "displayName": "Zed",
                  "apiTokens": ["zed-token"], "groups": ["jira-software-users"]}]}
                """
            try await client.execute(
                uri: "/_understudy/snapshot", method: .put, headers: .control, body: ByteBuffer(string: own)
            ) { response in
                #expect(response.status == .ok)
                #expect(json(response)["users"] == .number("1"))
            }
            try await client.execute(
                uri: "/rest/api/3/myself", method: .get, headers: .basic("zed@example.com", "zed-token")
            ) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .ada) {
                #expect($0.status == .unauthorized)
            }
            // …and puts the saved one back: the same site, tokens included.
            try await client.execute(uri: "/_understudy/snapshot", method: .put, headers: .control, body: saved.body) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .ada) {
                #expect($0.status == .ok)
            }
            let again = try await client.execute(uri: "/_understudy/snapshot", method: .get, headers: .control)
            #expect(again.text == saved.text)

            let broken = #"{"users": [{"accountId": "557058:x", "displayName": "X"}]}"#
            try await client.execute(
                uri: "/_understudy/snapshot", method: .put, headers: .control, body: ByteBuffer(string: broken)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorMessage?.contains("$.users[0].emailAddress") == true, "\(response.text)")
            }
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .ada) {
                #expect($0.status == .ok, "a refused snapshot changes nothing")
            }
        }
    }

    @Test("The journal keeps each request's caller, status and explanation, filters them, never a credential")
    func journal() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: Self.property, method: .get, headers: .ada) { #expect($0.status == .ok) }
            try await client.execute(uri: Self.property, method: .post, headers: .ada) {
                #expect($0.status == .methodNotAllowed)
            }
            try await client.execute(uri: "/rest/api/3/myself", method: .get) { #expect($0.status == .unauthorized) }
            let target = "/rest/api/3/myself"
            let token = TestSite.token("com.example.tour", .get, target)
            try await client.execute(uri: target + "?jwt=" + token, method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/_understudy/clock", method: .get, headers: .control) {
                #expect($0.status == .ok)
            }

            let all = try await client.execute(uri: "/_understudy/requests", method: .get, headers: .control)
            #expect(!all.text.contains(token), "a jwt in the query is redacted")
            let adaCredentials = try #require(HTTPFields.ada[.authorization]).dropFirst("Basic ".count)
            #expect(!all.text.contains("ada-token") && !all.text.contains(adaCredentials))
            guard case .array(let entries)? = json(all)["requests"] else {
                Issue.record("no requests: \(all.text)")
                return
            }
            #expect(entries.count == 4, "control requests are not journaled")
            guard case .object(let newest) = entries[0], case .object(let refused) = entries[2] else { return }
            let first = Dictionary(newest.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            #expect(first["path"] == .string("/rest/api/3/myself?jwt=[redacted]"))
            #expect(
                first["caller"]
                    == .object([
                        JSONMember("type", .string("app")), JSONMember("appKey", .string("com.example.tour")),
                        JSONMember("accountId", .string("557058:app-tour")),
                    ]))
            let post = Dictionary(refused.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            #expect(post["status"] == .number("405"))
            #expect(post["method"] == .string("POST"))
            #expect(
                post["explanation"]
                    == .string(
                        "POST is not an operation of this resource; to create or update a user property use PUT."))
            #expect(
                post["caller"]
                    == .object([JSONMember("type", .string("user")), JSONMember("accountId", .string("557058:ada"))]))
            if case .string(let id)? = post["requestId"] { #expect(!id.isEmpty) }

            for (filter, count) in [
                ("status=4xx", 2), ("status=405", 1), ("caller=anonymous", 1), ("caller=com.example.tour", 1),
                ("caller=557058:ada", 2), ("path=/rest/api/3/user/properties", 2), ("limit=1", 1),
            ] {
                let filtered = try await client.execute(
                    uri: "/_understudy/requests?" + filter, method: .get, headers: .control)
                guard case .array(let found)? = json(filtered)["requests"] else { continue }
                #expect(found.count == count, "\(filter)")
            }
            try await client.execute(uri: "/_understudy/requests", method: .delete, headers: .control) {
                #expect($0.status == .noContent)
            }
            let cleared = try await client.execute(uri: "/_understudy/requests", method: .get, headers: .control)
            #expect(json(cleared)["requests"] == .array([]))
        }
    }

    @Test("A full journal drops its oldest entry for each new one; the newest come first")
    func journalCapacity() async throws {
        try await TestSite.test(journalCapacity: 3) { client in
            func paths() async throws -> [String] {
                let answer = try await client.execute(uri: "/_understudy/requests", method: .get, headers: .control)
                guard case .array(let entries)? = json(answer)["requests"] else { return [] }
                return entries.compactMap { entry in
                    guard case .object(let members) = entry,
                        case .string(let path)? = members.first(where: { $0.name == "path" })?.value
                    else { return nil }
                    return path
                }
            }
            for n in 1...7 {
                try await client.execute(uri: "/status?n=\(n)", method: .get) { #expect($0.status == .ok) }
            }
            #expect(try await paths() == ["/status?n=7", "/status?n=6", "/status?n=5"])
            try await client.execute(uri: "/_understudy/requests", method: .delete, headers: .control) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: "/status?n=8", method: .get) { #expect($0.status == .ok) }
            #expect(try await paths() == ["/status?n=8"])
        }
    }

    @Test("A 429 fault with Jira's rate-limit headers for the next two matching requests, then normal service")
    func rateLimitFault() async throws {
        try await TestSite.test { client in
            let rule =
                #"{"method": "get", "path": "/rest/api/3/user/properties/*", "status": 429, "times": 2, "retryAfter": 7}"#
            let added = try await client.execute(
                uri: "/_understudy/faults", method: .post, headers: .control, body: ByteBuffer(string: rule))
            #expect(added.status == .created)
            #expect(json(added)["id"] == .string("f1"))
            for _ in 0..<2 {
                try await client.execute(uri: Self.property, method: .get, headers: .ada) { response in
                    #expect(response.status == .tooManyRequests)
                    #expect(response.errorMessage == "Rate limit exceeded.")
                    #expect(response.headers[.retryAfter] == "7")
                    #expect(response.headers[HTTPField.Name("RateLimit-Reason")!] == "jira-burst-based")
                    #expect(response.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "0")
                    let reset = response.headers[HTTPField.Name("X-RateLimit-Reset")!] ?? ""
                    #expect(reset.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\dZ/) != nil, "yyyy-MM-ddTHH:mmZ: \(reset)")
                    #expect(response.explanation?.contains("fault rule f1") == true)
                }
            }
            try await client.execute(uri: Self.property, method: .get, headers: .ada) { #expect($0.status == .ok) }
            let listed = try await client.execute(uri: "/_understudy/faults", method: .get, headers: .control)
            #expect(json(listed)["faults"] == .array([]), "used up")
        }
    }

    @Test("Faults match by caller and method; a 503 rule stays until removed; latency delays")
    func faultMatching() async throws {
        try await TestSite.test { client in
            let rule = #"{"path": "/rest/api/3/myself", "caller": "557058:bob", "status": 503}"#
            try await client.execute(
                uri: "/_understudy/faults", method: .post, headers: .control, body: ByteBuffer(string: rule)
            ) { #expect($0.status == .created) }
            for _ in 0..<3 {
                try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .bob) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] == "1")
                }
            }
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .ada) {
                #expect($0.status == .ok, "another caller")
            }
            let slow = #"{"path": "/rest/api/3/serverInfo", "latencyMs": 300, "times": 1}"#
            try await client.execute(
                uri: "/_understudy/faults", method: .post, headers: .control, body: ByteBuffer(string: slow)
            ) { #expect($0.status == .created) }
            let started = ContinuousClock.now
            try await client.execute(uri: "/rest/api/3/serverInfo", method: .get) { #expect($0.status == .ok) }
            #expect(ContinuousClock.now - started >= .milliseconds(300))

            try await client.execute(uri: "/_understudy/faults/f1", method: .delete, headers: .control) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .bob) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/_understudy/faults/f1", method: .delete, headers: .control) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test(
        "A fault rule that cannot work is refused, naming what is wrong",
        arguments: [
            (#"{"status": 429}"#, "'path' is required"),
            (#"{"path": "/x", "status": 200}"#, "'status' must be a whole number from 400 to 599"),
            (#"{"path": "/x"}"#, "needs a 'status'"),
            (#"{"path": "/x", "status": 429, "colour": "red"}"#, "Unknown field 'colour'"),
            (#"{"path": "/x", "status": 429, "times": 0}"#, "'times' must be a whole number"),
            ("[", "not valid JSON"),
        ])
    func badFaultRules(body: String, message: String) async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/_understudy/faults", method: .post, headers: .control, body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorMessage?.contains(message) == true, "\(response.text)")
            }
        }
    }

    @Test("Moving the clock an hour on makes a fresh Connect JWT expire; moving it back revives it")
    func clock() async throws {
        try await TestSite.test { client in
            let target = "/rest/api/3/myself"
            let headers = HTTPFields.jwt("com.example.tour", .get, target)
            try await client.execute(uri: target, method: .get, headers: headers) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/_understudy/clock", method: .put, headers: .control,
                body: ByteBuffer(string: #"{"offsetSeconds": 3600}"#)
            ) { response in
                #expect(response.status == .ok)
                #expect(json(response)["offsetSeconds"] == .number("3600.0"))
            }
            try await client.execute(uri: target, method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized)
                #expect(response.explanation?.contains("checking iat and exp") == true)
            }
            try await client.execute(
                uri: "/_understudy/clock", method: .put, headers: .control, body: ByteBuffer(string: #"{"offset": 1}"#)
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/_understudy/clock", method: .put, headers: .control,
                body: ByteBuffer(string: #"{"offsetSeconds": 0}"#)
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: target, method: .get, headers: headers) { #expect($0.status == .ok) }
        }
    }

    @Test("The console asks for the token once, keeps it in an HttpOnly cookie, and shows the site")
    func console() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/_understudy/console", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("<input name=\"token\""))
                #expect(!response.text.contains("Ada Admin"))
            }
            try await client.execute(uri: "/_understudy/console?token=wrong", method: .get) {
                #expect($0.status == .unauthorized)
            }
            let login = try await client.execute(
                uri: "/_understudy/console?token=\(TestSite.controlToken)", method: .get)
            #expect(login.status == .seeOther)
            #expect(login.headers[.location] == "/_understudy/console")
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            let pair = String(cookie.split(separator: ";")[0])
            let page = try await client.execute(uri: "/_understudy/console", method: .get, headers: [.cookie: pair])
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            for fragment in [
                "Ada Admin", "Administer Jira", "tour.progress", "slackhandle", "com.example.tour", "journal",
            ] {
                #expect(page.text.contains(fragment), "\(fragment)")
            }
            // The cookie opens the journal the page polls.
            try await client.execute(uri: "/_understudy/requests", method: .get, headers: [.cookie: pair]) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test("The console shows Forge apps with their installation, scopes, app user and Connect key (escaped)")
    func consoleForge() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/_understudy/forge/apps", method: .post, headers: .control,
                body: ByteBuffer(string: #"{"name": "<b>Bold</b>", "scopes": ["read:jira-user"]}"#)
            ) { #expect($0.status == .created) }
            let page = try await client.execute(uri: "/_understudy/console", method: .get, headers: .control)
            for fragment in [
                "<h2>Forge apps</h2>", "Tour Reporter", ForgeContractTests.reporterInstallation,
                "557058:forge-reporter",
                "Jira access only (its own properties)", "Tour Admin", "administers Jira", "com.example.gone",
                "&lt;b&gt;Bold&lt;/b&gt;",
            ] {
                #expect(page.text.contains(fragment), "\(fragment)")
            }
            #expect(!page.text.contains("<b>Bold</b>"))
        }
    }

    @Test("Names on the console are HTML-escaped")
    func consoleEscapes() async throws {
        try await TestSite.test { client in
            let site =
                #"{"users": [{"accountId": "557058:x", "emailAddress": "x@example.com", "displayName": "<script>alert(1)</script>"}]}"#
            try await client.execute(
                uri: "/_understudy/snapshot", method: .put, headers: .control, body: ByteBuffer(string: site)
            ) { #expect($0.status == .ok) }
            let page = try await client.execute(uri: "/_understudy/console", method: .get, headers: .control)
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!page.text.contains("<script>alert(1)"))
        }
    }

    @Test("The console shows the cloudId, OAuth apps (escaped) and consents with a revoke button, never a secret")
    func consoleOAuth() async throws {
        try await TestSite.test { client in
            let consent =
                "client_id=tour-client&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&scope=read%3Ajira-user&state=s&response_type=code&email=bob%40example.com&api_token=bob-token&decision=accept"
            try await client.execute(
                uri: "/authorize", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: consent)
            ) { #expect($0.status == .found) }
            let page = try await client.execute(uri: "/_understudy/console", method: .get, headers: .control)
            for fragment in [
                "cloudId <code>\(TestSite.cloudId)</code>", "Tour &lt;Sync&gt;", "https://app.example.com/callback",
                "<button class=\"revoke\" data-client=\"tour-client\" data-account=\"557058:bob\">Revoke</button>",
                "scoped API tokens: read:jira-user",
            ] {
                #expect(page.text.contains(fragment), "\(fragment)")
            }
            #expect(!page.text.contains("tour-client-secret"))
            #expect(!page.text.contains("Tour <Sync>"))
        }
    }

    @Test("A body over the control API's limit is 413 naming the limits, not an internal error")
    func oversizedBody() async throws {
        try await TestSite.test { client in
            var headers = HTTPFields.control
            headers[.contentType] = "application/json"
            let body = #"{"accountId": ""# + String(repeating: "x", count: 1_100_000) + #""}"#
            try await client.execute(
                uri: "/_understudy/sessions", method: .post, headers: headers, body: ByteBuffer(text: body)
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.errorMessage == "The request body is too large.")
                #expect(
                    response.explanation
                        == "The control API reads snapshots of up to 67108864 bytes and other bodies of up to 1 MiB.")
            }
        }
    }

    @Test("Unknown control resources are 404; the OpenAPI document stays public")
    func unknown() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/_understudy/nothing", method: .get, headers: .control) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/_understudy/openapi.json", method: .get) { #expect($0.status == .ok) }
        }
    }
}
