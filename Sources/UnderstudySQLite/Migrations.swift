/// The schema, as numbered migrations. A migration is never edited once released; a change is a
/// new migration. Constraints carry the invariants (one value per user and key, unique e-mails).
enum Migrations {
    static let all: [[String]] = [
        // 1: users, apps, user and app properties.
        [
            """
            CREATE TABLE users (
                account_id TEXT PRIMARY KEY NOT NULL CHECK (length(account_id) BETWEEN 1 AND 128),
                account_type TEXT NOT NULL CHECK (account_type IN ('atlassian', 'app')),
                email_address TEXT COLLATE NOCASE UNIQUE,
                display_name TEXT NOT NULL,
                active INTEGER NOT NULL CHECK (active IN (0, 1)),
                time_zone TEXT NOT NULL,
                locale TEXT NOT NULL,
                groups_json TEXT NOT NULL CHECK (json_valid(groups_json)),
                api_token_hashes_json TEXT NOT NULL CHECK (json_valid(api_token_hashes_json)),
                legacy_properties_json TEXT NOT NULL CHECK (json_valid(legacy_properties_json))
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE apps (
                app_key TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                client_key TEXT NOT NULL UNIQUE,
                shared_secret TEXT NOT NULL,
                scopes_json TEXT NOT NULL CHECK (json_valid(scopes_json)),
                account_id TEXT NOT NULL UNIQUE REFERENCES users (account_id)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE user_properties (
                account_id TEXT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
                property_key TEXT NOT NULL,
                value_json TEXT NOT NULL,
                revision INTEGER NOT NULL DEFAULT 1,
                PRIMARY KEY (account_id, property_key)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE app_properties (
                app_key TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
                property_key TEXT NOT NULL,
                value_json TEXT NOT NULL,
                revision INTEGER NOT NULL DEFAULT 1,
                PRIMARY KEY (app_key, property_key)
            ) WITHOUT ROWID
            """,
        ]
    ]
}
