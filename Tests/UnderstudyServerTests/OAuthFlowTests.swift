import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import UnderstudyCore

/// Spec 9: an OAuth 2.0 (3LO) app's whole life against the authorization server, as a script drives
/// it: consent by posting the form, the code exchange, calls through the gateway, rotation with
/// the site clock moved, and every refusal with its exact body and explanation.
@Suite("OAuth 2.0 authorization server")
struct OAuthFlowTests {
    static let callback = "https://app.example.com/callback"
    static let clientBasic: HTTPFields = .basic("tour-client", "tour-client-secret")
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// The query of an authorization request for the test site's OAuth app.
    static func authorizeQuery(
        scope: String = "read:jira-user write:jira-work offline_access", state: String? = "s-123",
        redirectUri: String = callback, responseType: String = "code", clientId: String = "tour-client"
    ) -> String {
        var fields = [
            ("client_id", clientId), ("redirect_uri", redirectUri), ("scope", scope), ("response_type", responseType),
            ("audience", "api.atlassian.com"), ("prompt", "consent"),
        ]
        if let state { fields.append(("state", state)) }
        return fields.map { "\($0.0)=\(PercentEncoding.encode($0.1))" }.joined(separator: "&")
    }

    /// Posts the consent form as a browser would, signed in as `email`.
    static func consent(
        _ client: any TestClientProtocol, email: String = "bob@example.com", token: String = "bob-token",
        decision: String = "accept", query: String = authorizeQuery()
    ) async throws -> TestResponse {
        let body = query + "&email=\(PercentEncoding.encode(email))&api_token=\(token)&decision=\(decision)"
        return try await client.execute(uri: "/authorize", method: .post, headers: form, body: ByteBuffer(text: body))
    }

