import UnderstudyCore

/// One of the two property tables, which have the same shape: values owned by a user
/// (`user_properties`) or by an app (`app_properties`).
struct PropertyTable: Sendable {
    let keysSQL: String
    let valueSQL: String
    let allSQL: String
    let upsertSQL: String
    let deleteSQL: String
    /// Every property of every owner: owner, key, value, sorted by owner and key.
    let everythingSQL: String

    static let user = PropertyTable(table: "user_properties", ownerColumn: "account_id")
    static let app = PropertyTable(table: "app_properties", ownerColumn: "app_key")

    private init(table: String, ownerColumn: String) {
        keysSQL = "SELECT property_key FROM \(table) WHERE \(ownerColumn) = ? ORDER BY property_key"
        valueSQL = "SELECT value_json FROM \(table) WHERE \(ownerColumn) = ? AND property_key = ?"
        allSQL = "SELECT property_key, value_json FROM \(table) WHERE \(ownerColumn) = ? LIMIT ?"
        upsertSQL = """
            INSERT INTO \(table) (\(ownerColumn), property_key, value_json) VALUES (?, ?, ?)
            ON CONFLICT (\(ownerColumn), property_key) DO UPDATE SET value_json = excluded.value_json,
                revision = revision + 1
            RETURNING revision
            """
        deleteSQL = "DELETE FROM \(table) WHERE \(ownerColumn) = ? AND property_key = ? RETURNING 1"
        everythingSQL =
            "SELECT \(ownerColumn), property_key, value_json FROM \(table) ORDER BY \(ownerColumn), property_key"
    }

    /// One statement decides created or updated atomically: a new row starts at revision 1.
    func upsert(owner: String, key: String, value: PropertyValue, on connection: RawConnection) throws -> WriteOutcome {
        let rows = try connection.query(upsertSQL, [.text(owner), .text(key), .text(value.jsonText)])
        return rows.first?.first?.integer == 1 ? .created : .updated
    }
}
