import Foundation
import Testing
import UnderstudyCore

/// The Forge side of every store (spec 11.1): apps with the app users that follow from their
/// scopes, and minted tokens, the same whichever database holds them.
@Suite("Forge store conformance")
struct ForgeStoreConformanceTests {
    static let reporter = ForgeApp(
        appId: "ari:cloud:ecosystem::app/0c8e5d0a-1b2c-4d3e-8f4a-5b6c7d8e9f01", name: "Tour Reporter",
        scopes: ["read:jira-user", "write:jira-work"], resources: [ForgeResource(key: "main", path: "/srv/tour-ui")],
        modules: [ForgeModule(key: "tour-page", resource: "main", title: "Tour")])
    static let admin = ForgeApp(
        appId: "ari:cloud:ecosystem::app/7f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", name: "Tour Admin",
        scopes: ["read:jira-user", "manage:jira-configuration"],
        installationId: "ari:cloud:ecosystem::installation/11111111-2222-4333-8444-555555555555",
        connectKey: "tour-connect", accountId: "557058:tour-admin")
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    func withStore(_ kind: StoreKind, _ body: (any SiteStore) async throws -> Void) async throws {
        try await kind.withStore(loading: Site(users: Fixture.site.users, forgeApps: [Self.reporter]), body)
    }

