import Testing
import UnderstudyCore

/// The order of checks of spec 4.3 (steps 4–9): when a request is wrong in several ways, the
/// developer sees the same error Jira would show first.
@Suite("User-property checks run in Jira's order")
struct UserPropertyServiceTests {
    static let admin = User(accountId: "admin", emailAddress: "a@x", displayName: "A", groups: ["site-admins"])
    static let member = User(
        accountId: "member", emailAddress: "m@x", displayName: "M", groups: ["jira-users"],
        legacyProperties: ["team": "blue"])
    static let outsider = User(accountId: "outsider", emailAddress: "o@x", displayName: "O", groups: [])

    func service() async throws -> UserPropertyService {
        let store = InMemorySiteStore()
        try await store.load(Site(users: [Self.admin, Self.member, Self.outsider]))
        return UserPropertyService(store: store)
    }

    @Test("accountId missing comes before a too-long body and an unknown user")
    func accountIdFirst() async throws {
        let service = try await service()
        await #expect(throws: UserPropertyError.accountIdMissing) {
            try await service.set(
                caller: Self.admin, selector: AccountSelector(accountId: nil), key: "k",
                body: .tooLong(reportedBytes: 40000))
        }
        await #expect(throws: UserPropertyError.unsupportedParameter("userKey")) {
            try await service.keys(
                caller: Self.admin, selector: AccountSelector(accountId: nil, removedParameter: "userKey"))
        }
        await #expect(throws: UserPropertyError.accountIdTooLong(129)) {
            try await service.keys(
                caller: Self.admin, selector: AccountSelector(accountId: String(repeating: "x", count: 129)))
        }
    }

    @Test("A too-long body comes before an unknown user; an unknown user before permission")
    func bodyThenUserThenPermission() async throws {
        let service = try await service()
        await #expect(throws: UserPropertyError.valueTooLong(reportedBytes: 40000)) {
            try await service.set(
                caller: Self.outsider, selector: AccountSelector(accountId: "ghost"), key: "k",
                body: .tooLong(reportedBytes: 40000))
        }
        await #expect(throws: UserPropertyError.unknownUser(accountId: "ghost")) {
            try await service.value(caller: Self.outsider, selector: AccountSelector(accountId: "ghost"), key: "k")
        }
        await #expect(throws: UserPropertyError.noJiraAccess(caller: "outsider")) {
            try await service.set(
                caller: Self.outsider, selector: AccountSelector(accountId: "outsider"), key: "k", body: .complete([]))
        }
        await #expect(throws: UserPropertyError.notAdministrator(caller: "member", owner: "admin")) {
            try await service.set(
                caller: Self.member, selector: AccountSelector(accountId: "admin"), key: "k", body: .complete([]))
        }
    }

    @Test("On PUT: empty body, then invalid JSON, then key length")
    func putValidationOrder() async throws {
        let service = try await service()
        let longKey = String(repeating: "k", count: 300)
        let selector = AccountSelector(accountId: "member")
        await #expect(throws: UserPropertyError.emptyValue) {
            try await service.set(
                caller: Self.member, selector: selector, key: longKey, body: .complete(Array("  ".utf8)))
        }
        await #expect(throws: UserPropertyError.self) {
            try await service.set(
                caller: Self.member, selector: selector, key: longKey, body: .complete(Array("{".utf8)))
        }
        await #expect(throws: UserPropertyError.keyTooLong(300)) {
            try await service.set(
                caller: Self.member, selector: selector, key: longKey, body: .complete(Array("1".utf8)))
        }
        // 255 UTF-16 code units is the limit: an emoji counts twice.
        let emojiKey = String(repeating: "😀", count: 128)
        await #expect(throws: UserPropertyError.keyTooLong(256)) {
            try await service.set(
                caller: Self.member, selector: selector, key: emojiKey, body: .complete(Array("1".utf8)))
        }
    }

    @Test("A property's life: created, updated, read, listed, deleted, gone")
    func lifecycle() async throws {
        let service = try await service()
        let selector = AccountSelector(accountId: "member", removedParameter: "username")
        #expect(
            try await service.set(caller: Self.member, selector: selector, key: "k", body: .complete(Array("1".utf8)))
                == .created)
        #expect(
            try await service.set(caller: Self.admin, selector: selector, key: "k", body: .complete(Array("[2]".utf8)))
                == .updated)
        #expect(try await service.value(caller: Self.member, selector: selector, key: "k").jsonText == "[2]")
        let list = try await service.keys(caller: Self.member, selector: selector)
        #expect(list.keys == ["k"] && list.legacyPropertyCount == 1)
        try await service.delete(caller: Self.member, selector: selector, key: "k")
        await #expect(throws: UserPropertyError.propertyNotSet(key: "k", accountId: "member")) {
            try await service.delete(caller: Self.member, selector: selector, key: "k")
        }
    }
}
