import PostgresNIO
import UnderstudyCore

/// The statements every property request runs, prepared once per connection: PostgreSQL parses and
/// plans them once instead of on every request (issue 17). The other statements stay unnamed.
enum PostgresHotStatements {
    /// A user property's value (`GET /rest/api/3/user/properties/{key}`).
    struct ReadUserProperty: PostgresPreparedStatement {
        static let name = "understudy_read_user_property"
        static let sql = "SELECT value_json FROM user_properties WHERE account_id = $1 AND property_key = $2"
        typealias Row = String

        let accountId: String
        let key: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(accountId)
            bindings.append(key)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// Creates or replaces a user property, deciding created or updated in the same statement
    /// (`PUT /rest/api/3/user/properties/{key}`); a new row starts at revision 1.
    struct WriteUserProperty: PostgresPreparedStatement {
        static let name = "understudy_write_user_property"
        static let sql = """
            INSERT INTO user_properties (account_id, property_key, value_json) VALUES ($1, $2, $3)
            ON CONFLICT (account_id, property_key) DO UPDATE SET value_json = excluded.value_json,
                revision = user_properties.revision + 1
            RETURNING revision
            """
        typealias Row = Int64

        let accountId: String
        let key: String
        let valueJSON: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(accountId)
            bindings.append(key)
            bindings.append(valueJSON)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
    }
}
