/// The global permissions that matter to the property APIs, derived from group membership
/// (spec 2.2).
public struct GlobalPermissions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// "Administer Jira": may read and write any user's properties.
    public static let administerJira = GlobalPermissions(rawValue: 1 << 0)
    /// Product access to Jira: may read and write the properties on one's own record.
    public static let accessJira = GlobalPermissions(rawValue: 1 << 1)

    /// Groups whose members administer Jira (and so also have access to it).
    public static let administratorGroups: Set<String> = [
        "site-admins", "jira-administrators", "atlassian-addons-admin",
    ]
    /// Groups that grant product access to Jira only.
    public static let productAccessGroups: Set<String> = [
        "jira-software-users", "jira-users", "jira-core-users", "jira-servicemanagement-users",
    ]

    public init<Groups: Sequence<String>>(groups: Groups) {
        var permissions: GlobalPermissions = []
        for group in groups {
            if Self.administratorGroups.contains(group) {
                permissions.formUnion([.administerJira, .accessJira])
            } else if Self.productAccessGroups.contains(group) {
                permissions.insert(.accessJira)
            }
        }
        self = permissions
    }
}

/// A Jira application role (product access) as `/myself?expand=applicationRoles` lists it.
public struct ApplicationRole: Sendable, Hashable {
    public let key: String
    public let name: String

    /// The application roles a set of groups grants, in a stable order.
    public static func granted<Groups: Sequence<String>>(byGroups groups: Groups) -> [ApplicationRole] {
        var roles: [ApplicationRole] = []
        func add(_ role: ApplicationRole) { if !roles.contains(role) { roles.append(role) } }
        for group in groups {
            switch group {
            case "site-admins", "jira-administrators", "atlassian-addons-admin", "jira-software-users",
                "jira-users":
                add(.jiraSoftware)
            case "jira-core-users": add(.jiraCore)
            case "jira-servicemanagement-users": add(.jiraServiceManagement)
            default: break
            }
        }
        return roles.sorted { $0.key < $1.key }
    }

    public static let jiraSoftware = ApplicationRole(key: "jira-software", name: "Jira Software")
    public static let jiraCore = ApplicationRole(key: "jira-core", name: "Jira Work Management")
    public static let jiraServiceManagement = ApplicationRole(
        key: "jira-servicedesk", name: "Jira Service Management")
}
