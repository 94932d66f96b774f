import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import Testing
import UnderstudyCore

@testable import UnderstudyPostgres

/// The store's own PostgreSQL client: statements sent without waiting for earlier answers, on a
/// real server (the test cluster of `.ci/postgres`).
@Suite("PostgreSQL pipelined connections", .enabled(if: TestPostgres.url != nil))
struct PostgresPipelineTests {
    static let double = PostgresStatement(name: "double", sql: "SELECT $1::int * 2")
    static let divide = PostgresStatement(name: "divide", sql: "SELECT 100 / $1::int")
    static let sleep = PostgresStatement(name: "sleep", sql: "SELECT pg_sleep($1::float8)::text")
    static let series = PostgresStatement(
        name: "series", sql: "SELECT n::text, NULL::text FROM generate_series(1, $1::int) AS n")

    static func open(
        password: String?? = nil, port: Int? = nil, statementTimeout: String = "0", backstop: TimeAmount = .seconds(10)
    ) async throws -> PostgresPipelineConnection {
        let location = try PostgresLocation(url: TestPostgres.url ?? "")
        return try await PostgresPipelineConnection.open(
            host: location.host, port: port ?? location.port, user: location.username,
            password: password ?? location.password, database: location.database,
            applicationName: "understudy-pipeline-test", settings: ["SET statement_timeout = \(statementTimeout)"],
            statements: [double, divide, sleep, series], timeout: .seconds(2), backstop: backstop)
    }

    /// Ends the store's pipelined connections from the server side; how many.
    static func terminateStoreConnections(_ url: String) async throws -> Int? {
        try await TestPostgres.administer(
            url,
            """
            SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
            WHERE application_name = 'understudy' AND datname = current_database()
            """)
    }

