import HTTPTypes
import HummingbirdTesting
import Testing
import UnderstudyCore

/// Spec 1 and 3: what every response carries, and the read-only endpoints.
@Suite("Conventions and read-only endpoints")
struct ConventionTests {
    @Test("GET /status answers RUNNING with Jira's exact content type, no credentials needed")
    func status() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"state\":\"RUNNING\"}")
                #expect(response.headers[.contentType] == "application/json;charset=UTF-8")
                #expect(response.headers[HTTPField.Name("X-AREQUESTID")!] != nil)
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == nil)
            }
        }
    }

    @Test("Every response has its own X-AREQUESTID")
    func requestIds() async throws {
        try await TestSite.test { client in
            var ids: Set<String> = []
            for _ in 0..<5 {
                try await client.execute(uri: "/status", method: .get) { response in
                    ids.insert(response.headers[HTTPField.Name("X-AREQUESTID")!] ?? "")
                }
            }
            #expect(ids.count == 5)
        }
    }

    @Test("serverInfo has exactly the fields of Jira's ServerInformation, in Jira's time format")
    func serverInfo() async throws {
        try await TestSite.test { client in
            for version in ["2", "3"] {
                try await client.execute(uri: "/rest/api/\(version)/serverInfo", method: .get) { response in
                    #expect(response.status == .ok)
                    let info = try response.json()
                    #expect(
                        Set(memberNames(info)) == [
                            "baseUrl", "displayUrl", "version", "versionNumbers", "deploymentType", "buildNumber",
                            "buildDate", "serverTime", "serverTimeZone", "scmInfo", "serverTitle",
                        ])
                    #expect(member(info, "baseUrl") == .string(TestSite.baseURL))
                    #expect(member(info, "deploymentType") == .string("Cloud"))
                    guard case .array(let numbers)? = member(info, "versionNumbers") else { Issue.record(); return }
                    #expect(numbers.count == 3)
                    guard case .string(let time)? = member(info, "serverTime") else { Issue.record(); return }
                    #expect(time.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000/) != nil, "\(time)")
                }
            }
        }
    }

    @Test("Bad credentials on an anonymous-capable endpoint: 200 as anonymous, with the Seraph header")
    func badCredentialsOnOptionalAuth() async throws {
        try await TestSite.test { client in
            for uri in ["/status", "/rest/api/3/serverInfo"] {
                try await client.execute(
                    uri: uri, method: .get, headers: .basic("ada@example.com", "wrong")
                ) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[HTTPField.Name("X-Seraph-LoginReason")!] == "AUTHENTICATED_FAILED")
                    #expect(response.headers[HTTPField.Name("X-AAccountId")!] == nil)
                }
            }
        }
    }

    @Test("An unknown path is 404 with an ErrorCollection whose both keys are present")
    func unknownPath() async throws {
        try await TestSite.test { client in
            for uri in ["/rest/api/3/issue/1", "/rest/api/4/myself", "/nothing", "/rest/api/3/myself/"] {
                try await client.execute(uri: uri, method: .get, headers: .ada) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    let body = try response.json()
                    #expect(memberNames(body) == ["errorMessages", "errors"])
                    #expect(member(body, "errors") == .object([]))
                    #expect(response.explanation != nil)
                }
            }
        }
    }

    @Test("An unsupported method is 405 with Allow, after authentication")
    func methodNotAllowed() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/rest/api/3/myself", method: .post, headers: .ada) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
                #expect(response.explanation?.contains("POST is not an operation of this resource") == true)
            }
            try await client.execute(uri: "/status", method: .init("TRACE")!) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
            }
            try await client.execute(
                uri: "/rest/api/3/user/properties?accountId=557058:ada", method: .put, headers: .ada
            ) {
                response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
                #expect(response.headers[.cacheControl] == "no-cache, no-store, no-transform")
            }
            try await client.execute(uri: "/rest/api/3/myself", method: .delete) { response in
                #expect(response.status == .unauthorized, "authentication is checked before the method")
            }
        }
    }

    @Test("A malformed query string is a 400 with an explanation, not a crash")
    func malformedQuery() async throws {
        try await TestSite.test { client in
            for uri in [
                "/rest/api/3/user?accountId=%zz", "/rest/api/3/user?accountId=%C3", "/rest/api/3/user?accountId=%",
            ] {
                try await client.execute(uri: uri, method: .get, headers: .ada) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(response.errorMessage != nil)
                    #expect(response.explanation?.contains("percent-escape") == true)
                }
            }
        }
    }

    @Test("Explanations are ASCII: other characters are percent-encoded UTF-8")
    func explanationEncoding() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/rest/api/3/user?accountId=j%C3%BCrgen", method: .get, headers: .ada) {
                response in
                #expect(response.status == .notFound)
                #expect(response.explanation?.contains("j%C3%BCrgen") == true)
                #expect(response.errorMessage == "The user with accountId 'jürgen' does not exist.")
            }
        }
    }

    @Test("--no-explain leaves the header out and the body unchanged")
    func noExplain() async throws {
        try await TestSite.test(explain: false) { client in
            try await client.execute(uri: "/rest/api/3/myself", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.explanation == nil)
                #expect(
                    response.errorMessage
                        == "You are not authenticated. Authentication required to perform this operation.")
            }
        }
    }

    @Test("A header section over 16 KiB is refused with 431 before authentication")
    func oversizedHeaders() async throws {
        try await TestSite.test { client in
            var headers = HTTPFields.ada
            headers[HTTPField.Name("X-Padding")!] = String(repeating: "p", count: 17000)
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: headers) { response in
                #expect(response.status.code == 431)
                #expect(response.errorMessage == "Request header fields too large.")
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == nil)
                #expect(response.explanation?.contains("at most 16384") == true)
            }
            var nearLimit = HTTPFields.ada
            nearLimit[HTTPField.Name("X-Padding")!] = String(repeating: "p", count: 15000)
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: nearLimit) { response in
                #expect(response.status == .ok)
            }
        }
    }
}

