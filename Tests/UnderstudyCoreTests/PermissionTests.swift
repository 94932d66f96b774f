import Testing
import UnderstudyCore

/// Spec 2.2 and 2.3 as tables: groups grant permissions, permissions decide property access.
@Suite("Global permissions and the user-property rule")
struct PermissionTests {
    @Test(
        "Groups grant global permissions",
        arguments: [
            (["site-admins"], GlobalPermissions([.administerJira, .accessJira])),
            (["jira-administrators"], [.administerJira, .accessJira]),
            (["atlassian-addons-admin"], [.administerJira, .accessJira]),
            (["jira-software-users"], [.accessJira]),
            (["jira-users"], [.accessJira]),
            (["jira-core-users"], [.accessJira]),
            (["jira-servicemanagement-users"], [.accessJira]),
            (["confluence-users"], []),
            ([], []),
            (["confluence-users", "jira-software-users"], [.accessJira]),
        ] as [([String], GlobalPermissions)])
    func groupsGrant(groups: [String], expected: GlobalPermissions) {
        #expect(GlobalPermissions(groups: groups) == expected)
    }

    static let admin = User(accountId: "admin", emailAddress: "a@x", displayName: "A", groups: ["site-admins"])
    static let member = User(accountId: "member", emailAddress: "m@x", displayName: "M", groups: ["jira-users"])
    static let outsider = User(
        accountId: "outsider", emailAddress: "o@x", displayName: "O", groups: ["confluence-users"])
    static let appUser = User(
        accountId: "app", accountType: .app, emailAddress: nil, displayName: "App", groups: ConnectApp.defaultGroups)
    static let bareAppUser = User(
        accountId: "bare-app", accountType: .app, emailAddress: nil, displayName: "App", groups: ["jira-software-users"]
    )

    @Test(
        "Who may use whose properties",
        arguments: [
            (admin, "admin", UserPropertyAccess.allowed),
            (admin, "member", .allowed),
            (member, "member", .allowed),
            (member, "admin", .deniedNotAdministrator),
            (outsider, "outsider", .deniedWithoutJiraAccess),
            (outsider, "member", .deniedWithoutJiraAccess),
            (appUser, "member", .allowed),
            (bareAppUser, "bare-app", .allowed),
            (bareAppUser, "member", .deniedNotAdministrator),
        ])
    func rule(caller: User, owner: String, expected: UserPropertyAccess) {
        #expect(UserPropertyAccess.decide(caller: caller, ownerAccountId: owner) == expected)
    }

    @Test("Connect scopes imply the lower ones")
    func scopes() {
        #expect(ConnectScope.admin.covers(.read))
        #expect(ConnectScope.delete.covers(.write))
        #expect(ConnectScope.write.covers(.read))
        #expect(!ConnectScope.write.covers(.delete))
        #expect(!ConnectScope.read.covers(.write))
        #expect(ConnectScope.projectAdmin.covers(.delete))
        #expect(!ConnectScope.projectAdmin.covers(.admin))
    }
}
