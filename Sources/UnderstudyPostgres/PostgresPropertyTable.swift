import Logging
import PostgresNIO
import UnderstudyCore

/// One of the two property tables, which have the same shape: values owned by a user
/// (`user_properties`) or by an app (`app_properties`).
struct PostgresPropertyTable: Sendable {
    let table: String
    let ownerColumn: String

    static let user = PostgresPropertyTable(table: "user_properties", ownerColumn: "account_id")
    static let app = PostgresPropertyTable(table: "app_properties", ownerColumn: "app_key")

    /// Sorted by the keys' bytes (`COLLATE "C"`), as SQLite sorts them, whatever the database's locale.
    func keys(owner: String) -> PostgresQuery {
        """
        SELECT property_key FROM \(unescaped: table) WHERE \(unescaped: ownerColumn) = \(owner)
        ORDER BY property_key COLLATE "C"
        """
    }

    /// Every property of every owner: owner, key, value, in byte order.
    var everything: PostgresQuery {
        """
        SELECT \(unescaped: ownerColumn), property_key, value_json FROM \(unescaped: table)
        ORDER BY \(unescaped: ownerColumn) COLLATE "C", property_key COLLATE "C"
        """
    }

    func value(owner: String, key: String) -> PostgresQuery {
        "SELECT value_json FROM \(unescaped: table) WHERE \(unescaped: ownerColumn) = \(owner) AND property_key = \(key)"
    }

    func delete(owner: String, key: String) -> PostgresQuery {
        """
        DELETE FROM \(unescaped: table) WHERE \(unescaped: ownerColumn) = \(owner) AND property_key = \(key)
        RETURNING 1
        """
    }

    /// One statement decides created or updated atomically, also between servers: a new row starts
    /// at revision 1, and concurrent inserts of one key meet in `ON CONFLICT`.
    func upsert(owner: String, key: String, value: PropertyValue, on client: PostgresClient, logger: Logger)
        async throws -> WriteOutcome
    {
        try await outcome(client.query(upsertQuery(owner: owner, key: key, value: value), logger: logger))
    }

    func upsert(owner: String, key: String, value: PropertyValue, on connection: PostgresConnection, logger: Logger)
        async throws -> WriteOutcome
    {
        try await outcome(connection.query(upsertQuery(owner: owner, key: key, value: value), logger: logger))
    }

    /// Many rows in one statement (a site file's properties; its keys are unique per owner).
    func upsert(owners: [String], keys: [String], values: [String], on connection: PostgresConnection, logger: Logger)
        async throws
    {
        try await connection.query(
            """
            INSERT INTO \(unescaped: table) (\(unescaped: ownerColumn), property_key, value_json)
            SELECT * FROM unnest(\(owners)::text[], \(keys)::text[], \(values)::text[])
            ON CONFLICT (\(unescaped: ownerColumn), property_key) DO UPDATE SET value_json = excluded.value_json,
                revision = \(unescaped: table).revision + 1
            """, logger: logger)
    }

    private func upsertQuery(owner: String, key: String, value: PropertyValue) -> PostgresQuery {
        """
        INSERT INTO \(unescaped: table) (\(unescaped: ownerColumn), property_key, value_json)
        VALUES (\(owner), \(key), \(value.jsonText))
        ON CONFLICT (\(unescaped: ownerColumn), property_key) DO UPDATE SET value_json = excluded.value_json,
            revision = \(unescaped: table).revision + 1
        RETURNING revision
        """
    }

    private func outcome(_ rows: PostgresRowSequence) async throws -> WriteOutcome {
        var revision: Int64 = 0
        for try await value in rows.decode(Int64.self) { revision = value }
        return revision == 1 ? .created : .updated
    }
}
