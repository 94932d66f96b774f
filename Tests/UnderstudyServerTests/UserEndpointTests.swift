import HTTPTypes
import HummingbirdTesting
import Testing
import UnderstudyCore

/// Spec 3: `/myself` and `/user`, with exactly the fields of Jira's `User`.
@Suite("Users")
struct UserEndpointTests {
    static let userFields = [
        "self", "accountId", "accountType", "emailAddress", "avatarUrls", "displayName", "active", "timeZone", "locale",
        "groups", "applicationRoles", "expand",
    ]

    @Test("/myself describes the caller; groups and roles have sizes but no items unless expanded")
    func myself() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/rest/api/2/myself", method: .get, headers: .ada) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == "557058:ada")
                let user = try response.json()
                #expect(memberNames(user) == Self.userFields)
                #expect(member(user, "self") == .string("\(TestSite.baseURL)/rest/api/2/user?accountId=557058:ada"))
                #expect(member(user, "accountType") == .string("atlassian"))
                #expect(member(user, "timeZone") == .string("Europe/London"))
                #expect(member(user, "locale") == .string("en_GB"))
                #expect(
                    member(user, "groups")
                        == .object([JSONMember("size", .number("2")), JSONMember("items", .array([]))]))
                #expect(
                    member(user, "applicationRoles")
                        == .object([JSONMember("size", .number("1")), JSONMember("items", .array([]))]))
                #expect(member(user, "expand") == .string("groups,applicationRoles"))
                guard let avatars = member(user, "avatarUrls") else { Issue.record("no avatarUrls"); return }
                #expect(Set(memberNames(avatars)) == ["48x48", "24x24", "16x16", "32x32"])
            }
        }
    }

    @Test("/myself?expand=groups,applicationRoles fills the items")
    func myselfExpanded() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/3/myself?expand=groups,applicationRoles", method: .get, headers: .ada
            ) {
                response in
                let user = try response.json()
                guard case .array(let groups)? = member(user, "groups").flatMap({ member($0, "items") }) else {
                    Issue.record("no group items")
                    return
                }
                #expect(groups.count == 2)
                #expect(memberNames(groups[0]) == ["name", "groupId", "self"])
                #expect(member(groups[0], "name") == .string("site-admins"))
                guard case .array(let roles)? = member(user, "applicationRoles").flatMap({ member($0, "items") }) else {
                    Issue.record("no role items")
                    return
                }
                #expect(roles.count == 1)
                #expect(member(roles[0], "key") == .string("jira-software"))
            }
        }
    }

    @Test("A user without Jira access can still call /myself")
    func myselfWithoutAccess() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/rest/api/3/myself", method: .get, headers: .cara) { response in
                #expect(response.status == .ok)
                let user = try response.json()
                #expect(
                    member(user, "applicationRoles")
                        == .object([JSONMember("size", .number("0")), JSONMember("items", .array([]))]))
            }
        }
    }

    @Test("/user?accountId= returns that user; the app user has no e-mail and accountType app")
    func user() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: "/rest/api/3/user?accountId=557058%3Abob", method: .get, headers: .cara) {
                response in
                #expect(response.status == .ok)
                let user = try response.json()
                #expect(member(user, "displayName") == .string("Bob"))
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == "557058:cara")
            }
            try await client.execute(uri: "/rest/api/3/user?accountId=557058:app-tour", method: .get, headers: .ada) {
                response in
                let user = try response.json()
                #expect(member(user, "accountType") == .string("app"))
                #expect(member(user, "emailAddress") == nil)
                #expect(member(user, "displayName") == .string("Product Tour"))
            }
        }
    }

    @Test(
        "/user refuses what Jira refuses",
        arguments: [
            ("/rest/api/3/user", HTTPResponse.Status.badRequest, "The accountId query parameter needs to be provided."),
            (
                "/rest/api/3/user?username=bob", .badRequest,
                "The query parameter 'username' is not supported in GDPR strict mode."
            ),
            (
                "/rest/api/3/user?key=bob", .badRequest,
                "The query parameter 'key' is not supported in GDPR strict mode."
            ),
            (
                "/rest/api/3/user?accountId=557058:nobody", .notFound,
                "The user with accountId '557058:nobody' does not exist."
            ),
        ])
    func userErrors(uri: String, status: HTTPResponse.Status, message: String) async throws {
        try await TestSite.test { client in
            try await client.execute(uri: uri, method: .get, headers: .ada) { response in
                #expect(response.status == status)
                #expect(response.errorMessage == message)
                #expect(response.explanation != nil)
            }
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
