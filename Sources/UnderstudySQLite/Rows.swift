import UnderstudyCore

/// The SQL for users and apps, and the conversion between their rows and the domain types.
enum Rows {
    private static let userColumns =
        "account_id, account_type, email_address, display_name, active, time_zone, locale, groups_json, api_token_hashes_json, legacy_properties_json, scoped_api_tokens_json"
    static let userByAccountId = "SELECT \(userColumns) FROM users WHERE account_id = ?"
    static let userByEmail = "SELECT \(userColumns) FROM users WHERE email_address = ?"
    static let allUsers = "SELECT \(userColumns) FROM users ORDER BY account_id"

    private static let appColumns =
        "app_key, name, client_key, shared_secret, scopes_json, account_id, installation_json"
    static let appByKey = "SELECT \(appColumns) FROM apps WHERE app_key = ?"
    static let appByClientKey = "SELECT \(appColumns) FROM apps WHERE client_key = ?"
    static let allApps = "SELECT \(appColumns) FROM apps ORDER BY app_key"

    static func user(_ row: [SQLValue]) -> User {
        User(
            accountId: row[0].text ?? "",
            accountType: AccountType(rawValue: row[1].text ?? "") ?? .atlassian,
            emailAddress: row[2].text,
            displayName: row[3].text ?? "",
            active: row[4].integer == 1,
            timeZone: row[5].text ?? "UTC",
            locale: row[6].text ?? "en_US",
            groups: StoredJSON.strings(row[7].text),
            apiTokenHashes: StoredJSON.strings(row[8].text),
            scopedAPITokens: StoredJSON.scopedAPITokens(row[10].text),
            legacyProperties: StoredJSON.legacyProperties(row[9].text))
    }

    static func app(_ row: [SQLValue]) -> ConnectApp {
        ConnectApp(
            key: row[0].text ?? "", name: row[1].text ?? "", clientKey: row[2].text ?? "",
            sharedSecret: row[3].text ?? "",
            scopes: StoredJSON.strings(row[4].text).compactMap(ConnectScope.init(rawValue:)),
            accountId: row[5].text ?? "", installation: StoredJSON.installation(row[6].text))
    }

    static func upsert(_ user: User, on connection: RawConnection) throws {
        try connection.query(
            """
            INSERT INTO users (\(userColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (account_id) DO UPDATE SET account_type = excluded.account_type,
                email_address = excluded.email_address, display_name = excluded.display_name,
                active = excluded.active, time_zone = excluded.time_zone, locale = excluded.locale,
                groups_json = excluded.groups_json, api_token_hashes_json = excluded.api_token_hashes_json,
                legacy_properties_json = excluded.legacy_properties_json,
                scoped_api_tokens_json = excluded.scoped_api_tokens_json
            """,
            [
                .text(user.accountId), .text(user.accountType.rawValue), user.emailAddress.map { .text($0) } ?? .null,
                .text(user.displayName), .integer(user.active ? 1 : 0), .text(user.timeZone), .text(user.locale),
                .text(StoredJSON.text(of: user.groups)), .text(StoredJSON.text(of: user.apiTokenHashes)),
                .text(StoredJSON.text(of: user.legacyProperties)), .text(StoredJSON.text(of: user.scopedAPITokens)),
            ])
    }

    static func upsert(_ app: ConnectApp, on connection: RawConnection) throws {
        try connection.query(
            """
            INSERT INTO apps (\(appColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (app_key) DO UPDATE SET name = excluded.name, client_key = excluded.client_key,
                shared_secret = excluded.shared_secret, scopes_json = excluded.scopes_json,
                account_id = excluded.account_id, installation_json = excluded.installation_json
            """,
            [
                .text(app.key), .text(app.name), .text(app.clientKey), .text(app.sharedSecret),
                .text(StoredJSON.text(of: app.scopes.map(\.rawValue))), .text(app.accountId),
                app.installation.map { .text($0.json.jsonText) } ?? .null,
            ])
    }
}
