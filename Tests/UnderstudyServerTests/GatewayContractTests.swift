import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import UnderstudyCore

/// Spec 8, 8.1, 8.2: the API gateway, `/ex/jira/{cloudId}/…`, with scoped API tokens (OAuth 2.0
/// tokens have their own stories in `OAuthFlowTests`). Which credential goes where, the gateway's
/// checks in order, and Jira's rules behind it.
@Suite("API gateway")
struct GatewayContractTests {
    static let failureCategory = HTTPField.Name("x-failure-category")!
    static let myself = "\(TestSite.gateway)/rest/api/3/myself"

    static let adaRead = HTTPFields.basic("ada@example.com", "ada-read-token")
    static let adaGranular = HTTPFields.basic("ada@example.com", "ada-granular-token")
    static let bobWrite = HTTPFields.basic("bob@example.com", "bob-write-token")

    func expectUnauthorized(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
        #expect(response.text == "{\"code\":401,\"message\":\"Unauthorized\"}", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json;charset=UTF-8", sourceLocation: sourceLocation)
        #expect(response.headers[Self.failureCategory] == nil, sourceLocation: sourceLocation)
    }

    func expectScopeMismatch(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
        #expect(
            response.text == "{\"code\":401,\"message\":\"Unauthorized; scope does not match\"}",
            sourceLocation: sourceLocation)
        #expect(response.headers[Self.failureCategory] == "FAILURE_CLIENT_SCOPE_CHECK", sourceLocation: sourceLocation)
    }

    @Test("GET /_edge/tenant_info tells the cloudId without authentication")
    func tenantInfo() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/_edge/tenant_info", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"cloudId\":\"\(TestSite.cloudId)\"}")
            }
        }
    }

    @Test("A scoped API token reads /myself through the gateway; self links carry the gateway prefix")
    func scopedTokenThroughGateway() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: Self.myself, method: .get, headers: Self.adaRead) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == "557058:ada")
                let json = try response.json()
                #expect(
                    member(json, "self")
                        == .string("\(TestSite.baseURL)\(TestSite.gateway)/rest/api/3/user?accountId=557058:ada"))
            }
            let keys = "\(TestSite.gateway)/rest/api/2/user/properties?accountId=557058:bob"
            try await client.execute(uri: keys, method: .get, headers: Self.bobWrite) { response in
                #expect(response.status == .ok)
                #expect(
                    response.text.contains(
                        "\"self\":\"\(TestSite.baseURL)\(TestSite.gateway)/rest/api/2/user/properties/tour.progress?accountId=557058:bob\""
                    ))
            }
        }
    }

    @Test("The site URL refuses a scoped API token as failed authentication, naming the gateway")
    func scopedTokenOnSiteURL() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: Self.adaRead) { response in
                #expect(response.status == .unauthorized)
                #expect(response.errorMessage == AuthenticationTests.notAuthenticated)
                #expect(response.headers[HTTPField.Name("X-Seraph-LoginReason")!] == "AUTHENTICATED_FAILED")
                #expect(
                    response.explanation
                        == "Scoped API tokens are accepted only through the API gateway: call \(TestSite.baseURL)\(TestSite.gateway)/rest/api/3/myself."
                )
            }
        }
    }

    @Test("A Bearer token on the site URL is failed authentication; serverInfo answers as anonymous")
    func bearerOnSiteURL() async throws {
        try await TestSite.test { client in
            let bearer: HTTPFields = [.authorization: "Bearer some-access-token"]
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: bearer) { response in
                #expect(response.status == .unauthorized)
                #expect(response.errorMessage == AuthenticationTests.notAuthenticated)
                #expect(
                    response.explanation
                        == "OAuth 2.0 access tokens (Authorization: Bearer) are accepted only through the API gateway: call \(TestSite.baseURL)\(TestSite.gateway)/rest/api/3/myself."
                )
            }
            try await client.execute(uri: "/rest/api/2/serverInfo", method: .get, headers: bearer) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-Seraph-LoginReason")!] == "AUTHENTICATED_FAILED")
                #expect(response.explanation?.contains("/ex/jira/") == true)
            }
        }
    }

    @Test("The gateway refuses classic API tokens, Connect JWTs and no credentials with its own 401")
    func siteCredentialsThroughGateway() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: Self.myself, method: .get, headers: .ada) { response in
                expectUnauthorized(response)
                #expect(response.explanation?.contains("classic API token") == true)
                #expect(response.explanation?.contains("\(TestSite.baseURL)/rest/api/3/myself") == true)
            }
            let jwt = HTTPFields.jwt("com.example.tour", .get, "/rest/api/3/myself")
            try await client.execute(uri: Self.myself, method: .get, headers: jwt) { response in
                expectUnauthorized(response)
                #expect(response.explanation?.contains("Connect JWTs are accepted only on the site URL") == true)
            }
            try await client.execute(uri: Self.myself, method: .get) { response in
                expectUnauthorized(response)
                #expect(response.explanation?.hasPrefix("The request has no credentials") == true)
            }
            let signed = TestSite.token("com.example.tour", .get, "/rest/api/3/myself")
            try await client.execute(uri: Self.myself + "?jwt=\(signed)", method: .get) { response in
                expectUnauthorized(response)
                #expect(response.explanation?.contains("jwt query parameter") == true)
                #expect(response.explanation?.contains("\(TestSite.baseURL)/rest/api/3/myself?jwt=") == true)
            }
            try await client.execute(
                uri: Self.myself, method: .get, headers: .basic("ada@example.com", "not-a-token")
            ) { expectUnauthorized($0) }
        }
    }

    @Test("Another site's cloudId is a scope mismatch whose explanation gives the right one")
    func wrongCloudId() async throws {
        try await TestSite.test { client in
            let uri = "/ex/jira/11111111-2222-3333-4444-555555555555/rest/api/3/myself"
            try await client.execute(uri: uri, method: .get, headers: Self.adaRead) { response in
                expectScopeMismatch(response)
                #expect(response.explanation?.contains("this site's cloudId is \(TestSite.cloudId)") == true)
            }
        }
    }

    @Test("A trailing slash, POST on a property and an unknown path are scope mismatches, each explained")
    func unknownRoutes() async throws {
        try await TestSite.test { client in
            let slash = "\(TestSite.gateway)/rest/api/3/user/properties/?accountId=557058:bob"
            try await client.execute(uri: slash, method: .get, headers: Self.bobWrite) { response in
                expectScopeMismatch(response)
                #expect(response.explanation?.contains("remove the trailing slash") == true)
            }
            let property = "\(TestSite.gateway)/rest/api/3/user/properties/tour?accountId=557058:bob"
            try await client.execute(
                uri: property, method: .post, headers: Self.bobWrite, body: ByteBuffer(text: "{}")
            ) { response in
                expectScopeMismatch(response)
                #expect(response.explanation?.contains("use PUT") == true)
            }
            try await client.execute(
                uri: "\(TestSite.gateway)/rest/api/3/issue/ABC-1", method: .get, headers: Self.bobWrite
            ) { response in
                expectScopeMismatch(response)
                #expect(response.explanation?.contains("knows no route GET /rest/api/3/issue/ABC-1") == true)
            }
        }
    }

    @Test("A token without the operation's scopes: the explanation names every satisfying set and the scopes held")
    func missingScope() async throws {
        try await TestSite.test { client in
            let property = "\(TestSite.gateway)/rest/api/3/user/properties/tour?accountId=557058:ada"
            try await client.execute(
                uri: property, method: .put, headers: Self.adaRead, body: ByteBuffer(text: "{}")
            ) { response in
                expectScopeMismatch(response)
                #expect(
                    response.explanation
                        == "PUT /rest/api/3/user/properties/{propertyKey} needs write:jira-work (classic) or write:user.property:jira (granular); the token has read:jira-user."
                )
            }
        }
    }

    @Test("Granular scopes work for their operations; the classic one is still missing for /myself")
    func granularScopes() async throws {
        try await TestSite.test { client in
            let property = "\(TestSite.gateway)/rest/api/3/user/properties/tour?accountId=557058:ada"
            try await client.execute(
                uri: property, method: .put, headers: Self.adaGranular, body: ByteBuffer(text: "{\"step\":1}")
            ) { #expect($0.status == .created) }
            try await client.execute(uri: property, method: .get, headers: Self.adaGranular) { response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"key\":\"tour\",\"value\":{\"step\":1}}")
            }
            try await client.execute(uri: property, method: .delete, headers: Self.adaGranular) { response in
                expectScopeMismatch(response)
                #expect(response.explanation?.contains("delete:user.property:jira (granular)") == true)
            }
            try await client.execute(uri: Self.myself, method: .get, headers: Self.adaGranular) { response in
                expectScopeMismatch(response)
                #expect(
                    response.explanation
                        == "GET /rest/api/3/myself needs read:jira-user (classic) or read:application-role:jira + read:group:jira + read:user:jira + read:avatar:jira (granular); the token has read:user.property:jira, write:user.property:jira."
                )
            }
        }
    }

    @Test("Scopes never override Jira's permissions: past the gateway, Jira answers in its own shape")
    func permissionsStillApply() async throws {
        try await TestSite.test { client in
            let adaProperty = "\(TestSite.gateway)/rest/api/3/user/properties/tour?accountId=557058:ada"
            try await client.execute(
                uri: adaProperty, method: .put, headers: Self.bobWrite, body: ByteBuffer(text: "{}")
            ) { response in
                #expect(response.status == .forbidden)
                #expect(response.errorMessage == "You do not have permission to access the properties of this user.")
                #expect(response.headers[Self.failureCategory] == nil)
                #expect(response.headers[.cacheControl] == "no-cache, no-store, no-transform")
            }
            let missing = "\(TestSite.gateway)/rest/api/3/user/properties/nothing?accountId=557058:bob"
            try await client.execute(uri: missing, method: .get, headers: Self.bobWrite) { response in
                #expect(response.status == .notFound)
                #expect(response.errorMessage == "The property with key 'nothing' does not exist.")
            }
        }
    }

    @Test("serverInfo needs no scope; Connect app properties refuse every gateway caller as not an app")
    func scopelessOperations() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "\(TestSite.gateway)/rest/api/3/serverInfo", method: .get, headers: Self.adaGranular
            ) { response in
                #expect(response.status == .ok)
                let info = try response.json()
                #expect(member(info, "baseUrl") == .string(TestSite.baseURL))
            }
            let appProperty = "\(TestSite.gateway)/rest/atlassian-connect/1/addons/com.example.tour/properties/settings"
            try await client.execute(uri: appProperty, method: .get, headers: Self.adaRead) { response in
                #expect(response.status == .unauthorized)
                #expect(
                    response.text
                        == "{\"message\":\"Access to this resource must be authenticated as an app.\",\"statusCode\":401}"
                )
            }
        }
    }
}
