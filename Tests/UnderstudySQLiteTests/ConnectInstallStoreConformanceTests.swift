import Foundation
import Testing
import UnderstudyCore

/// The Connect-install side of every store (spec 13): an installation kept with its app, and the
/// site's signing keys kept apart from the site's data, the same whichever database holds them.
@Suite("Connect install store conformance")
struct ConnectInstallStoreConformanceTests {
    static let installation = ConnectInstallation(
        descriptorUrl: "http://127.0.0.1:3000/atlassian-connect.json", baseUrl: "http://127.0.0.1:3000/app",
        lifecycle: [.installed: "/installed", .uninstalled: "/uninstalled?from=jira"], signing: .signed,
        state: .installed, installedBy: "557058:ada")
    static let key = ConnectInstallKey(
        kid: "2f6c7b1e-0d4a-4f3e-9c8b-7a6d5e4f3a2b",
        publicKeyPEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        privateKeyPEM: "-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----",
        createdAt: Date(timeIntervalSince1970: 1_800_000_000))

    func withStore(_ kind: StoreKind, _ body: (any SiteStore) async throws -> Void) async throws {
        try await kind.withStore(loading: Fixture.site, body)
    }

    @Test("An installation is stored with its app and follows it through snapshots", arguments: StoreKind.available)
    func installationTravelsWithTheApp(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.connect.installedApps().isEmpty, "an app added by hand has no installation")
            var installed = Fixture.app
            installed.installation = Self.installation
            try await store.load(Site(apps: [installed]))
            #expect(try await store.app(key: installed.key) == installed)
            #expect(try await store.app(clientKey: installed.clientKey) == installed)
            #expect(try await store.connect.installedApps() == [installed])
            #expect(
                try await store.appProperty(appKey: installed.key, key: "settings") != nil,
                "recording an installation keeps the app's properties")

            var incomplete = installed
            incomplete.installation?.state = .incomplete(reason: "the app answered 500 to installed")
            incomplete.sharedSecret = "rotated-secret"
            try await store.load(Site(apps: [incomplete]))
            #expect(try await store.app(key: installed.key)?.installation?.state == incomplete.installation?.state)
            #expect(try await store.app(key: installed.key)?.unusableBecause?.contains("answered 500") == true)

            let snapshot = try await store.snapshot()
            #expect(snapshot.apps.first { $0.key == installed.key } == incomplete)
            try await store.replace(with: snapshot)
            #expect(try await store.app(key: installed.key) == incomplete, "a snapshot restores the installation")
        }
    }

    @Test("The first signing key is kept; later ones are refused in its favour", arguments: StoreKind.available)
    func firstKeyWins(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let connect = store.connect
            let none = try await connect.currentInstallKey()
            #expect(none == nil)
            let first = try await connect.addInstallKeyIfNone(Self.key)
            #expect(first == Self.key)
            var other = Self.key
            other.kid = "another-kid"
            let second = try await connect.addInstallKeyIfNone(other)
            #expect(second == Self.key, "the key that signs stays the first")
            let current = try await connect.currentInstallKey()
            #expect(current == Self.key)
            let byKid = try await connect.installKey(kid: Self.key.kid)
            #expect(byKid == Self.key)
            let refused = try await connect.installKey(kid: "another-kid")
            #expect(refused == nil)
        }
    }

    @Test("Servers starting at once on one database agree on one key", arguments: StoreKind.available)
    func concurrentFirstKeys(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let kids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    var key = Self.key
                    key.kid = "kid-\(index)"
                    group.addTask { try await store.connect.addInstallKeyIfNone(key).kid }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(kids.count == 1)
            let current = try await store.connect.currentInstallKey()
            #expect(current?.kid == kids.first)
        }
    }

    @Test(
        "Replacing or resetting the site keeps the keys, and no snapshot carries them", arguments: StoreKind.available)
    func keysStayWithTheDatabase(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.saveState()
            _ = try await store.connect.addInstallKeyIfNone(Self.key)
            try await store.replace(with: Site(users: [Fixture.ada]))
            try await store.restoreSavedState()
            let kept = try await store.connect.currentInstallKey()
            #expect(kept == Self.key)
            let file = SiteFileEncoder.encode(try await store.snapshot()).jsonText
            #expect(!file.contains("PRIVATE KEY"))
        }
    }
}
