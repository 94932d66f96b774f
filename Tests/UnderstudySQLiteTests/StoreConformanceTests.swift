import Foundation
import Logging
import PostgresNIO
import Testing
import UnderstudyCore
import UnderstudyPostgres
import UnderstudySQLite

/// The stores a site can live in. Every test of the conformance suite runs against each.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite
    /// SQLite behind the in-memory read cache, as `serve` runs it.
    case cachedSQLite
    /// A fresh database on the PostgreSQL server named by `UNDERSTUDY_TEST_POSTGRES_URL`; `.ci/run`
    /// always starts one and sets it, so nothing is skipped in CI.
    case postgres
    /// PostgreSQL behind the cache that `serve` puts in front of it: users and apps from memory,
    /// forgotten on every NOTIFY; user properties always from the database.
    case cachedPostgres

    var testDescription: String { rawValue }

    /// Every kind, PostgreSQL only when a server is configured.
    static var available: [StoreKind] {
        allCases.filter { ($0 != .postgres && $0 != .cachedPostgres) || TestPostgres.url != nil }
    }

    /// Runs `body` on a fresh store holding `site` (nothing when it is nil), and disposes of the
    /// store however `body` ends.
    func withStore(loading site: Site? = nil, _ body: (any SiteStore) async throws -> Void) async throws {
        let (store, cleanUp) = try await make()
        do {
            if let site { try await store.load(site) }
            try await body(store)
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    /// A fresh, empty store, and a way to dispose of it.
    func make() async throws -> (store: any SiteStore, cleanUp: @Sendable () async -> Void) {
        switch self {
        case .memory:
            return (InMemorySiteStore(), {})
        case .sqlite, .cachedSQLite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "understudy-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = try await SQLiteSiteStore.open(path: directory.appendingPathComponent("site.sqlite").path)
            let store: any SiteStore = self == .cachedSQLite ? try await CachingSiteStore(backing: file) : file
            return (
                store,
                {
                    try? await store.close()
                    try? FileManager.default.removeItem(at: directory)
                }
            )
        case .postgres, .cachedPostgres:
            let (url, dropDatabase) = try await TestPostgres.freshDatabase()
            let store: any SiteStore
            do {
                let postgres = try await PostgresSiteStore.open(url: url)
                store = self == .postgres ? postgres : try await TestPostgres.cached(postgres)
            } catch {
                await dropDatabase()
                throw error
            }
            return (
                store,
                {
                    try? await store.close()
                    await dropDatabase()
                }
            )
        }
    }
}

/// The test PostgreSQL server, on which each test gets a database of its own.
enum TestPostgres {
    /// `postgres` behind a cache told of changes as `serve` sets it up; returns once it listens.
    static func cached(_ postgres: PostgresSiteStore) async throws -> CachingSiteStore {
        let cache = try await postgres.servingCache()
        for _ in 0..<500 where !cache.servesFromMemory { try await Task.sleep(for: .milliseconds(10)) }
        return cache
    }

    static var url: String? { ProcessInfo.processInfo.environment["UNDERSTUDY_TEST_POSTGRES_URL"] }

    /// How many test databases exist at once. Each store opens up to 16 connections (and a cached
    /// one a listening connection); unbounded, the suites would exhaust a server's default
    /// `max_connections` of 100 on a machine with many cores, where more tests run at once.
    static let databases = Slots(4)

    /// Creates an empty database next to the one in the URL; returns its URL and how to drop it.
    /// Waits while `databases` are all taken; dropping frees the slot, so call `drop` however the
    /// test ends.
    static func freshDatabase() async throws -> (url: String, drop: @Sendable () async -> Void) {
        guard let url, let components = URLComponents(string: url) else { throw CancellationError() }
        await databases.take()
        let name = "understudy_test_" + UUID().uuidString.prefix(8).lowercased()
        @Sendable func drop() async {
            _ = try? await administer(url, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            await databases.give()
        }
        do {
            _ = try await administer(url, "CREATE DATABASE \(name)")
        } catch {
            await databases.give()
            throw error
        }
        var fresh = components
        fresh.path = "/" + name
        return (fresh.string ?? url, drop)
    }

    /// A postgres-nio connection of its own to the database of `url`.
    static func connect(_ url: String, logger: Logger) async throws -> PostgresConnection {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user
        else { throw CancellationError() }
        let configuration = PostgresConnection.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: String(components.path.dropFirst()), tls: .disable)
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }

    /// Runs one statement on its own connection to the database of `url`; the first column of its
    /// first row, if it is an integer.
    @discardableResult
    static func administer(_ url: String, _ sql: String) async throws -> Int? {
        let logger = Logger(label: "test.postgres")
        let connection = try await connect(url, logger: logger)
        defer { Task { try? await connection.close() } }
        var first: Int?
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
            first = first ?? (try? row.decode(Int.self))
        }
        return first
    }
}

