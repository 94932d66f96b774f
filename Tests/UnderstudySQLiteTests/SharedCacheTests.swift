import Foundation
import Testing
import UnderstudyCore
import UnderstudyPostgres

/// Two servers on one PostgreSQL database, each with the cache `serve` puts in front of it (spec:
/// issue 17): users come from memory, yet a change through one is honoured by the other once
/// PostgreSQL announces it; user properties are read from the database every time.
@Suite("Shared cache over PostgreSQL", .enabled(if: TestPostgres.url != nil))
struct SharedCacheTests {
    func withTwoServers(_ body: (CachingSiteStore, CachingSiteStore) async throws -> Void) async throws {
        let (url, drop) = try await TestPostgres.freshDatabase()
        var opened: [CachingSiteStore] = []
        do {
            opened.append(try await TestPostgres.cached(try await PostgresSiteStore.open(url: url)))
            opened.append(try await TestPostgres.cached(try await PostgresSiteStore.open(url: url)))
        } catch {
            for store in opened { try? await store.close() }
            await drop()
            throw error
        }
        let (first, second) = (opened[0], opened[1])
        do {
            try await first.load(Fixture.site)
            try await body(first, second)
        } catch {
            try? await first.close()
            try? await second.close()
            await drop()
            throw error
        }
        try? await first.close()
        try? await second.close()
        await drop()
    }

    @Test("A token added through one server is honoured by the other within a second")
    func tokensFollow() async throws {
        try await withTwoServers { a, b in
            #expect(a.servesFromMemory && b.servesFromMemory, "both listen")
            let before = try await b.user(accountId: Fixture.bob.accountId)
            #expect(before?.apiTokenHashes.isEmpty == true)
            _ = try await a.addAPITokenHash("fresh-hash", emailAddress: Fixture.bob.emailAddress ?? "")
            let started = ContinuousClock.now
            var seen = false
            while !seen, ContinuousClock.now - started < .seconds(1) {
                seen = try await b.user(accountId: Fixture.bob.accountId)?.apiTokenHashes == ["fresh-hash"]
                if !seen { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(seen, "the second server forgot its cached user when PostgreSQL announced the change")
        }
    }

    @Test("User properties are never served from memory: a write through one is read through the other at once")
    func propertiesAtOnce() async throws {
        try await withTwoServers { a, b in
            for n in 0..<50 {
                let value = PropertyValue(storedJSONText: "{\"n\":\(n)}")
                _ = try await a.setUserProperty(accountId: Fixture.bob.accountId, key: "fresh", value: value)
                let read = try await b.userProperty(accountId: Fixture.bob.accountId, key: "fresh")
                #expect(read == value)
            }
        }
    }
}
