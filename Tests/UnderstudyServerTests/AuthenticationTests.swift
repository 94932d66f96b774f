import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import UnderstudyCore

/// Spec 5.1: e-mail and API token, and every way of getting them wrong.
@Suite("Basic authentication")
struct AuthenticationTests {
    static let notAuthenticated = "You are not authenticated. Authentication required to perform this operation."

    func expectRefused(
        _ headers: HTTPFields, explanationContains fragment: String, seraph: Bool = true,
        uri: String = "/rest/api/3/myself"
    ) async throws {
        try await TestSite.test { client in
            try await client.execute(uri: uri, method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized)
                #expect(response.errorMessage == Self.notAuthenticated)
                #expect(response.headers[.contentType] == "application/json;charset=UTF-8")
                #expect(
                    response.headers[HTTPField.Name("X-Seraph-LoginReason")!] == (seraph ? "AUTHENTICATED_FAILED" : nil)
                )
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == nil)
                #expect(response.explanation?.contains(fragment) == true, "\(response.explanation ?? "none")")
            }
        }
    }

    @Test("No credentials: 401 with Jira's message, no Seraph header")
    func noCredentials() async throws {
        try await expectRefused([:], explanationContains: "no credentials", seraph: false)
    }

    @Test("The right token with another account's e-mail is refused, and the explanation says so")
    func wrongEmail() async throws {
        try await expectRefused(
            .basic("bob@example.com", "ada-token"), explanationContains: "not one of bob@example.com's tokens")
    }

    @Test("An e-mail nobody has is refused")
    func unknownEmail() async throws {
        try await expectRefused(.basic("eve@example.com", "ada-token"), explanationContains: "'eve@example.com'")
    }

    @Test("A deactivated user cannot sign in")
    func inactive() async throws {
        try await expectRefused(.basic("dave@example.com", "dave-token"), explanationContains: "deactivated")
    }

    @Test("Malformed Authorization headers are refused, not crashed on")
    func malformed() async throws {
        try await expectRefused([.authorization: "Basic !!!"], explanationContains: "not base64")
        try await expectRefused(
            [.authorization: "Basic " + Data("no-colon".utf8).base64EncodedString()], explanationContains: "not base64")
        try await expectRefused([.authorization: "Basic"], explanationContains: "malformed")
        try await expectRefused([.authorization: "Digest abc"], explanationContains: "'Digest'")
    }

    @Test("The scheme is matched in any case; spaces before it are skipped; two Authorization fields are refused")
    func schemeSpelling() async throws {
        let credentials = try #require(HTTPFields.ada[.authorization]).dropFirst("Basic ".count)
        try await TestSite.test { client in
            for header in [
                "Basic \(credentials)", "basic \(credentials)", "BASIC \(credentials)", "  Basic \(credentials)",
            ] {
                try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: [.authorization: header]) {
                    #expect($0.status == .ok, "\(header)")
                }
            }
            var twice = HTTPFields.ada
            twice.append(HTTPField(name: .authorization, value: "Basic \(credentials)"))
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: twice) {
                #expect($0.status == .unauthorized, "two credentials are not one")
            }
        }
        try await expectRefused([.authorization: "Basic "], explanationContains: "malformed")
        try await expectRefused([.authorization: "   "], explanationContains: "malformed")
        try await expectRefused([.authorization: "Basicx \(credentials)"], explanationContains: "'Basicx'")
        try await expectRefused([.authorization: "Bearer abc"], explanationContains: "Bearer")
    }

    @Test("A jwt query parameter together with an Authorization header is refused")
    func jwtAndHeader() async throws {
        try await expectRefused(.ada, explanationContains: "one way only", uri: "/rest/api/3/myself?jwt=abc")
    }

    @Test("E-mail matching ignores case, as Jira does")
    func emailCase() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/3/myself", method: .get, headers: .basic("ADA@Example.com", "ada-token")
            ) {
                response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == "557058:ada")
            }
        }
    }

    @Test("Credentials that worked stop working once the account is deactivated")
    func deactivatedAfterUse() async throws {
        let store = try await TestSite.store()
        try await TestSite.test(store: store) { client in
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .bob) {
                #expect($0.status == .ok)
            }
            var bob = try #require(await store.user(accountId: "557058:bob"))
            bob.active = false
            try await store.load(Site(users: [bob]))
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .bob) { response in
                #expect(response.status == .unauthorized)
                #expect(response.explanation?.contains("deactivated") == true)
            }
        }
    }
}