    @Test("A loaded Forge app reads back by appId and installation, with its app user", arguments: StoreKind.available)
    func loadedApp(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(
                try await store.forge.forgeApp(appId: Self.reporter.appId) == Self.reporter,
                "with its Custom UI resources and modules (spec 17)")
            #expect(
                try await store.forge.forgeApp(installationId: Self.reporter.installationId) == Self.reporter,
                "the installation id is derived from the app id when the file gives none")
            #expect(
                Self.reporter.installationId == "ari:cloud:ecosystem::installation/0c8e5d0a-1b2c-4d3e-8f4a-5b6c7d8e9f01"
            )
            let appUser = try #require(try await store.user(accountId: Self.reporter.accountId))
            #expect(appUser.accountType == .app)
            #expect(appUser.displayName == "Tour Reporter")
            #expect(appUser.groups == ["jira-software-users"], "without manage:jira-configuration: product access only")
            #expect(try await store.forge.forgeApp(appId: "ari:cloud:ecosystem::app/none") == nil)
        }
    }

    @Test("Adding an app creates its app user; duplicates are refused", arguments: StoreKind.available)
    func addApp(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.forge.addForgeApp(Self.admin)
            let appUser = try #require(try await store.user(accountId: "557058:tour-admin"))
            #expect(appUser.permissions.contains(.administerJira), "manage:jira-configuration makes it an admin")
            #expect(try await store.forge.forgeApps() == [Self.reporter, Self.admin].sorted { $0.appId < $1.appId })
            await #expect(throws: SiteStoreError.duplicateAppId(Self.admin.appId)) {
                try await store.forge.addForgeApp(Self.admin)
            }
            var sameInstallation = Self.admin
            sameInstallation.appId = "ari:cloud:ecosystem::app/another"
            sameInstallation.accountId = "557058:another"
            await #expect(throws: SiteStoreError.duplicateInstallationId(Self.admin.installationId)) {
                try await store.forge.addForgeApp(sameInstallation)
            }
            var takenAccount = Self.admin
            takenAccount.appId = "ari:cloud:ecosystem::app/third"
            takenAccount.installationId = "ari:cloud:ecosystem::installation/third"
            takenAccount.accountId = Fixture.bob.accountId
            await #expect(throws: SiteStoreError.duplicateAccountId(Fixture.bob.accountId)) {
                try await store.forge.addForgeApp(takenAccount)
            }
            #expect(try await store.forge.forgeApps().count == 2, "a refused add changes nothing")
            #expect(try await store.user(accountId: "557058:another") == nil)
        }
    }

    @Test(
        "Eight adds of one app at once: exactly one installs it, the others are told it exists",
        arguments: StoreKind.available)
    func concurrentAdds(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let outcomes = await withTaskGroup(of: Result<Void, any Error>.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            try await store.forge.addForgeApp(Self.admin)
                            return .success(())
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let installed = outcomes.filter { if case .success = $0 { true } else { false } }
            #expect(installed.count == 1)
            for case .failure(let error) in outcomes {
                #expect(
                    [SiteStoreError.duplicateAppId(Self.admin.appId), .duplicateAccountId(Self.admin.accountId)]
                        .contains(
                            error as? SiteStoreError), "\(error)")
            }
            let stored = try await store.forge.forgeApp(appId: Self.admin.appId)
            #expect(stored == Self.admin)
        }
    }

    @Test("A site file cannot give a Forge app a person's accountId", arguments: StoreKind.available)
    func personAccountId(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var app = Self.admin
            app.accountId = Fixture.bob.accountId
            await #expect(throws: SiteStoreError.duplicateAccountId(Fixture.bob.accountId)) {
                try await store.load(Site(forgeApps: [app]))
            }
            let loaded = try await store.forge.forgeApp(appId: Self.admin.appId)
            #expect(loaded == nil, "nothing of the file was loaded")
        }
    }

    @Test(
        "Tokens are kept by hash, for a known app and user only, and purged a day after expiry",
        arguments: StoreKind.available)
    func tokens(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let system = ForgeToken(
                tokenHash: "h-system", appId: Self.reporter.appId, accountId: Self.reporter.accountId,
                expiresAt: Self.start.addingTimeInterval(ForgeToken.lifetime))
            let user = ForgeToken(
                tokenHash: "h-user", appId: Self.reporter.appId, accountId: Fixture.bob.accountId,
                expiresAt: Self.start.addingTimeInterval(60))
            try await store.forge.recordForgeToken(system)
            try await store.forge.recordForgeToken(user)
            #expect(try await store.forge.forgeToken(hash: "h-system") == system)
            #expect(try await store.forge.forgeToken(hash: "h-user") == user)
            #expect(try await store.forge.forgeToken(hash: "h-none") == nil)
            await #expect(throws: SiteStoreError.unknownAppId("ari:cloud:ecosystem::app/none")) {
                try await store.forge.recordForgeToken(
                    ForgeToken(
                        tokenHash: "h-2", appId: "ari:cloud:ecosystem::app/none", accountId: Fixture.bob.accountId,
                        expiresAt: Self.start))
            }
            await #expect(throws: SiteStoreError.unknownAccountId("ghost")) {
                try await store.forge.recordForgeToken(
                    ForgeToken(tokenHash: "h-3", appId: Self.reporter.appId, accountId: "ghost", expiresAt: Self.start))
            }
            let aDayLater = Self.start.addingTimeInterval(60 + OAuthTokenRules.retention + 1)
            #expect(try await store.forge.purgeExpiredForgeTokens(now: aDayLater) == 1)
            #expect(try await store.forge.forgeToken(hash: "h-user") == nil)
            #expect(try await store.forge.forgeToken(hash: "h-system") == system)
        }
    }

    @Test("Snapshots carry Forge apps; reset puts back apps and tokens as saved", arguments: StoreKind.available)
    func snapshotAndReset(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.saveState()
            try await store.forge.addForgeApp(Self.admin)
            let snapshot = try await store.snapshot()
            #expect(snapshot.forgeApps == [Self.reporter, Self.admin].sorted { $0.appId < $1.appId })
            #expect(snapshot.appUsers.map(\.accountId).contains("557058:tour-admin"))
            try await store.forge.recordForgeToken(
                ForgeToken(
                    tokenHash: "h-admin", appId: Self.admin.appId, accountId: Self.admin.accountId,
                    expiresAt: Self.start))

            try await store.restoreSavedState()
            #expect(try await store.forge.forgeApps() == [Self.reporter])
            #expect(try await store.user(accountId: "557058:tour-admin") == nil)
            #expect(try await store.forge.forgeToken(hash: "h-admin") == nil)

            try await store.replace(with: snapshot)
            #expect(try await store.forge.forgeApp(installationId: Self.admin.installationId) == Self.admin)
            #expect(
                try await store.user(accountId: "557058:tour-admin")?.groups.contains("atlassian-addons-admin") == true)
        }
    }
}
