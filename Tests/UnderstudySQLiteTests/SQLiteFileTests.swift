import Foundation
import Testing
import UnderstudyCore
import UnderstudySQLite

/// What only a file on disk can show: persistence across a restart, WAL, permissions, bad files.
@Suite("SQLite file")
struct SQLiteFileTests {
    func temporaryPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("site.sqlite").path
    }

    @Test("Data survives closing and reopening; the file is WAL and private to its owner")
    func persistence() async throws {
        let path = try temporaryPath()
        let store = try await SQLiteSiteStore.open(path: path)
        try await store.load(Fixture.site)
        _ = try await store.setUserProperty(
            accountId: "557058:ada", key: "k", value: PropertyValue(storedJSONText: "[1]"))
        try await store.close()

        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber)?.intValue ?? 0
        #expect(wal == 0, "closing folds the WAL back into the database file")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let header = try #require(FileManager.default.contents(atPath: path)).prefix(20)
        #expect(header[18] == 2 && header[19] == 2, "WAL mode is recorded in the file header")

        let reopened = try await SQLiteSiteStore.open(path: path)
        #expect(try await reopened.userProperty(accountId: "557058:ada", key: "k")?.jsonText == "[1]")
        #expect(try await reopened.user(accountId: "557058:bob") == Fixture.bob)
        try await reopened.close()
    }

    @Test("A file that is not a database is refused with a clear error")
    func corruptFile() async throws {
        let path = try temporaryPath()
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        await #expect(throws: SQLiteSiteStore.OpenError.self) { try await SQLiteSiteStore.open(path: path) }
    }

    @Test("A database in a missing directory is refused with a clear error")
    func missingDirectory() async throws {
        let error = await #expect(throws: SQLiteSiteStore.OpenError.self) {
            try await SQLiteSiteStore.open(path: "/nonexistent-\(UUID().uuidString)/site.sqlite")
        }
        #expect(error?.description.contains("cannot create the database file") == true)
    }

    @Test("The read cache notices what another process wrote to the file")
    func externalChanges() async throws {
        let path = try temporaryPath()
        let serving = try await CachingSiteStore(
            backing: try await SQLiteSiteStore.open(path: path), externalChanges: .polled(every: .milliseconds(10)))
        try await serving.load(Fixture.site)
        #expect(try await serving.user(accountId: "557058:ada")?.displayName == "Ada")
        #expect(try await serving.userProperty(accountId: "557058:bob", key: "tour")?.jsonText == "{\"step\":1}")

        let other = try await SQLiteSiteStore.open(path: path)
        var renamed = Fixture.ada
        renamed.displayName = "Ada Lovelace"
        try await other.load(Site(users: [renamed]))
        _ = try await other.setUserProperty(
            accountId: "557058:bob", key: "tour", value: PropertyValue(storedJSONText: "{\"step\":9}"))
        try await other.close()

        var seen = false
        for _ in 0..<200 where !seen {
            try await Task.sleep(for: .milliseconds(10))
            let name = try await serving.user(accountId: "557058:ada")?.displayName
            let value = try await serving.userProperty(accountId: "557058:bob", key: "tour")?.jsonText
            seen = name == "Ada Lovelace" && value == "{\"step\":9}"
        }
        #expect(seen)
        try await serving.close()
    }
}
