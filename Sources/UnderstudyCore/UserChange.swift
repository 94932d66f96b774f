/// A change to a person of the site, as Jira's user webhooks report it (spec 14).
public struct UserChange: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case created = "user_created"
        case updated = "user_updated"
        case deleted = "user_deleted"
    }

    public let kind: Kind
    /// The person after the change (before it, for a deletion).
    public let user: User

    public init(kind: Kind, user: User) {
        self.kind = kind
        self.user = user
    }

    /// What changed from `before` to `after`, people only (app users are not reported), by
    /// accountId. An update is a change to what Jira shows of a person: name, e-mail, active,
    /// groups, time zone or locale — not to their API tokens.
    public static func between(_ before: [User], _ after: [User]) -> [UserChange] {
        let people = { (users: [User]) in
            Dictionary(
                users.filter { $0.accountType == .atlassian }.map { ($0.accountId, $0) },
                uniquingKeysWith: { first, _ in first })
        }
        let old = people(before)
        let new = people(after)
        var changes: [UserChange] = []
        for (accountId, user) in new {
            if let previous = old[accountId] {
                if previous.displayName != user.displayName || previous.emailAddress != user.emailAddress
                    || previous.active != user.active || previous.groups != user.groups
                    || previous.timeZone != user.timeZone || previous.locale != user.locale
                {
                    changes.append(UserChange(kind: .updated, user: user))
                }
            } else {
                changes.append(UserChange(kind: .created, user: user))
            }
        }
        for (accountId, user) in old where new[accountId] == nil {
            changes.append(UserChange(kind: .deleted, user: user))
        }
        return changes.sorted {
            ($0.user.accountId, $0.kind.rawValue) < ($1.user.accountId, $1.kind.rawValue)
        }
    }
}
