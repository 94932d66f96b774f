import Testing
import UnderstudyCore

/// A user is a value: copies share storage until one of them changes, and then only that one does.
@Suite("User as a value")
struct UserValueTests {
    static let bob = User(
        accountId: "557058:bob", emailAddress: "bob@example.com", displayName: "Bob",
        groups: ["jira-software-users"], apiTokenHashes: ["hash-1"], legacyProperties: ["team": "blue"])

    @Test("Changing a copy leaves the original as it was")
    func copiesAreIndependent() {
        var copy = Self.bob
        copy.displayName = "Robert"
        copy.apiTokenHashes.append("hash-2")
        copy.legacyProperties["team"] = "red"
        #expect(Self.bob.displayName == "Bob")
        #expect(Self.bob.apiTokenHashes == ["hash-1"])
        #expect(Self.bob.legacyProperties == ["team": "blue"])
        #expect(copy.displayName == "Robert" && copy.apiTokenHashes == ["hash-1", "hash-2"])
        #expect(copy != Self.bob)
    }

    @Test("Permissions follow the groups whenever they change")
    func permissionsFollowGroups() {
        var user = Self.bob
        #expect(user.permissions == [.accessJira])
        user.groups.append("site-admins")
        #expect(user.permissions == [.administerJira, .accessJira])
        user.groups = []
        #expect(user.permissions == [])
        #expect(Self.bob.permissions == [.accessJira])
    }

    @Test("Users built apart with the same fields are equal and hash alike")
    func equalityIsByValue() {
        let again = User(
            accountId: "557058:bob", emailAddress: "bob@example.com", displayName: "Bob",
            groups: ["jira-software-users"], apiTokenHashes: ["hash-1"], legacyProperties: ["team": "blue"])
        #expect(again == Self.bob)
        #expect(Set([again, Self.bob]).count == 1)
        var renamed = again
        renamed.accountId = "557058:rob"
        #expect(renamed != Self.bob)
    }
}