    /// The redirect's query parameters.
    static func parameters(of response: TestResponse) -> [String: String] {
        guard let location = response.headers[.location], let query = location.split(separator: "?").last else {
            return [:]
        }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            result[String(parts[0])] =
                parts.count > 1 ? PercentEncoding.decodeLeniently(parts[1], plusIsSpace: true) : ""
        }
        return result
    }

    /// Consents and exchanges the code: the token response as JSON members.
    static func tokens(
        _ client: any TestClientProtocol, scope: String = "read:jira-user write:jira-work offline_access",
        email: String = "bob@example.com", token: String = "bob-token"
    ) async throws -> [String: String] {
        let consented = try await consent(client, email: email, token: token, query: authorizeQuery(scope: scope))
        let code = try #require(parameters(of: consented)["code"])
        let response = try await client.execute(
            uri: "/oauth/token", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(
                text:
                    "{\"grant_type\":\"authorization_code\",\"client_id\":\"tour-client\",\"client_secret\":\"tour-client-secret\",\"code\":\"\(code)\",\"redirect_uri\":\"\(callback)\"}"
            ))
        #expect(response.status == .ok)
        return try strings(response.json())
    }

    static func refresh(_ client: any TestClientProtocol, _ refreshToken: String) async throws -> TestResponse {
        var headers = form
        headers.append(contentsOf: clientBasic)
        return try await client.execute(
            uri: "/oauth/token", method: .post, headers: headers,
            body: ByteBuffer(text: "grant_type=refresh_token&refresh_token=\(refreshToken)"))
    }

    static func strings(_ json: JSONValue) -> [String: String] {
        guard case .object(let members) = json else { return [:] }
        var result: [String: String] = [:]
        for member in members {
            switch member.value {
            case .string(let text): result[member.name] = text
            case .number(let text): result[member.name] = text
            default: break
            }
        }
        return result
    }

    static func bearer(_ token: String?) -> HTTPFields { [.authorization: "Bearer \(token ?? "")"] }

    static func moveClock(_ client: any TestClientProtocol, by seconds: Int) async throws {
        try await client.execute(
            uri: "/_understudy/clock", method: .put, headers: .control,
            body: ByteBuffer(text: "{\"offsetSeconds\": \(seconds)}")
        ) { #expect($0.status == .ok) }
    }

    func expectInvalidGrant(
        _ response: TestResponse, _ description: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == .forbidden, sourceLocation: sourceLocation)
        #expect(
            response.text == "{\"error\":\"invalid_grant\",\"error_description\":\"\(description)\"}",
            sourceLocation: sourceLocation)
    }

    // MARK: 9.2 Authorization

    @Test("GET /authorize shows a consent page: escaped, each scope in plain words, a strict CSP")
    func consentPage() async throws {
        try await TestSite.test { client in
            let query = Self.authorizeQuery(scope: "read:jira-user offline_access", state: "<script>alert(1)</script>")
            try await client.execute(uri: "/authorize?\(query)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html;charset=UTF-8")
                #expect(response.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'none'") == true)
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                let page = response.text
                #expect(page.contains("Tour &lt;Sync&gt;"), "the app's name, escaped")
                #expect(!page.contains("<script>"), "nothing the request carries is markup")
                #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
                #expect(page.contains("View user information in Jira"))
                #expect(page.contains("name=\"decision\" value=\"accept\""))
                #expect(page.contains("name=\"decision\" value=\"deny\""))
            }
        }
    }

    @Test("An unknown client_id or an unregistered redirect_uri is a 400 page, never a redirect")
    func noRedirectToUnregisteredAddresses() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/authorize?\(Self.authorizeQuery(clientId: "nobody"))", method: .get) {
                response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.location] == nil)
                #expect(response.explanation == "No OAuth 2.0 app of this site has client_id 'nobody'.")
            }
            let slash = Self.authorizeQuery(redirectUri: Self.callback + "/")
            try await client.execute(uri: "/authorize?\(slash)", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.location] == nil)
                #expect(
                    response.explanation
                        == "redirect_uri 'https://app.example.com/callback/' differs from the registered callback URL 'https://app.example.com/callback' by a trailing slash; it must match exactly."
                )
            }
            let hostile = Self.authorizeQuery(redirectUri: "https://evil.example/steal")
            let posted = try await Self.consent(client, query: hostile)
            #expect(posted.status == .badRequest)
            #expect(posted.headers[.location] == nil, "the form's POST never redirects there either")
        }
    }

    @Test("Other problems go back to the app: unsupported_response_type, invalid_scope, invalid_request")
    func errorsRedirectToTheApp() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/authorize?\(Self.authorizeQuery(responseType: "token"))", method: .get
            ) { response in
                #expect(response.status == .found)
                let parameters = Self.parameters(of: response)
                #expect(parameters["error"] == "unsupported_response_type")
                #expect(parameters["state"] == "s-123")
                #expect(response.headers[.location]?.hasPrefix(Self.callback + "?") == true)
            }
            try await client.execute(
                uri: "/authorize?\(Self.authorizeQuery(scope: "read:jira-user manage:jira-configuration"))",
                method: .get
            ) { response in
                #expect(response.status == .found)
                #expect(Self.parameters(of: response)["error"] == "invalid_scope")
                #expect(
                    Self.parameters(of: response)["error_description"]?.contains("manage:jira-configuration") == true)
            }
            try await client.execute(uri: "/authorize?\(Self.authorizeQuery(state: nil))", method: .get) { response in
                #expect(response.status == .found)
                #expect(Self.parameters(of: response)["error"] == "invalid_request")
                #expect(Self.parameters(of: response)["state"] == nil)
            }
        }
    }

    @Test("A repeated parameter: client_id or redirect_uri is a 400 page, any other goes back as invalid_request")
    func repeatedParameters() async throws {
        try await TestSite.test { client in
            let twoRedirects = Self.authorizeQuery() + "&redirect_uri=https%3A%2F%2Fevil.example%2F"
            try await client.execute(uri: "/authorize?\(twoRedirects)", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.location] == nil)
                #expect(response.explanation?.contains("redirect_uri is sent more than once") == true)
            }
            try await client.execute(uri: "/authorize?\(Self.authorizeQuery())&scope=read%3Ame", method: .get) {
                response in
                #expect(response.status == .found)
                #expect(Self.parameters(of: response)["error"] == "invalid_request")
                #expect(
                    Self.parameters(of: response)["error_description"] == "The parameter scope is sent more than once.")
            }
        }
    }

    @Test("The form: a wrong token shows the page again with the reason; deny goes back with access_denied")
    func signInAndDeny() async throws {
        try await TestSite.test { client in
            let wrong = try await Self.consent(client, token: "not-bobs")
            #expect(wrong.status == .ok)
            #expect(wrong.text.contains("do not belong to a user of this site"))
            #expect(wrong.headers[.location] == nil)
            let denied = try await Self.consent(client, decision: "deny")
            #expect(denied.status == .found)
            #expect(Self.parameters(of: denied)["error"] == "access_denied")
            #expect(Self.parameters(of: denied)["state"] == "s-123")
            let oversized = try await Self.consent(client, token: String(repeating: "x", count: 70_000))
            #expect(oversized.status == .badRequest)
            #expect(oversized.text.contains("Request too large"))
            #expect(oversized.explanation == "The form is longer than 65536 bytes.")
        }
    }

    // MARK: 9.3 Tokens

    @Test("Accept gives a code; the form-encoded exchange with Basic client credentials gives a Bearer token")
    func codeExchange() async throws {
        try await TestSite.test { client in
            let consented = try await Self.consent(client)
            #expect(consented.status == .found)
            let parameters = Self.parameters(of: consented)
            #expect(parameters["state"] == "s-123")
            let code = try #require(parameters["code"])
            var headers = Self.form
            headers.append(contentsOf: Self.clientBasic)
            let body =
                "grant_type=authorization_code&code=\(code)&redirect_uri=\(PercentEncoding.encode(Self.callback))"
            try await client.execute(uri: "/oauth/token", method: .post, headers: headers, body: ByteBuffer(text: body))
            {
                response in
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[HTTPField.Name("Pragma")!] == "no-cache")
                let json = try response.json()
                #expect(memberNames(json) == ["access_token", "expires_in", "token_type", "refresh_token", "scope"])
                #expect(member(json, "expires_in") == .number("3600"))
                #expect(member(json, "token_type") == .string("Bearer"))
                #expect(member(json, "scope") == .string("read:jira-user write:jira-work offline_access"))
                guard case .string(let accessToken)? = member(json, "access_token") else { return }
                #expect(accessToken.count >= 43, "at least 32 bytes of entropy")
            }
            // The code is single-use.
            try await client.execute(uri: "/oauth/token", method: .post, headers: headers, body: ByteBuffer(text: body))
            {
                response in
                expectInvalidGrant(response, "Invalid authorization code")
                #expect(response.explanation?.contains("single-use") == true)
            }
        }
    }

    @Test("The access token calls the gateway as the user who consented; the journal names the app")
    func gatewayCalls() async throws {
        try await TestSite.test { client in
            let tokens = try await Self.tokens(client)
            try await client.execute(
                uri: "\(TestSite.gateway)/rest/api/3/myself", method: .get, headers: Self.bearer(tokens["access_token"])
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == "557058:bob")
            }
            let property = "\(TestSite.gateway)/rest/api/2/user/properties/tour?accountId=557058:bob"
            try await client.execute(
                uri: property, method: .put, headers: Self.bearer(tokens["access_token"]), body: ByteBuffer(text: "1")
            ) { #expect($0.status == .created) }
            try await client.execute(uri: "/_understudy/requests?caller=tour-client", method: .get, headers: .control) {
                response in
                #expect(
                    response.text.contains(
                        "{\"type\":\"oauth\",\"clientId\":\"tour-client\",\"accountId\":\"557058:bob\"}"))
                #expect(!response.text.contains(tokens["access_token"] ?? "-"), "never a token in the journal")
            }
        }
    }

    @Test("Client authentication, grant types and malformed bodies get the specified errors")
    func tokenEndpointErrors() async throws {
        try await TestSite.test { client in
            let cases: [(HTTPFields, String, HTTPResponse.Status, String)] = [
                (
                    Self.form, "grant_type=refresh_token&client_id=tour-client&client_secret=wrong&refresh_token=x",
                    .unauthorized, "{\"error\":\"access_denied\",\"error_description\":\"Unauthorized\"}"
                ),
                (
                    Self.form, "grant_type=refresh_token&client_id=nobody&client_secret=x&refresh_token=x",
                    .unauthorized, "{\"error\":\"access_denied\",\"error_description\":\"Unauthorized\"}"
                ),
                (
                    Self.form, "grant_type=password&client_id=tour-client&client_secret=tour-client-secret",
                    .forbidden,
                    "{\"error\":\"unsupported_grant_type\",\"error_description\":\"Unsupported grant type: password\"}"
                ),
                (
                    [.contentType: "application/json"], "{\"grant_type\": ",
                    .badRequest,
                    "{\"error\":\"invalid_request\",\"error_description\":\"The request body is not a JSON object\"}"
                ),
                (
                    Self.form, "client_id=tour-client&client_secret=tour-client-secret",
                    .badRequest, "{\"error\":\"invalid_request\",\"error_description\":\"Missing grant_type\"}"
                ),
                (
                    Self.form, "grant_type=authorization_code&client_id=tour-client&client_secret=tour-client-secret",
                    .badRequest, "{\"error\":\"invalid_request\",\"error_description\":\"Missing code\"}"
                ),
                (
                    Self.form, "grant_type=refresh_token&refresh_token=" + String(repeating: "x", count: 70_000),
                    .badRequest,
                    "{\"error\":\"invalid_request\",\"error_description\":\"Request body too large\"}"
                ),
                (
                    Self.form, "grant_type=refresh_token&client_id=tour-client&client_secret=%zz",
                    .badRequest,
                    "{\"error\":\"invalid_request\",\"error_description\":\"The request body is not a valid form\"}"
                ),
            ]
            for (headers, body, status, expected) in cases {
                try await client.execute(
                    uri: "/oauth/token", method: .post, headers: headers, body: ByteBuffer(text: body)
                ) { response in
                    #expect(response.status == status, "\(body)")
                    #expect(response.text == expected, "\(body)")
                    #expect(response.explanation?.isEmpty == false, "\(body)")
                    #expect(response.headers[.cacheControl] == "no-store")
                }
            }
        }
    }

    @Test("A code is refused when redirect_uri differs, when it expired (10 minutes), or for another client")
    func codeRefusals() async throws {
        try await TestSite.test { client in
            let first = try #require(Self.parameters(of: try await Self.consent(client))["code"])
            let mismatched =
                "grant_type=authorization_code&client_id=tour-client&client_secret=tour-client-secret&code=\(first)&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback"
            try await client.execute(
                uri: "/oauth/token", method: .post, headers: Self.form, body: ByteBuffer(text: mismatched)
            ) { response in
                expectInvalidGrant(response, "Invalid authorization code")
                #expect(response.explanation?.contains("differs from 'https://app.example.com/callback'") == true)
            }
            let second = try #require(Self.parameters(of: try await Self.consent(client))["code"])
            try await Self.moveClock(client, by: 601)
            let late =
                "grant_type=authorization_code&client_id=tour-client&client_secret=tour-client-secret&code=\(second)&redirect_uri=\(PercentEncoding.encode(Self.callback))"
            try await client.execute(
                uri: "/oauth/token", method: .post, headers: Self.form, body: ByteBuffer(text: late)
            ) { response in
                expectInvalidGrant(response, "Invalid authorization code")
                #expect(response.explanation?.contains("expired") == true)
            }
        }
    }

    @Test("Without offline_access there is no refresh token, and a later refresh attempt says why")
    func offlineAccessForgotten() async throws {
        try await TestSite.test { client in
            let tokens = try await Self.tokens(client, scope: "read:jira-user")
            #expect(tokens["refresh_token"] == nil)
            #expect(tokens["scope"] == "read:jira-user")
            let response = try await client.execute(
                uri: "/oauth/token", method: .post, headers: Self.form,
                body: ByteBuffer(
                    text: "grant_type=refresh_token&client_id=tour-client&client_secret=tour-client-secret"))
            #expect(response.status == .badRequest)
            #expect(response.explanation?.contains("offline_access") == true)
        }
    }

    @Test("Rotation: each refresh gives a new pair; reuse within 10 minutes is honoured, later it revokes the family")
    func rotation() async throws {
        try await TestSite.test { client in
            let tokens = try await Self.tokens(client)
            let first = try #require(tokens["refresh_token"])
            let rotated = try Self.strings(await Self.refresh(client, first).json())
            let second = try #require(rotated["refresh_token"])
            #expect(second != first)
            #expect(rotated["access_token"] != tokens["access_token"])
            #expect(rotated["scope"] == "read:jira-user write:jira-work offline_access")

            try await Self.moveClock(client, by: 300)
            let reused = try await Self.refresh(client, first)
            #expect(reused.status == .ok, "within the leeway the old token still works")

            try await Self.moveClock(client, by: 601)
            let late = try await Self.refresh(client, first)
            expectInvalidGrant(late, "Unknown or invalid refresh token.")
            #expect(late.explanation?.contains("10-minute reuse leeway") == true)
            let newest = try await Self.refresh(client, second)
            expectInvalidGrant(newest, "Unknown or invalid refresh token.")
            #expect(newest.explanation?.contains("family was revoked") == true)
            // Access tokens already issued stay valid until they expire (spec 9.3, a choice).
            try await client.execute(
                uri: "\(TestSite.gateway)/rest/api/3/myself", method: .get,
                headers: Self.bearer(rotated["access_token"])
            ) { #expect($0.status == .ok) }
        }
    }

    @Test("Access tokens expire after 3600 s by the site clock; refresh tokens after 90 idle days")
    func expiry() async throws {
        try await TestSite.test { client in
            let tokens = try await Self.tokens(client)
            try await Self.moveClock(client, by: 3601)
            try await client.execute(
                uri: "\(TestSite.gateway)/rest/api/3/myself", method: .get, headers: Self.bearer(tokens["access_token"])
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.text == "{\"code\":401,\"message\":\"Unauthorized\"}")
                #expect(response.explanation?.contains("expired at") == true)
                #expect(response.explanation?.contains("grant_type=refresh_token") == true)
            }
            try await Self.moveClock(client, by: 91 * 86_400)
            let idle = try await Self.refresh(client, try #require(tokens["refresh_token"]))
            expectInvalidGrant(idle, "Unknown or invalid refresh token.")
            #expect(idle.explanation?.contains("90 days without a refresh") == true)
        }
    }

    @Test("However often it is used, a family ends 365 days after the code exchange")
    func absoluteExpiry() async throws {
        try await TestSite.test { client in
            var refreshToken = try #require(try await Self.tokens(client)["refresh_token"])
            for step in 1...4 {
                try await Self.moveClock(client, by: step * 80 * 86_400)
                let response = try await Self.refresh(client, refreshToken)
                #expect(response.status == .ok, "day \(step * 80)")
                refreshToken = try #require(Self.strings(response.json())["refresh_token"])
            }
            try await Self.moveClock(client, by: 366 * 86_400)
            let response = try await Self.refresh(client, refreshToken)
            expectInvalidGrant(response, "Unknown or invalid refresh token.")
            #expect(response.explanation?.contains("365 days") == true)
        }
    }

    // MARK: 9.4, 9.5 and the control API

    @Test("accessible-resources lists the site with the granted Jira scopes; /me needs read:me")
    func resourcesAndIdentity() async throws {
        try await TestSite.test { client in
            let tokens = try await Self.tokens(client)
            try await client.execute(
                uri: "/oauth/token/accessible-resources", method: .get, headers: Self.bearer(tokens["access_token"])
            ) { response in
                #expect(response.status == .ok)
                #expect(
                    response.text
                        == "[{\"id\":\"\(TestSite.cloudId)\",\"name\":\"Test site\",\"url\":\"\(TestSite.baseURL)\",\"scopes\":[\"read:jira-user\",\"write:jira-work\"],\"avatarUrl\":\"\(TestSite.baseURL)/images/site-avatar.png\"}]"
                )
            }
            try await client.execute(uri: "/oauth/token/accessible-resources", method: .get, headers: Self.bearer("x"))
            { #expect($0.text == "{\"code\":401,\"message\":\"Unauthorized\"}") }
            try await client.execute(uri: "/me", method: .get, headers: Self.bearer(tokens["access_token"])) {
                response in
                #expect(response.status == .unauthorized)
                #expect(response.text == "{\"code\":401,\"message\":\"Unauthorized; scope does not match\"}")
                #expect(response.headers[HTTPField.Name("x-failure-category")!] == "FAILURE_CLIENT_SCOPE_CHECK")
            }
            let withMe = try await Self.tokens(client, scope: "read:me")
            try await client.execute(uri: "/me", method: .get, headers: Self.bearer(withMe["access_token"])) {
                response in
                #expect(response.status == .ok)
                let json = try response.json()
                #expect(member(json, "account_id") == .string("557058:bob"))
                #expect(member(json, "email") == .string("bob@example.com"))
                #expect(member(json, "account_status") == .string("active"))
            }
        }
    }

    @Test("Consents widen; revoking one in the control API stops its tokens at once; a snapshot keeps secrets hashed")
    func consentsAndRevocation() async throws {
        try await TestSite.test { client in
            let tokens = try await Self.tokens(client, scope: "read:jira-user offline_access")
            _ = try await Self.tokens(client, scope: "read:me")
            try await client.execute(uri: "/_understudy/oauth/consents", method: .get, headers: .control) { response in
                #expect(
                    response.text
                        == "{\"consents\":[{\"clientId\":\"tour-client\",\"accountId\":\"557058:bob\",\"scopes\":[\"read:jira-user\",\"offline_access\",\"read:me\"]}]}"
                )
            }
            try await client.execute(uri: "/_understudy/snapshot", method: .get, headers: .control) { response in
                #expect(response.text.contains("\"clientSecretHash\":\"hmac-sha256:"))
                #expect(!response.text.contains("tour-client-secret"))
                #expect(response.text.contains("\"oauthConsents\":[{\"clientId\":\"tour-client\""))
                #expect(response.text.contains("\"site\":{\"cloudId\":\"\(TestSite.cloudId)\""))
            }
            try await client.execute(
                uri: "/_understudy/oauth/consents/tour-client/557058:bob", method: .delete, headers: .control
            ) { #expect($0.status == .noContent) }
            try await client.execute(
                uri: "\(TestSite.gateway)/rest/api/3/myself", method: .get, headers: Self.bearer(tokens["access_token"])
            ) { #expect($0.status == .unauthorized) }
            let refused = try await Self.refresh(client, try #require(tokens["refresh_token"]))
            expectInvalidGrant(refused, "Unknown or invalid refresh token.")
            try await client.execute(
                uri: "/_understudy/oauth/consents/tour-client/557058:bob", method: .delete, headers: .control
            ) { #expect($0.status == .notFound) }
        }
    }

    @Test("POST /_understudy/oauth/tokens mints what a consent would give; unknown apps, users and scopes are refused")
    func mintedTokens() async throws {
        try await TestSite.test { client in
            let mint = { (body: String) in
                try await client.execute(
                    uri: "/_understudy/oauth/tokens", method: .post, headers: .control, body: ByteBuffer(text: body))
            }
            let minted = try await mint(
                #"{"clientId": "tour-client", "accountId": "557058:bob", "scopes": ["read:jira-user"]}"#)
            #expect(minted.status == .created)
            let tokens = Self.strings(try minted.json())
            #expect(tokens["refresh_token"] == nil)
            #expect(tokens["scope"] == "read:jira-user")
            try await client.execute(
                uri: "\(TestSite.gateway)/rest/api/3/myself", method: .get, headers: Self.bearer(tokens["access_token"])
            ) { #expect($0.status == .ok) }
            for (body, reason) in [
                (#"{"clientId": "nobody", "accountId": "557058:bob", "scopes": []}"#, "client_id 'nobody'"),
                (#"{"clientId": "tour-client", "accountId": "557058:bob", "scopes": ["admin"]}"#, "The scope admin"),
                (#"{"clientId": "tour-client", "accountId": "557058:app-tour", "scopes": []}"#, "No active person"),
                (#"{"clientId": "tour-client", "accountId": "557058:dave", "scopes": []}"#, "No active person"),
            ] {
                let refused = try await mint(body)
                #expect(refused.status == .notFound, "\(body)")
                #expect(refused.errorMessage?.contains(reason) == true, "\(body)")
            }
            #expect(try await mint("[]").status == .badRequest)
        }
    }

    @Test("The control API registers an OAuth app and shows its secret once; reset forgets it")
    func registerAndReset() async throws {
        try await TestSite.test { client in
            let body =
                "{\"name\": \"CLI sync\", \"callbackUrls\": [\"http://localhost:9000/cb\"], \"scopes\": [\"read:jira-user\"]}"
            let created = try await client.execute(
                uri: "/_understudy/oauth/apps", method: .post, headers: .control, body: ByteBuffer(text: body))
            #expect(created.status == .created)
            let fields = Self.strings(try created.json())
            #expect(fields["clientSecret"]?.count == 64)
            let clientId = try #require(fields["clientId"])
            try await client.execute(uri: "/_understudy/oauth/apps", method: .get, headers: .control) { response in
                #expect(response.text.contains(clientId))
                #expect(!response.text.contains(fields["clientSecret"] ?? "-"))
            }
            let invalid = "{\"name\": \"x\", \"callbackUrls\": [\"ftp://nowhere\"], \"scopes\": []}"
            try await client.execute(
                uri: "/_understudy/oauth/apps", method: .post, headers: .control, body: ByteBuffer(text: invalid)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorMessage?.contains("callbackUrls[0]") == true)
            }
            try await client.execute(uri: "/_understudy/reset", method: .post, headers: .control) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/_understudy/oauth/apps", method: .get, headers: .control) {
                #expect(!$0.text.contains(clientId))
            }
        }
    }
}