extension ConventionTests {
    @Test("The OpenAPI document is public JSON naming this site and every resource served")
    func openAPIDocument() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/_understudy/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                let document = try response.json()
                guard case .object(let members) = document,
                    case .array(let servers)? = members.first(where: { $0.name == "servers" })?.value,
                    case .object(let paths)? = members.first(where: { $0.name == "paths" })?.value
                else {
                    Issue.record("not an OpenAPI document: \(response.text.prefix(200))")
                    return
                }
                #expect(servers == [.object([JSONMember("url", .string(TestSite.baseURL))])])
                #expect(
                    paths.map(\.name) == [
                        "/status", "/rest/api/{version}/serverInfo", "/rest/api/{version}/myself",
                        "/rest/api/{version}/user", "/rest/api/{version}/user/properties",
                        "/rest/api/{version}/user/properties/{propertyKey}",
                        "/rest/atlassian-connect/1/addons/{addonKey}/properties",
                        "/rest/atlassian-connect/1/addons/{addonKey}/properties/{propertyKey}",
                        "/ex/jira/{cloudId}/rest/api/{version}/serverInfo",
                        "/ex/jira/{cloudId}/rest/api/{version}/myself",
                        "/ex/jira/{cloudId}/rest/api/{version}/user",
                        "/ex/jira/{cloudId}/rest/api/{version}/user/properties",
                        "/ex/jira/{cloudId}/rest/api/{version}/user/properties/{propertyKey}",
                        "/jira/rest/api/{version}/serverInfo", "/jira/rest/api/{version}/myself",
                        "/jira/rest/api/{version}/user", "/jira/rest/api/{version}/user/properties",
                        "/jira/rest/api/{version}/user/properties/{propertyKey}",
                        "/_edge/tenant_info", "/authorize", "/oauth/token", "/oauth/token/accessible-resources", "/me",
                    ])
            }
            try await client.execute(uri: "/_understudy/openapi.json", method: .put) {
                #expect($0.status == .methodNotAllowed)
            }
        }
    }
}
