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
        ],
        // 2: the site's identity, scoped API tokens, OAuth 2.0 apps, consents, codes and token families.
        // Times are milliseconds since 1970, as in the SQLite schema.
        [
            """
            ALTER TABLE users ADD COLUMN scoped_api_tokens_json TEXT NOT NULL DEFAULT '[]'
                CHECK ((scoped_api_tokens_json::jsonb) IS NOT NULL)
            """,
            """
            CREATE TABLE site_identity (
                singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                cloud_id TEXT NOT NULL,
                name TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE oauth_apps (
                client_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                client_secret_hash TEXT NOT NULL,
                callback_urls_json TEXT NOT NULL CHECK ((callback_urls_json::jsonb) IS NOT NULL),
                scopes_json TEXT NOT NULL CHECK ((scopes_json::jsonb) IS NOT NULL)
            )
            """,
            """
            CREATE TABLE oauth_consents (
                client_id TEXT NOT NULL REFERENCES oauth_apps (client_id) ON DELETE CASCADE,
                account_id TEXT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
                scopes_json TEXT NOT NULL CHECK ((scopes_json::jsonb) IS NOT NULL),
                PRIMARY KEY (client_id, account_id)
            )
            """,
            """
            CREATE TABLE oauth_codes (
                code_hash TEXT PRIMARY KEY,
                client_id TEXT NOT NULL,
                account_id TEXT NOT NULL,
                redirect_uri TEXT NOT NULL,
                scopes_json TEXT NOT NULL CHECK ((scopes_json::jsonb) IS NOT NULL),
                expires_at BIGINT NOT NULL,
                used BOOLEAN NOT NULL,
                FOREIGN KEY (client_id, account_id) REFERENCES oauth_consents (client_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE oauth_token_families (
                family_id TEXT PRIMARY KEY,
                client_id TEXT NOT NULL,
                account_id TEXT NOT NULL,
                scopes_json TEXT NOT NULL CHECK ((scopes_json::jsonb) IS NOT NULL),
                started_at BIGINT NOT NULL,
                last_refreshed_at BIGINT NOT NULL,
                revoked_at BIGINT,
                FOREIGN KEY (client_id, account_id) REFERENCES oauth_consents (client_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE oauth_refresh_tokens (
                token_hash TEXT PRIMARY KEY,
                family_id TEXT NOT NULL REFERENCES oauth_token_families (family_id) ON DELETE CASCADE,
                first_used_at BIGINT
            )
            """,
            """
            CREATE TABLE oauth_access_tokens (
                token_hash TEXT PRIMARY KEY,
                family_id TEXT NOT NULL REFERENCES oauth_token_families (family_id) ON DELETE CASCADE,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX oauth_codes_consent ON oauth_codes (client_id, account_id)",
            "CREATE INDEX oauth_token_families_consent ON oauth_token_families (client_id, account_id)",
            "CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family_id)",
            "CREATE INDEX oauth_access_tokens_family ON oauth_access_tokens (family_id)",
        ],
        // 3: Forge apps and the tokens minted for them.
        [
            """
            CREATE TABLE forge_apps (
                app_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                scopes_json TEXT NOT NULL CHECK ((scopes_json::jsonb) IS NOT NULL),
                installation_id TEXT NOT NULL UNIQUE,
                connect_key TEXT,
                account_id TEXT NOT NULL REFERENCES users (account_id)
            )
            """,
            """
            CREATE TABLE forge_tokens (
                token_hash TEXT PRIMARY KEY,
                app_id TEXT NOT NULL REFERENCES forge_apps (app_id) ON DELETE CASCADE,
                account_id TEXT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX forge_tokens_app ON forge_tokens (app_id)",
            "CREATE INDEX forge_tokens_account ON forge_tokens (account_id)",
        ],
        // 4: Connect apps installed from their descriptors, and the site's install-signing keys.
        [
            """
            ALTER TABLE apps ADD COLUMN installation_json TEXT
                CHECK (installation_json IS NULL OR (installation_json::jsonb) IS NOT NULL)
            """,
            """
            CREATE TABLE connect_install_keys (
                kid TEXT PRIMARY KEY,
                public_key_pem TEXT NOT NULL,
                private_key_pem TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
        ],
        // 5: every change to what servers cache (users, apps, the identity, OAuth grants) is announced
        // on the channel understudy_changes when its transaction commits.
        [
            """
            CREATE FUNCTION understudy_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('understudy_changes', TG_TABLE_NAME);
                RETURN NULL;
            END
            $$
            """
        ]
            + [
                "users", "apps", "site_identity", "oauth_apps", "oauth_consents", "oauth_token_families",
                "oauth_access_tokens",
            ]
            .map {
                """
                CREATE TRIGGER \($0)_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON \($0)
                FOR EACH STATEMENT EXECUTE FUNCTION understudy_notify_change()
                """
            },
        // 6: Forge apps' Custom UI resources and modules (spec 17).
        ["ALTER TABLE forge_apps ADD COLUMN ui_json TEXT"],
    ]
}
