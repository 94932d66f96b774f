import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import UnderstudyCore

/// Spec 11.2: the Forge Container egress proxy, `{method} /jira/{path}`, with the caller named by
/// `forge-proxy-authorization`.
@Suite("Forge container egress")
struct ForgeEgressTests {
    static let installation = ForgeContractTests.reporterInstallation
    static let authorization = HTTPField.Name("forge-proxy-authorization")!

    static func egress(_ value: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[authorization] = value
        return headers
    }

    @Test("as=app acts as the app user; as=user as the person named, with the app's scopes")
    func actingAs() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/jira/rest/api/3/myself", method: .get,
                headers: Self.egress("Forge as=app,installationId=\(Self.installation)")
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[ForgeContractTests.accountIdHeader] == "557058:forge-reporter")
            }
            try await client.execute(
                uri: "/jira/rest/api/3/user/properties/tour.progress?accountId=557058:bob", method: .get,
                headers: Self.egress("Forge as=user, installationId=\(Self.installation), accountId=557058:bob")
            ) { response in
                #expect(response.status == .ok, "spaces after the commas are allowed")
                #expect(response.text == #"{"key":"tour.progress","value":{"step":2,"done":false}}"#)
            }
            try await client.execute(
                uri: "/jira/rest/api/3/user/properties/tour.progress?accountId=557058:bob", method: .get,
                headers: Self.egress("Forge as=app,installationId=\(Self.installation)")
            ) { #expect($0.status == .forbidden, "the app user does not administer Jira") }
            try await client.execute(
                uri: "/jira/rest/api/3/user/properties/seen?accountId=557058:forge-narrow", method: .put,
                headers: Self.egress(
                    "Forge as=app,installationId=ari:cloud:ecosystem::installation/aaaaaaaa-0000-4000-8000-000000000003"
                ),
                body: ByteBuffer(text: "true")
            ) { response in
                #expect(response.text == #"{"code":401,"message":"Unauthorized; scope does not match"}"#)
                #expect(response.headers[ForgeContractTests.forgeProxyError] == nil)
            }
            try await client.execute(uri: "/_understudy/requests?limit=3", method: .get, headers: .control) {
                #expect(
                    $0.text.contains(
                        #""caller":{"type":"forge","appId":"\#(ForgeContractTests.reporter)","accountId":"557058:bob"}"#
                    ))
            }
        }
    }

    @Test(
        "Missing, malformed and unknown callers are NEEDS_AUTHENTICATION_ERR, with the reason",
        arguments: [
            (nil, "the request has none"),
            ("Bearer abc", "must start with the scheme Forge"),
            ("Forge as=app", "has no installationId"),
            ("Forge as=app,id=invocation-1", "only Forge's own proxy can resolve"),
            ("Forge installationId=\(ForgeEgressTests.installation)", "needs as=app or as=user, not no as="),
            ("Forge as=robot,installationId=\(ForgeEgressTests.installation)", "not as=robot"),
            ("Forge as=user,installationId=\(ForgeEgressTests.installation)", "as=user needs accountId"),
            ("Forge as=app,as=user,installationId=\(ForgeEgressTests.installation)", "gives as twice"),
            ("Forge as=app,installationId", "where a name=value pair belongs"),
            ("Forge as=app,installationId=\(ForgeEgressTests.installation),=", "where a name=value pair belongs"),
            ("Forge =app", "where a name=value pair belongs"),
            ("Forge as=app,installationId=ari:cloud:ecosystem::installation/none", "No Forge app of this site"),
            (
                "Forge as=user,installationId=\(ForgeEgressTests.installation),accountId=557058:dave",
                "not an active person"
            ),
            (
                "Forge as=user,installationId=\(ForgeEgressTests.installation),accountId=557058:app-tour",
                "not an active person"
            ),
        ] as [(String?, String)])
    func refused(header: String?, reason: String) async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/jira/rest/api/3/myself", method: .get, headers: header.map(Self.egress) ?? [:]
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.text == #"{"code":401,"message":"Unauthorized"}"#)
                #expect(response.headers[ForgeContractTests.forgeProxyError] == "NEEDS_AUTHENTICATION_ERR")
                #expect(response.explanation?.contains(reason) == true, "\(response.explanation ?? "")")
            }
        }
    }

    @Test("Behind the egress the gateway's routes apply: exact paths, PUT not POST")
    func routes() async throws {
        try await TestSite.test { client in
            let asApp = Self.egress("Forge as=app,installationId=\(Self.installation)")
            for (uri, method) in [
                ("/jira/rest/api/3/myself/", HTTPRequest.Method.get),
                ("/jira/rest/api/3/user/properties/x?accountId=557058:forge-reporter", .post),
                ("/jira/rest/api/3/issue/ABC-1", .get),
            ] {
                try await client.execute(uri: uri, method: method, headers: asApp) {
                    #expect($0.text == #"{"code":401,"message":"Unauthorized; scope does not match"}"#, "\(uri)")
                }
            }
            try await client.execute(
                uri: "/jira/rest/atlassian-connect/1/addons/com.example.tour/properties", method: .get, headers: asApp
            ) { response in
                #expect(response.status == .ok)
                #expect(response.text == #"{"keys":[]}"#)
            }
        }
    }
}
