import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import UnderstudyAuth
import UnderstudyCore

/// Spec 4.5, 5.2–5.5: Connect apps calling with their JWT, and every way that goes wrong.
@Suite("Connect apps")
struct ConnectContractTests {
    /// Sends `method target` signed by `app`, exactly as an app would.
    func call(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ target: String, body: String? = nil
    ) async throws -> TestResponse {
        try await call(client, "com.example.tour", method, target, body: body)
    }

    func call(
        _ client: any TestClientProtocol, _ app: String, _ method: HTTPRequest.Method, _ target: String,
        body: String? = nil
    ) async throws -> TestResponse {
        try await client.execute(
            uri: target, method: method, headers: .jwt(app, method, target), body: body.map { ByteBuffer(text: $0) })
    }

    func expectUnauthorized(
        _ response: TestResponse, explanation fragment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
        #expect(
            response.errorMessage == "You are not authenticated. Authentication required to perform this operation.",
            sourceLocation: sourceLocation)
        #expect(
            response.explanation?.contains(fragment) == true, "\(response.explanation ?? "none")",
            sourceLocation: sourceLocation)
    }

    @Test("/myself with an app's JWT describes its app user")
    func myself() async throws {
        try await TestSite.test { client in
            let response = try await call(client, .get, "/rest/api/3/myself")
            #expect(response.status == .ok)
            #expect(response.headers[HTTPField.Name("X-AAccountId")!] == "557058:app-tour")
            let user = try response.json()
            #expect(member(user, "accountType") == .string("app"))
            #expect(member(user, "displayName") == .string("Product Tour"))
            #expect(member(user, "emailAddress") == nil)
        }
    }

    @Test("The token may travel in the jwt query parameter; qsh leaves jwt out")
    func queryParameter() async throws {
        try await TestSite.test { client in
            let target = "/rest/api/3/user/properties?accountId=557058%3Abob"
            let token = TestSite.token("com.example.tour", .get, target)
            try await client.execute(uri: target + "&jwt=" + token, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == "557058:app-tour")
            }
            try await client.execute(uri: target + "&jwt=" + token, method: .get, headers: .ada) { response in
                expectUnauthorized(response, explanation: "one way only")
            }
        }
    }

    @Test("An app user in atlassian-addons-admin may write an end user's property")
    func appWritesUserProperty() async throws {
        try await TestSite.test { client in
            let target = "/rest/api/3/user/properties/from-app?accountId=557058:bob"
            let response1 = try await call(client, .put, target, body: "{\"by\":\"app\"}")
            #expect(response1.status == .created)
            let response2 = try await call(client, .get, target)
            #expect(response2.text == "{\"key\":\"from-app\",\"value\":{\"by\":\"app\"}}")
            let response3 = try await call(client, .delete, target)
            #expect(response3.status == .noContent)
        }
    }

    @Test("An app user without Administer Jira may write only its own record")
    func plainAppUser() async throws {
        try await TestSite.test { client in
            let own = try await call(
                client, "com.example.plain", .put, "/rest/api/3/user/properties/k?accountId=557058:app-plain", body: "1"
            )
            #expect(own.status == .created)
            let other = try await call(
                client, "com.example.plain", .put, "/rest/api/3/user/properties/k?accountId=557058:bob", body: "1")
            #expect(other.status == .forbidden)
            #expect(other.explanation?.contains("Caller 557058:app-plain is not an administrator") == true)
        }
    }

    @Test("Scope gate: READ may GET, not PUT or DELETE; the explanation names the missing scope")
    func scopeGate() async throws {
        try await TestSite.test { client in
            let target = "/rest/api/3/user/properties/tour.progress?accountId=557058:bob"
            let response4 = try await call(client, "com.example.reader", .get, target)
            #expect(response4.status == .ok)
            for (method, scope) in [(HTTPRequest.Method.put, "WRITE"), (.delete, "DELETE")] {
                let response = try await call(client, "com.example.reader", method, target, body: "1")
                #expect(response.status == .forbidden)
                #expect(response.errorMessage == "Request not in an authorized API scope")
                #expect(
                    response.explanation?.contains("needs the \(scope) scope") == true, "\(response.explanation ?? "")")
            }
            let response5 = try await call(client, "com.example.reader", .get, "/rest/api/3/serverInfo")
            #expect(response5.status == .ok)
            let response6 = try await call(client, "com.example.reader", .get, "/rest/api/2/user?accountId=557058:ada")
            #expect(response6.status == .ok)
        }
    }

    @Test("POST on a user property from an app is 403 'not in an authorized API scope', not 405")
    func postIsScopeFailure() async throws {
        try await TestSite.test { client in
            let response = try await call(
                client, .post, "/rest/api/2/user/properties/tour?accountId=557058:bob", body: "{}")
            #expect(response.status == .forbidden)
            #expect(response.errorMessage == "Request not in an authorized API scope")
            #expect(response.headers[.allow] == nil)
            #expect(
                response.explanation
                    == "POST is not an operation of this resource, so no scope covers it; to create or update a user property use PUT."
            )
        }
    }

    @Test("POST /rest/api/2/userProperties/ from an app is 403, and the explanation names the right resource")
    func guessedResource() async throws {
        try await TestSite.test { client in
            let response = try await call(client, .post, "/rest/api/2/userProperties/", body: "{}")
            #expect(response.status == .forbidden)
            #expect(response.errorMessage == "Request not in an authorized API scope")
            #expect(
                response.explanation?.contains("PUT /rest/api/{2,3}/user/properties/{propertyKey}?accountId=") == true)
        }
    }

    @Test("Paths outside /rest/ are outside the gate")
    func outsideGate() async throws {
        try await TestSite.test { client in
            let response7 = try await call(client, "com.example.reader", .get, "/status")
            #expect(response7.status == .ok)
        }
    }

    @Test("iss = clientKey is the classic mistake: 401 naming the app key to use")
    func issuerIsClientKey() async throws {
        try await TestSite.test { client in
            let target = "/rest/api/3/myself"
            let token = ConnectJWTTestSupport.sign(
                issuer: "jira:tour", secret: "tour-secret", method: "GET", target: target)
            try await client.execute(uri: target, method: .get, headers: [.authorization: "JWT \(token)"]) { response in
                #expect(response.status == .unauthorized)
                #expect(
                    response.explanation
                        == "Signed with iss=jira:tour which is this site's clientKey for app com.example.tour; an app signs requests to Jira with its app key (iss=com.example.tour)."
                )
            }
        }
    }

    @Test("Each JWT failure is a 401 whose explanation names the step")
    func failures() async throws {
        try await TestSite.test { client in
            let target = "/rest/api/3/myself"
            let unknown = ConnectJWTTestSupport.sign(
                issuer: "com.example.ghost", secret: "x", method: "GET", target: target)
            try await client.execute(uri: target, method: .get, headers: [.authorization: "JWT \(unknown)"]) {
                expectUnauthorized($0, explanation: "no app installed on this site has the key 'com.example.ghost'")
            }
            let wrongSecret = ConnectJWTTestSupport.sign(
                issuer: "com.example.tour", secret: "reader-secret", method: "GET", target: target)
            try await client.execute(uri: target, method: .get, headers: [.authorization: "JWT \(wrongSecret)"]) {
                expectUnauthorized($0, explanation: "verifying the signature")
            }
            let expired = HTTPFields.jwt("com.example.tour", .get, target, issuedAt: Date().addingTimeInterval(-600))
            try await client.execute(uri: target, method: .get, headers: expired) {
                expectUnauthorized($0, explanation: "checking iat and exp")
            }
            let replayed = HTTPFields.jwt("com.example.tour", .get, "/rest/api/3/serverInfo")
            try await client.execute(uri: target, method: .get, headers: replayed) {
                expectUnauthorized(
                    $0,
                    explanation:
                        "Query string hash mismatch: the server computed the canonical request \"GET&/rest/api/3/myself&\""
                )
            }
            try await client.execute(uri: target, method: .get, headers: [.authorization: "JWT not.a.token"]) {
                expectUnauthorized($0, explanation: "parsing the token")
            }
            let none = ConnectJWTTestSupport.unsigned(issuer: "com.example.tour", method: "GET", target: target)
            try await client.execute(uri: target, method: .get, headers: [.authorization: "JWT \(none)"]) {
                expectUnauthorized($0, explanation: "alg is none")
            }
        }
    }

    @Test("A token reused for its own request keeps working until it expires, and only for that request")
    func reusedToken() async throws {
        let clock = TestClock()
        try await TestSite.test(now: { clock.now }) { client in
            let target = "/rest/api/3/user/properties/tour.progress?accountId=557058:bob"
            let headers = HTTPFields.jwt("com.example.tour", .get, target, issuedAt: clock.now)
            for _ in 0..<3 {
                try await client.execute(uri: target, method: .get, headers: headers) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: target + "&x=1", method: .get, headers: headers) {
                expectUnauthorized($0, explanation: "Query string hash mismatch")
            }
            try await client.execute(uri: target, method: .delete, headers: headers) {
                expectUnauthorized($0, explanation: "Query string hash mismatch")
            }
            clock.advance(by: 180 + 29)
            try await client.execute(uri: target, method: .get, headers: headers) { #expect($0.status == .ok) }
            clock.advance(by: 2)
            try await client.execute(uri: target, method: .get, headers: headers) {
                expectUnauthorized($0, explanation: "checking iat and exp")
            }
        }
    }

    // MARK: App properties (spec 6)

    static let appProperties = "/rest/atlassian-connect/1/addons/com.example.tour/properties"

    func expectAppError(
        _ response: TestResponse, _ status: HTTPResponse.Status, _ message: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(
            response.text == "{\"message\":\"\(message)\",\"statusCode\":\(status.code)}",
            sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json;charset=UTF-8", sourceLocation: sourceLocation)
        #expect(response.headers[.cacheControl] == "no-cache, no-store, no-transform", sourceLocation: sourceLocation)
        #expect(response.explanation?.isEmpty == false, sourceLocation: sourceLocation)
    }

    @Test("An app's property: created, updated, read with self, listed, deleted")
    func appPropertyLifecycle() async throws {
        try await TestSite.test { client in
            let target = Self.appProperties + "/settings"
            let created = try await call(client, .put, target, body: "{\"enabled\": true}")
            #expect(created.status == .created)
            #expect(created.text == "{\"message\":\"Property created.\",\"statusCode\":201}")
            let updated = try await call(client, .put, target, body: "{\"enabled\": false}")
            #expect(updated.status == .ok)
            #expect(updated.text == "{\"message\":\"Property updated.\",\"statusCode\":200}")
            let read = try await call(client, .get, target)
            #expect(
                read.text
                    == "{\"key\":\"settings\",\"value\":{\"enabled\": false},\"self\":\"\(TestSite.baseURL)\(target)\"}"
            )
            let list = try await call(client, .get, Self.appProperties)
            #expect(list.text == "{\"keys\":[{\"key\":\"settings\",\"self\":\"\(TestSite.baseURL)\(target)\"}]}")
            let response8 = try await call(client, .delete, target)
            #expect(response8.status == .noContent)
            expectAppError(try await call(client, .get, target), .notFound, "Property with key not found.")
            expectAppError(try await call(client, .delete, target), .notFound, "Property with key not found.")
        }
    }

    @Test("Another app's properties are 'not found' for every operation")
    func privacy() async throws {
        try await TestSite.test { client in
            let response9 = try await call(client, .put, Self.appProperties + "/secret", body: "1")
            #expect(response9.status == .created)
            let foreign = "/rest/atlassian-connect/1/addons/com.example.tour/properties"
            for (method, target) in [
                (HTTPRequest.Method.get, foreign), (.get, foreign + "/secret"), (.put, foreign + "/secret"),
                (.delete, foreign + "/secret"),
            ] {
                let response = try await call(client, "com.example.reader", method, target, body: "2")
                expectAppError(response, .notFound, "Property with key not found.")
                #expect(response.explanation?.contains("private to their app") == true)
            }
            #expect(try await call(client, .get, Self.appProperties + "/secret").text.contains("\"value\":1"))
        }
    }

    @Test("Without an app's JWT: 401 in the app-property shape")
    func notAnApp() async throws {
        try await TestSite.test { client in
            for headers in [HTTPFields.ada, [:], [.authorization: "JWT broken"]] {
                for method in [HTTPRequest.Method.get, .post] {
                    try await client.execute(uri: Self.appProperties + "/k", method: method, headers: headers) {
                        response in
                        expectAppError(
                            response, .unauthorized, "Access to this resource must be authenticated as an app.")
                    }
                }
            }
        }
    }

    @Test("App-property limits: a 128-character key, empty and invalid values")
    func appPropertyLimits() async throws {
        try await TestSite.test { client in
            let longKey = String(repeating: "k", count: 128)
            expectAppError(
                try await call(client, .put, Self.appProperties + "/" + longKey, body: "1"), .badRequest,
                "The property key cannot be longer than 127 characters.")
            #expect(
                try await call(client, .put, Self.appProperties + "/" + String(repeating: "k", count: 127), body: "1")
                    .status
                    == .created)
            expectAppError(
                try await call(client, .put, Self.appProperties + "/k", body: " "), .badRequest,
                "The property value cannot be empty.")
            expectAppError(
                try await call(client, .put, Self.appProperties + "/k", body: "{'a':1}"), .badRequest,
                "The property value must be valid JSON.")
            expectAppError(
                try await call(client, .put, Self.appProperties + "/a%00b", body: "1"), .badRequest,
                "The property key cannot contain the character U+0000.")
            expectAppError(
                try await call(client, .get, Self.appProperties + "/a%00b"), .notFound, "Property with key not found.")
            let big = "\"" + String(repeating: "x", count: 40000) + "\""
            expectAppError(
                try await call(client, .put, Self.appProperties + "/k", body: big), .badRequest,
                "The property value is too long: 40002 bytes, the maximum is 32768.")
        }
    }

    @Test("POST on an app property is a scope failure, in the app-property shape")
    func appPropertyPost() async throws {
        try await TestSite.test { client in
            expectAppError(
                try await call(client, .post, Self.appProperties + "/k", body: "1"), .forbidden,
                "Request not in an authorized API scope")
        }
    }
}

/// Tokens that `ConnectJWT.sign` would never make: a chosen `iss`, or no signature at all.
enum ConnectJWTTestSupport {
    static func sign(issuer: String, secret: String, method: String, target: String) -> String {
        ConnectJWT.sign(appKey: issuer, sharedSecret: secret, method: method, target: Substring(target))
    }

    static func unsigned(issuer: String, method: String, target: String) -> String {
        let qsh = CanonicalRequest(method: method, target: Substring(target)).queryStringHash
        let now = Int(Date().timeIntervalSince1970)
        let claims = "{\"iss\":\"\(issuer)\",\"iat\":\(now),\"exp\":\(now + 60),\"qsh\":\"\(qsh)\"}"
        func encode(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return encode("{\"alg\":\"none\"}") + "." + encode(claims) + "."
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date())
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0.addTimeInterval(seconds) } }
}
