/// How a request names the user whose properties it addresses: `accountId`, or one of the
/// parameters Jira Cloud removed.
public struct AccountSelector: Sendable, Equatable {
    public var accountId: String?
    /// The name of a removed parameter (`username` or `userKey`) the request used, if any.
    public var removedParameter: String?

    public init(accountId: String?, removedParameter: String? = nil) {
        self.accountId = accountId
        self.removedParameter = removedParameter
    }

    /// Step 4 of spec 4.3: the accountId, or the `400` that says what is missing.
    func resolve() throws(UserPropertyError) -> String {
        guard let accountId else {
            if let removedParameter { throw .unsupportedParameter(removedParameter) }
            throw .accountIdMissing
        }
        guard accountId.count <= User.maximumAccountIdLength else { throw .accountIdTooLong(accountId.count) }
        return accountId
    }
}

/// A `PUT` body as the HTTP layer read it: whole, or cut off at the size limit.
public enum PropertyBody: Sendable, Equatable {
    case complete([UInt8])
    /// The body was longer than 32768 bytes; reading stopped there.
    case tooLong(reportedBytes: Int)
}

/// The answer to a key-list request, with what the explanation needs.
public struct UserPropertyKeyList: Sendable, Equatable {
    public var accountId: String
    public var keys: [String]
    /// How many admin-UI properties the user has, which this API never lists (spec 4.5).
    public var legacyPropertyCount: Int
}

/// The four user-property operations, with Jira's checks in Jira's order (spec 4.3, steps 4–9;
/// authentication, the scope gate and the method check happen before, at the HTTP edge).
public struct UserPropertyService: Sendable {
    public let store: any SiteStore

    public init(store: any SiteStore) { self.store = store }

    public func keys(caller: User, selector: AccountSelector) async throws -> UserPropertyKeyList {
        let owner = try await authorize(caller: caller, selector: selector, body: nil)
        let keys = try await store.userPropertyKeys(accountId: owner.accountId)
        return UserPropertyKeyList(
            accountId: owner.accountId, keys: keys, legacyPropertyCount: owner.legacyProperties.count)
    }

    public func value(caller: User, selector: AccountSelector, key: String) async throws -> PropertyValue {
        let owner = try await authorize(caller: caller, selector: selector, body: nil)
        guard PropertyLimits.isStorable(key: key),
            let value = try await store.userProperty(accountId: owner.accountId, key: key)
        else {
            throw UserPropertyError.propertyNotSet(key: key, accountId: owner.accountId)
        }
        return value
    }

    public func set(caller: User, selector: AccountSelector, key: String, body: PropertyBody) async throws
        -> WriteOutcome
    {
        let owner = try await authorize(caller: caller, selector: selector, body: body)
        guard case .complete(let bytes) = body else { preconditionFailure("refused by authorize") }
        let value: PropertyValue
        do {
            value = try PropertyValue(validating: bytes)
        } catch .empty {
            throw UserPropertyError.emptyValue
        } catch .invalidJSON(let problem) {
            throw UserPropertyError.invalidJSON(problem)
        }
        let length = PropertyLimits.javaLength(of: key)
        guard length <= PropertyLimits.maximumUserPropertyKeyLength else { throw UserPropertyError.keyTooLong(length) }
        guard PropertyLimits.isStorable(key: key) else { throw UserPropertyError.keyNotStorable }
        return try await store.setUserProperty(accountId: owner.accountId, key: key, value: value)
    }

    public func delete(caller: User, selector: AccountSelector, key: String) async throws {
        let owner = try await authorize(caller: caller, selector: selector, body: nil)
        guard PropertyLimits.isStorable(key: key),
            try await store.deleteUserProperty(accountId: owner.accountId, key: key)
        else {
            throw UserPropertyError.propertyNotSet(key: key, accountId: owner.accountId)
        }
    }

    /// Steps 4–7: which user, body size, the user exists, the caller may touch their properties.
    private func authorize(caller: User, selector: AccountSelector, body: PropertyBody?) async throws -> User {
        let accountId = try selector.resolve()
        if case .tooLong(let reportedBytes) = body {
            throw UserPropertyError.valueTooLong(reportedBytes: reportedBytes)
        }
        // Most callers address their own record, which authentication has just read.
        let found = accountId == caller.accountId ? caller : try await store.user(accountId: accountId)
        guard let owner = found else { throw UserPropertyError.unknownUser(accountId: accountId) }
        switch UserPropertyAccess.decide(caller: caller, ownerAccountId: owner.accountId) {
        case .allowed: return owner
        case .deniedWithoutJiraAccess: throw UserPropertyError.noJiraAccess(caller: caller.accountId)
        case .deniedNotAdministrator:
            throw UserPropertyError.notAdministrator(caller: caller.accountId, owner: owner.accountId)
        }
    }
}
