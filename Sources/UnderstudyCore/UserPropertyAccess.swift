/// The user-property permission rule (spec 2.3), a pure function of caller and owner.
public enum UserPropertyAccess: Sendable, Equatable {
    case allowed
    /// The caller has no access to Jira at all.
    case deniedWithoutJiraAccess
    /// The caller may use Jira but the property is on someone else's record.
    case deniedNotAdministrator

    /// Whether `caller` may read, write and delete the properties on the record of `ownerAccountId`.
    public static func decide(caller: User, ownerAccountId: String) -> UserPropertyAccess {
        let permissions = caller.permissions
        if permissions.contains(.administerJira) { return .allowed }
        guard permissions.contains(.accessJira) else { return .deniedWithoutJiraAccess }
        return caller.accountId == ownerAccountId ? .allowed : .deniedNotAdministrator
    }
}
