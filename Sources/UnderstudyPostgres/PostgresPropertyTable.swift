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

    /// The statements the pipelined connections prepare for both tables.
    static let statements: [PostgresStatement] =
        [user, app].flatMap {
            [$0.keysStatement, $0.valueStatement, $0.upsertStatement, $0.deleteStatement]
        } + [userPropertiesStatement]

    /// Sorted by the keys' bytes (`COLLATE "C"`), as SQLite sorts them, whatever the database's locale.
    var keysStatement: PostgresStatement {
        statement(
            "keys",
            "SELECT property_key FROM \(table) WHERE \(ownerColumn) = $1 ORDER BY property_key COLLATE \"C\"")
    }

    var valueStatement: PostgresStatement {
        statement("value", "SELECT value_json FROM \(table) WHERE \(ownerColumn) = $1 AND property_key = $2")
    }

    var deleteStatement: PostgresStatement {
        statement("delete", "DELETE FROM \(table) WHERE \(ownerColumn) = $1 AND property_key = $2 RETURNING 1")
    }

    /// One statement decides created or updated atomically, also between servers: a new row starts
    /// at revision 1, and concurrent inserts of one key meet in `ON CONFLICT`.
    var upsertStatement: PostgresStatement {
        statement(
            "upsert",
            """
            INSERT INTO \(table) (\(ownerColumn), property_key, value_json) VALUES ($1, $2, $3)
            ON CONFLICT (\(ownerColumn), property_key) DO UPDATE SET value_json = excluded.value_json,
                revision = \(table).revision + 1
            RETURNING revision
            """)
    }

    /// A user's properties, at most $2 of them.
    static let userPropertiesStatement = PostgresStatement(
        name: "understudy_user_properties_limited",
        sql: "SELECT property_key, value_json FROM user_properties WHERE account_id = $1 LIMIT $2")

    private func statement(_ purpose: String, _ sql: String) -> PostgresStatement {
        PostgresStatement(name: "understudy_\(table)_\(purpose)", sql: sql)
    }

    /// Every property of every owner: owner, key, value, in byte order.
    var everything: PostgresQuery {
        """
        SELECT \(unescaped: ownerColumn), property_key, value_json FROM \(unescaped: table)
        ORDER BY \(unescaped: ownerColumn) COLLATE "C", property_key COLLATE "C"
        """
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
}