/// A counting semaphore: `take()` waits while all are taken, `give()` hands one to the longest waiter.
actor Slots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func take() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func give() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// A small site used across the suite.
enum Fixture {
    static let ada = User(
        accountId: "557058:ada", emailAddress: "ada@example.com", displayName: "Ada", groups: ["site-admins"],
        apiTokenHashes: ["h1"], legacyProperties: ["slackhandle": "@ada"])
    static let bob = User(
        accountId: "557058:bob", emailAddress: "bob@example.com", displayName: "Bob", groups: ["jira-users"])
    static let app = ConnectApp(
        key: "com.example.tour", name: "Tour", clientKey: "jira:1", sharedSecret: "secret", scopes: [.read, .write],
        accountId: "557058:app")
    static let appUser = User(
        accountId: "557058:app", accountType: .app, emailAddress: nil, displayName: "Tour",
        groups: ConnectApp.defaultGroups)
    static let site = Site(
        users: [ada, bob], apps: [app], appUsers: [appUser],
        userProperties: [
            UserPropertyRecord(
                accountId: bob.accountId, key: "tour", value: PropertyValue(storedJSONText: "{\"step\":1}"))
        ],
        appProperties: [
            AppPropertyRecord(appKey: app.key, key: "settings", value: PropertyValue(storedJSONText: "true"))
        ])
}

@Suite("Store conformance")
struct StoreConformanceTests {
    func withStore(_ kind: StoreKind, _ body: (any SiteStore) async throws -> Void) async throws {
        try await kind.withStore(body)
    }

