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
        ],
        // 2: the site's identity, scoped API tokens, OAuth 2.0 apps, consents, codes and token families.
        [
            """
            ALTER TABLE users ADD COLUMN scoped_api_tokens_json TEXT NOT NULL DEFAULT '[]'
                CHECK (json_valid(scoped_api_tokens_json))
            """,
            """
            CREATE TABLE site_identity (
                singleton INTEGER PRIMARY KEY NOT NULL CHECK (singleton = 1),
                cloud_id TEXT NOT NULL,
                name TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE oauth_apps (
                client_id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                client_secret_hash TEXT NOT NULL,
                callback_urls_json TEXT NOT NULL CHECK (json_valid(callback_urls_json)),
                scopes_json TEXT NOT NULL CHECK (json_valid(scopes_json))
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE oauth_consents (
                client_id TEXT NOT NULL REFERENCES oauth_apps (client_id) ON DELETE CASCADE,
                account_id TEXT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
                scopes_json TEXT NOT NULL CHECK (json_valid(scopes_json)),
                PRIMARY KEY (client_id, account_id)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE oauth_codes (
                code_hash TEXT PRIMARY KEY NOT NULL,
                client_id TEXT NOT NULL,
                account_id TEXT NOT NULL,
                redirect_uri TEXT NOT NULL,
                scopes_json TEXT NOT NULL CHECK (json_valid(scopes_json)),
                expires_at INTEGER NOT NULL,
                used INTEGER NOT NULL CHECK (used IN (0, 1)),
                FOREIGN KEY (client_id, account_id) REFERENCES oauth_consents (client_id, account_id) ON DELETE CASCADE
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE oauth_token_families (
                family_id TEXT PRIMARY KEY NOT NULL,
                client_id TEXT NOT NULL,
                account_id TEXT NOT NULL,
                scopes_json TEXT NOT NULL CHECK (json_valid(scopes_json)),
                started_at INTEGER NOT NULL,
                last_refreshed_at INTEGER NOT NULL,
                revoked_at INTEGER,
                FOREIGN KEY (client_id, account_id) REFERENCES oauth_consents (client_id, account_id) ON DELETE CASCADE
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE oauth_refresh_tokens (
                token_hash TEXT PRIMARY KEY NOT NULL,
                family_id TEXT NOT NULL REFERENCES oauth_token_families (family_id) ON DELETE CASCADE,
                first_used_at INTEGER
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE oauth_access_tokens (
                token_hash TEXT PRIMARY KEY NOT NULL,
                family_id TEXT NOT NULL REFERENCES oauth_token_families (family_id) ON DELETE CASCADE,
                expires_at INTEGER NOT NULL
            ) WITHOUT ROWID
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
                app_id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                scopes_json TEXT NOT NULL CHECK (json_valid(scopes_json)),
                installation_id TEXT NOT NULL UNIQUE,
                connect_key TEXT,
                account_id TEXT NOT NULL REFERENCES users (account_id)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE forge_tokens (
                token_hash TEXT PRIMARY KEY NOT NULL,
                app_id TEXT NOT NULL REFERENCES forge_apps (app_id) ON DELETE CASCADE,
                account_id TEXT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
                expires_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """,
            "CREATE INDEX forge_tokens_app ON forge_tokens (app_id)",
            "CREATE INDEX forge_tokens_account ON forge_tokens (account_id)",
        ],
        // 4: Connect apps installed from their descriptors, and the site's install-signing keys.
        [
            """
            ALTER TABLE apps ADD COLUMN installation_json TEXT
                CHECK (installation_json IS NULL OR json_valid(installation_json))
            """,
            """
            CREATE TABLE connect_install_keys (
                kid TEXT PRIMARY KEY NOT NULL,
                public_key_pem TEXT NOT NULL,
                private_key_pem TEXT NOT NULL,
                created_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """,
        ],
        // 6: Forge apps' Custom UI resources and modules (spec 17).
        [
            """
            ALTER TABLE forge_apps ADD COLUMN ui_json TEXT CHECK (ui_json IS NULL OR json_valid(ui_json))
            """
        ],
    ]
}
