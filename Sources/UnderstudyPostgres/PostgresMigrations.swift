/// The PostgreSQL schema, as numbered migrations with the invariants of the SQLite schema: one value
/// per owner and key, unique e-mail addresses (ignoring case), unique clientKeys, every property
/// owned by an existing user or app. A migration is never edited once released.
enum PostgresMigrations {
    /// The advisory lock that serialises migrations when several servers start at once.
    static let lock: Int64 = 0x756E_6465_7273_7475  // "understu"

    static let all: [[String]] = [
        // 1: users, apps, user and app properties.
        [
            """
            CREATE TABLE users (
                account_id TEXT PRIMARY KEY CHECK (char_length(account_id) BETWEEN 1 AND 128),
                account_type TEXT NOT NULL CHECK (account_type IN ('atlassian', 'app')),
                email_address TEXT,
                display_name TEXT NOT NULL,
                active BOOLEAN NOT NULL,
                time_zone TEXT NOT NULL,
                locale TEXT NOT NULL,
                groups_json TEXT NOT NULL CHECK ((groups_json::jsonb) IS NOT NULL),
                api_token_hashes_json TEXT NOT NULL CHECK ((api_token_hashes_json::jsonb) IS NOT NULL),
                legacy_properties_json TEXT NOT NULL CHECK ((legacy_properties_json::jsonb) IS NOT NULL)
            )
            """,
            "CREATE UNIQUE INDEX users_email_address ON users (lower(email_address))",
            """
            CREATE TABLE apps (
                app_key TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                client_key TEXT NOT NULL UNIQUE,
                shared_secret TEXT NOT NULL,
                scopes_json TEXT NOT NULL CHECK ((scopes_json::jsonb) IS NOT NULL),
                account_id TEXT NOT NULL UNIQUE REFERENCES users (account_id)
            )
            """,
            """
            CREATE TABLE user_properties (
                account_id TEXT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
                property_key TEXT NOT NULL,
                value_json TEXT NOT NULL,
                revision BIGINT NOT NULL DEFAULT 1,
                PRIMARY KEY (account_id, property_key)
            )
            """,
            """
            CREATE TABLE app_properties (
                app_key TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
                property_key TEXT NOT NULL,
                value_json TEXT NOT NULL,
                revision BIGINT NOT NULL DEFAULT 1,
                PRIMARY KEY (app_key, property_key)
            )
            """,
        ]
    ]
}