    @Test("A thousand statements in flight on one connection: each caller gets the answer to its own")
    func manyInFlight() async throws {
        let connection = try await Self.open()
        let wrong = try await withThrowingTaskGroup(of: Bool.self) { group in
            for number in 0..<1000 {
                group.addTask {
                    let rows = try await connection.run(Self.double, [String(number)])
                    return rows.values != [String(number * 2)] || rows.rowCount != 1
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wrong == 0)
        let rows = try await connection.run(Self.series, ["3"])
        #expect(rows.rowCount == 3)
        #expect(rows.values == ["1", nil, "2", nil, "3", nil])
        #expect(try await connection.run(Self.series, ["0"]).rowCount == 0)
        await connection.close()
    }

    @Test("A statement PostgreSQL refuses fails alone; the statements around it are answered")
    func oneRefusedAmongMany() async throws {
        let connection = try await Self.open()
        let outcomes = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for number in 0..<50 {
                group.addTask {
                    do {
                        return (number, try await connection.run(Self.divide, [String(number % 10)]).values[0] ?? "")
                    } catch let error as PostgresServerError {
                        return (number, "error \(error.sqlState): \(error.message)")
                    }
                }
            }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        for number in 0..<50 {
            let expected = number % 10 == 0 ? "error 22012: division by zero" : String(100 / (number % 10))
            #expect(outcomes[number] == expected)
        }
        #expect(try await connection.run(Self.double, ["21"]).values == ["42"])
        await connection.close()
    }

    @Test(
        "PostgreSQL's statement_timeout ends a slow statement; the statements queued behind it and the connection go on"
    )
    func statementTimeout() async throws {
        let connection = try await Self.open(statementTimeout: "200")
        let slow = Task { try await connection.run(Self.sleep, ["5"]) }
        let behind = Task { try await connection.run(Self.double, ["4"]) }
        let error = await #expect(throws: PostgresServerError.self) { try await slow.value }
        #expect(error?.sqlState == "57014")
        #expect(error?.message == "canceling statement due to statement timeout")
        #expect(try await behind.value.values == ["8"])
        #expect(connection.isUsable)
        await connection.close()
    }

    @Test("A server that stops answering: the waiting statements fail after the backstop, and the connection is done")
    func backstop() async throws {
        let connection = try await Self.open(backstop: .milliseconds(300))
        let stuck = Task { try await connection.run(Self.sleep, ["3"]) }
        let behind = Task { try await connection.run(Self.double, ["1"]) }
        for outcome in [await stuck.result, await behind.result] {
            guard case .failure(let error) = outcome else {
                Issue.record("a statement was answered after the backstop")
                continue
            }
            #expect("\(error)" == "PostgreSQL did not answer within 300 ms")
        }
        #expect(!connection.isUsable)
        let refused = await #expect(throws: PostgresPipelineError.self) {
            try await connection.run(Self.double, ["2"])
        }
        #expect(refused?.description == "PostgreSQL did not answer within 300 ms")
    }

    @Test("A wrong password, a port where nothing listens, a setting PostgreSQL refuses: each one line that says which")
    func cannotConnect() async throws {
        let wrongPassword = await #expect(throws: PostgresPipelineError.self) {
            try await Self.open(password: "not-the-password")
        }
        #expect(wrongPassword?.description.contains("password authentication failed for user") == true)
        let nothingThere = await #expect(throws: PostgresPipelineError.self) { try await Self.open(port: 1) }
        #expect(nothingThere?.description.hasPrefix("nothing accepts connections at ") == true)
        let badSetting = await #expect(throws: PostgresPipelineError.self) {
            try await Self.open(statementTimeout: "'soon'")
        }
        #expect(
            badSetting?.description
                == #"PostgreSQL refused a statement Understudy prepares or a setting: invalid value for parameter "statement_timeout": "soon""#
        )
    }

    @Test(
        "The server ends the store's connections: reads are sent again on new ones; a write may fail as unavailable, never twice"
    )
    func terminatedByTheServer() async throws {
        let (url, drop) = try await TestPostgres.freshDatabase()
        defer { Task { await drop() } }
        let store = try await PostgresSiteStore.open(url: url)
        try await store.load(Fixture.site)
        let owner = Fixture.bob.accountId
        for number in 0..<4 {
            _ = try await store.setUserProperty(
                accountId: owner, key: "k\(number)", value: PropertyValue(storedJSONText: "{\"n\":\(number)}"))
            _ = try await store.userProperty(accountId: owner, key: "k\(number)")
        }
        let killed = try await Self.terminateStoreConnections(url)
        #expect(killed == PostgresSiteStore.pipelinedConnections)
        var unavailable = 0
        var served = 0
        let deadline = ContinuousClock.now + .seconds(5)
        while served < 20, ContinuousClock.now < deadline {
            do {
                let value = try await store.userProperty(accountId: owner, key: "k\(served % 4)")
                #expect(value?.jsonText == "{\"n\":\(served % 4)}")
                served += 1
            } catch let error as SiteStoreError {
                guard case .unavailable = error else { throw error }
                unavailable += 1
            }
        }
        #expect(served == 20)
        #expect(unavailable == 0, "a read lost with its connection is sent again")
        _ = try await Self.terminateStoreConnections(url)
        var written = 0
        unavailable = 0
        while written < 20, ContinuousClock.now < deadline + .seconds(5) {
            do {
                _ = try await store.setUserProperty(
                    accountId: owner, key: "w", value: PropertyValue(storedJSONText: "\(written)"))
                written += 1
            } catch let error as SiteStoreError {
                guard case .unavailable = error else { throw error }
                unavailable += 1
            }
        }
        #expect(written == 20)
        #expect(unavailable <= PostgresSiteStore.pipelinedWriters, "a write is not sent twice")
        #expect(try await store.userProperty(accountId: owner, key: "w")?.jsonText == "19")
        try await store.close()
    }

    @Test("A write waiting for a row lock holds up no read: reads and writes go on connections of their own")
    func writeWaitingForALock() async throws {
        let (url, drop) = try await TestPostgres.freshDatabase()
        defer { Task { await drop() } }
        let store = try await PostgresSiteStore.open(url: url)
        try await store.load(Fixture.site)
        let owner = Fixture.bob.accountId
        let logger = Logger(label: "test.lock")
        let holder = try await TestPostgres.connect(url, logger: logger)
        try await holder.query("BEGIN", logger: logger)
        try await holder.query(
            "UPDATE user_properties SET value_json = '{\"held\":true}' WHERE account_id = \(owner) AND property_key = 'tour'",
            logger: logger)

        let written = Mutex(false)
        let write = Task {
            defer { written.withLock { $0 = true } }
            return try await store.setUserProperty(
                accountId: owner, key: "tour", value: PropertyValue(storedJSONText: "{\"step\":2}"))
        }
        for _ in 0..<20 {
            #expect(try await store.userProperty(accountId: owner, key: "tour")?.jsonText == "{\"step\":1}")
        }
        #expect(!written.withLock { $0 }, "the write still waits for the lock while the reads were answered")
        try await holder.query("COMMIT", logger: logger)
        #expect(try await write.value == .updated)
        #expect(try await store.userProperty(accountId: owner, key: "tour")?.jsonText == "{\"step\":2}")
        try await holder.close()
        try await store.close()
    }
}