    @Test("A new store is empty; a loaded site reads back exactly", arguments: StoreKind.available)
    func loadAndRead(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.isEmpty())
            try await store.load(Fixture.site)
            #expect(try await !store.isEmpty())
            #expect(try await store.user(accountId: "557058:ada") == Fixture.ada)
            #expect(try await store.user(emailAddress: "ADA@example.com") == Fixture.ada, "e-mail ignores case")
            #expect(try await store.user(accountId: "557058:app") == Fixture.appUser)
            #expect(try await store.app(key: "com.example.tour") == Fixture.app)
            #expect(try await store.app(clientKey: "jira:1") == Fixture.app)
            #expect(try await store.app(key: "jira:1") == nil)
            #expect(try await store.userProperty(accountId: "557058:bob", key: "tour")?.jsonText == "{\"step\":1}")
            #expect(try await store.appProperty(appKey: "com.example.tour", key: "settings")?.jsonText == "true")
        }
    }

    @Test("Looking up a name with U+0000 in it finds nothing, on every store", arguments: StoreKind.available)
    func lookupsWithNUL(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            #expect(try await store.user(accountId: "557058:ada\u{0}") == nil)
            #expect(try await store.user(emailAddress: "ada@example.com\u{0}") == nil)
            #expect(try await store.app(key: "com.example.tour\u{0}") == nil)
            #expect(try await store.app(clientKey: "jira:1\u{0}x") == nil)
            #expect(try await store.user(accountId: "557058:ada") == Fixture.ada)
        }
    }

    @Test("Loading twice is idempotent and keeps tokens added in between", arguments: StoreKind.available)
    func idempotentLoad(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            _ = try await store.addAPITokenHash("h2", emailAddress: "ada@example.com")
            try await store.load(Fixture.site)
            #expect(try await store.user(accountId: "557058:ada")?.apiTokenHashes == ["h1", "h2"])
            #expect(try await store.userPropertyKeys(accountId: "557058:bob") == ["tour"])
        }
    }

    @Test("PUT semantics: created, then updated; the value is replaced verbatim", arguments: StoreKind.available)
    func setProperty(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            let first = PropertyValue(storedJSONText: " {\"a\" : [1, 2]} ")
            #expect(try await store.setUserProperty(accountId: "557058:ada", key: "k", value: first) == .created)
            #expect(try await store.userProperty(accountId: "557058:ada", key: "k") == first)
            let second = PropertyValue(storedJSONText: "\"é😀\"")
            #expect(try await store.setUserProperty(accountId: "557058:ada", key: "k", value: second) == .updated)
            #expect(try await store.userProperty(accountId: "557058:ada", key: "k") == second)
            #expect(try await store.deleteUserProperty(accountId: "557058:ada", key: "k"))
            #expect(try await !store.deleteUserProperty(accountId: "557058:ada", key: "k"))
            #expect(try await store.setUserProperty(accountId: "557058:ada", key: "k", value: first) == .created)
        }
    }

    @Test("All of a user's properties at once", arguments: StoreKind.available)
    func allProperties(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            _ = try await store.setUserProperty(
                accountId: "557058:bob", key: "b", value: PropertyValue(storedJSONText: "2"))
            let all = try await store.userProperties(accountId: "557058:bob", atMost: 2)
            #expect(
                all == ["tour": PropertyValue(storedJSONText: "{\"step\":1}"), "b": PropertyValue(storedJSONText: "2")])
            #expect(try await store.userProperties(accountId: "557058:bob", atMost: 1) == nil, "more than the limit")
            #expect(try await store.userProperties(accountId: "557058:ada", atMost: 10) == [:])
        }
    }

    @Test("Reads interleaved with writes always end on the last write", arguments: StoreKind.available)
    func readsDuringWrites(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        _ = try await store.setUserProperty(
                            accountId: "557058:ada", key: "k\(index % 3)",
                            value: PropertyValue(storedJSONText: "\(index)"))
                    }
                    group.addTask { _ = try await store.userPropertyKeys(accountId: "557058:ada") }
                }
                try await group.waitForAll()
            }
            let final = PropertyValue(storedJSONText: "100")
            _ = try await store.setUserProperty(accountId: "557058:ada", key: "k0", value: final)
            #expect(try await store.userProperty(accountId: "557058:ada", key: "k0") == final)
            #expect(try await store.userPropertyKeys(accountId: "557058:ada") == ["k0", "k1", "k2"])
        }
    }

    @Test("A user with many properties reads the same as one with few", arguments: StoreKind.available)
    func manyProperties(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            for index in 0..<300 {
                _ = try await store.setUserProperty(
                    accountId: "557058:ada", key: "k\(index)", value: PropertyValue(storedJSONText: "\(index)"))
            }
            #expect(try await store.userPropertyKeys(accountId: "557058:ada").count == 300)
            #expect(try await store.userProperty(accountId: "557058:ada", key: "k299")?.jsonText == "299")
            _ = try await store.setUserProperty(
                accountId: "557058:ada", key: "k299", value: PropertyValue(storedJSONText: "0"))
            #expect(try await store.userProperty(accountId: "557058:ada", key: "k299")?.jsonText == "0")
            #expect(try await store.deleteUserProperty(accountId: "557058:ada", key: "k0"))
            #expect(try await store.userProperty(accountId: "557058:ada", key: "k0") == nil)
            #expect(try await store.userPropertyKeys(accountId: "557058:ada").count == 299)
        }
    }

    @Test("Keys list in byte order and belong to one user only", arguments: StoreKind.available)
    func keyOrder(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            let value = PropertyValue(storedJSONText: "1")
            for key in ["b", "a10", "B", "a1", "é", "z", "a"] {
                _ = try await store.setUserProperty(accountId: "557058:ada", key: key, value: value)
            }
            #expect(
                try await store.userPropertyKeys(accountId: "557058:ada") == ["B", "a", "a1", "a10", "b", "z", "é"])
            #expect(try await store.userPropertyKeys(accountId: "557058:bob") == ["tour"])
            #expect(try await store.userPropertyKeys(accountId: "nobody") == [])
        }
    }

    @Test("A property for an unknown user or app is refused", arguments: StoreKind.available)
    func unknownOwner(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            let value = PropertyValue(storedJSONText: "1")
            await #expect(throws: SiteStoreError.unknownAccountId("ghost")) {
                try await store.setUserProperty(accountId: "ghost", key: "k", value: value)
            }
            await #expect(throws: SiteStoreError.unknownAppKey("ghost")) {
                try await store.setAppProperty(appKey: "ghost", key: "k", value: value)
            }
        }
    }

    @Test("App properties: their own store, per app", arguments: StoreKind.available)
    func appProperties(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            let value = PropertyValue(storedJSONText: "{}")
            #expect(try await store.setAppProperty(appKey: "com.example.tour", key: "b", value: value) == .created)
            #expect(try await store.setAppProperty(appKey: "com.example.tour", key: "b", value: value) == .updated)
            #expect(try await store.appPropertyKeys(appKey: "com.example.tour") == ["b", "settings"])
            #expect(try await store.deleteAppProperty(appKey: "com.example.tour", key: "b"))
            #expect(try await !store.deleteAppProperty(appKey: "com.example.tour", key: "b"))
            #expect(
                try await store.userPropertyKeys(accountId: "557058:app") == [], "app and user properties are apart")
        }
    }

    @Test("Adding users keeps accountIds and e-mails unique", arguments: StoreKind.available)
    func addUser(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            await #expect(throws: SiteStoreError.duplicateAccountId("557058:ada")) {
                try await store.addUser(
                    User(accountId: "557058:ada", emailAddress: "new@example.com", displayName: "N"))
            }
            await #expect(throws: SiteStoreError.duplicateEmailAddress("Ada@Example.com")) {
                try await store.addUser(User(accountId: "new", emailAddress: "Ada@Example.com", displayName: "N"))
            }
            await #expect(throws: SiteStoreError.unknownEmailAddress("ghost@example.com")) {
                try await store.addAPITokenHash("h", emailAddress: "ghost@example.com")
            }
            let carl = User(accountId: "new", emailAddress: "carl@example.com", displayName: "Carl", active: false)
            try await store.addUser(carl)
            #expect(try await store.user(emailAddress: "carl@example.com") == carl)
        }
    }

    @Test("A load that conflicts with stored data changes nothing", arguments: StoreKind.available)
    func failedLoadIsAtomic(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            let thief = User(accountId: "557058:eve", emailAddress: "ada@example.com", displayName: "Eve")
            let extra = UserPropertyRecord(
                accountId: "557058:bob", key: "new", value: PropertyValue(storedJSONText: "1"))
            let conflicting = Site(
                users: [Fixture.bob, thief], userProperties: [extra])
            await #expect(throws: SiteStoreError.duplicateEmailAddress("ada@example.com")) {
                try await store.load(conflicting)
            }
            #expect(try await store.user(accountId: "557058:eve") == nil)
            #expect(try await store.userPropertyKeys(accountId: "557058:bob") == ["tour"])
            let otherApp = ConnectApp(
                key: "other", name: "Other", clientKey: "jira:1", sharedSecret: "s", scopes: [],
                accountId: "557058:other")
            let otherUser = User(accountId: "557058:other", accountType: .app, emailAddress: nil, displayName: "Other")
            await #expect(throws: SiteStoreError.duplicateClientKey("jira:1")) {
                try await store.load(Site(apps: [otherApp], appUsers: [otherUser]))
            }
            #expect(try await store.user(accountId: "557058:other") == nil)
        }
    }

    @Test("Concurrent creations of one key give exactly one 'created'", arguments: StoreKind.available)
    func concurrentCreate(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            let outcomes = try await withThrowingTaskGroup(of: WriteOutcome.self) { group in
                for index in 0..<32 {
                    group.addTask {
                        try await store.setUserProperty(
                            accountId: "557058:ada", key: "race", value: PropertyValue(storedJSONText: "\(index)"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .created }.count == 1)
            #expect(outcomes.filter { $0 == .updated }.count == 31)
        }
    }

    @Test(
        "A snapshot is the whole site, sorted; replacing makes the store hold exactly a site",
        arguments: StoreKind.available)
    func snapshotAndReplace(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.load(Fixture.site)
            let initial = try await store.snapshot()
            #expect(initial.users.map(\.accountId) == ["557058:ada", "557058:bob"])
            #expect(initial.users.first?.legacyProperties == ["slackhandle": "@ada"])
            #expect(initial.appUsers.map(\.accountId) == ["557058:app"])
            #expect(initial.apps == [Fixture.app])
            #expect(initial.userProperties == Fixture.site.userProperties)
            #expect(initial.appProperties == Fixture.site.appProperties)

            // A test run changes things...
            try await store.addUser(User(accountId: "557058:zed", emailAddress: "zed@example.com", displayName: "Zed"))
            _ = try await store.addAPITokenHash("h2", emailAddress: "ada@example.com")
            _ = try await store.setUserProperty(
                accountId: "557058:ada", key: "b", value: PropertyValue(storedJSONText: "2"))
            _ = try await store.deleteUserProperty(accountId: "557058:bob", key: "tour")
            // ...and going back to the snapshot undoes all of it, tokens included.
            try await store.replace(with: initial)
            #expect(try await store.snapshot() == initial)
            #expect(try await store.user(accountId: "557058:zed") == nil)
            #expect(try await store.user(emailAddress: "zed@example.com") == nil)
            #expect(try await store.user(accountId: "557058:ada")?.apiTokenHashes == ["h1"])
            #expect(try await store.userPropertyKeys(accountId: "557058:ada") == [])

            // A site that breaks an invariant replaces nothing.
            let clash = User(accountId: "557058:eve", emailAddress: "EVE@example.com", displayName: "Eve")
            let twin = User(accountId: "557058:eve2", emailAddress: "eve@example.com", displayName: "Eve 2")
            await #expect(throws: SiteStoreError.self) { try await store.replace(with: Site(users: [clash, twin])) }
            #expect(try await store.snapshot() == initial)

            try await store.replace(with: Site())
            #expect(try await store.isEmpty())
        }
    }

    @Test(
        "Restoring the saved state undoes everything since saveState(), as often as asked",
        arguments: StoreKind.available)
    func savedState(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.restoreSavedState()
            #expect(try await store.isEmpty(), "nothing saved: an empty site")
            try await store.load(Fixture.site)
            try await store.saveState()
            let initial = try await store.snapshot()
            for round in 0..<2 {
                try await store.addUser(
                    User(accountId: "557058:new\(round)", emailAddress: "new\(round)@example.com", displayName: "New"))
                _ = try await store.setUserProperty(
                    accountId: "557058:bob", key: "tour", value: PropertyValue(storedJSONText: "\(round)"))
                _ = try await store.deleteAppProperty(appKey: "com.example.tour", key: "settings")
                try await store.restoreSavedState()
                #expect(try await store.snapshot() == initial)
                #expect(try await store.user(accountId: "557058:new\(round)") == nil)
                #expect(try await store.userProperty(accountId: "557058:bob", key: "tour")?.jsonText == "{\"step\":1}")
            }
        }
    }
}
