import Foundation
import Logging
import PostgresNIO
import Synchronization
import UnderstudyCore

/// The shared store: a PostgreSQL database that several Understudy servers use at once. Every
/// property read goes to the database, so a write through one server is read through another at
/// once (a server caches users and apps in front of it, told of changes by `watchChanges`);
/// created-or-updated is decided by one `INSERT … ON CONFLICT … RETURNING revision`, so concurrent
/// PUTs of a new key through two servers give exactly one `201`.
///
/// The property statements — what nearly every request runs — go through a few pipelined
/// connections of the store's own (`PostgresPipeline`); everything else through postgres-nio's
/// pool. Every operation has a deadline: while the database is down or stuck, requests fail within
/// a few seconds with `SiteStoreError.unavailable` (which the server answers with `503`), and both
/// reconnect by themselves when the database is back.
public final class PostgresSiteStore: SiteStore {
    /// Why a database cannot be used, in one line for the command line.
    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    /// How long one operation may wait for the database before it is answered as unavailable.
    public static let operationTimeout: Duration = .seconds(3)
    /// How long loading, replacing or reading a whole site may take.
    static let bulkTimeout: Duration = .seconds(600)
    /// How many pipelined connections carry the reads and the writes of properties.
    static let pipelinedReaders = 2
    static let pipelinedWriters = 1
    static var pipelinedConnections: Int { pipelinedReaders + pipelinedWriters }

    private let client: PostgresClient
    private let pipeline: PostgresPipeline
    private let running: Task<Void, Never>
    let location: PostgresLocation
    let logger: Logger
    private let savedState = Mutex<Site?>(nil)
    /// The connection listening for other servers' changes, once `watchChanges` started it.
    let listener = Mutex(ChangeListener())

    /// The URL without its password, for messages.
    public static func redacting(url: String) -> String { PostgresLocation.redact(url) }

    /// Connects (checking the URL and the credentials at once), migrates, and starts the pool.
    public static func open(url: String, logger: Logger = Logger(label: "understudy.postgres")) async throws
        -> PostgresSiteStore
    {
        let location = try PostgresLocation(url: url)
        do {
            let connection = try await PostgresConnection.connect(
                configuration: location.connectionConfiguration, id: 1, logger: logger)
            defer { Task { try? await connection.close() } }
            try await migrate(connection, logger: logger)
        } catch {
            throw OpenError(
                description: "cannot use the PostgreSQL database \(location.redacted): \(describe(error, at: location))"
            )
        }
        // The pool reports every failed connection attempt at info; during an outage the 503s say
        // enough, so the pool's own log starts at warning.
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: poolLogger)
        let running = Task { await client.run() }
        let pipeline = PostgresPipeline(readers: pipelinedReaders, writers: pipelinedWriters) {
            try await location.openPipelined(
                statements: PostgresPropertyTable.statements + lookupStatements, statementTimeout: operationTimeout)
        }
        return PostgresSiteStore(
            client: client, pipeline: pipeline, running: running, location: location, logger: logger)
    }

    private init(
        client: PostgresClient, pipeline: PostgresPipeline, running: Task<Void, Never>, location: PostgresLocation,
        logger: Logger
    ) {
        self.client = client
        self.pipeline = pipeline
        self.running = running
        self.location = location
        self.logger = logger
    }

    /// Applies the migrations not yet applied, under an advisory lock, so that servers starting at
    /// once take turns and the second finds the work done.
    private static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0) FROM schema_migrations", logger: logger
            ).decode(Int.self) {
                applied = version
            }
            for (index, statements) in PostgresMigrations.all.enumerated() where index + 1 > applied {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version) VALUES (\(index + 1))", logger: logger)
            }
        }
    }

    // MARK: Running operations

    private enum Outcome<Value: Sendable>: Sendable {
        case finished(Value)
        case timedOut
    }

    /// Runs one operation against the pool with the deadline, translating database failures.
    func run<Value: Sendable>(
        timeout: Duration = operationTimeout,
        _ operation: @escaping @Sendable (PostgresClient, Logger) async throws -> Value
    ) async throws -> Value {
        let client = self.client
        let logger = self.logger
        let outcome: Outcome<Value>
        do {
            outcome = try await withThrowingTaskGroup(of: Outcome<Value>.self) { group in
                group.addTask { .finished(try await operation(client, logger)) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                }
                defer { group.cancelAll() }
                return try await group.next() ?? .timedOut
            }
        } catch let error as PSQLError {
            throw translate(error)
        } catch let error as PostgresTransactionError {
            // The closure's own error (a store error) wins; otherwise what failed the transaction.
            if let failure = error.closureError { throw (failure as? PSQLError).map(translate) ?? failure }
            if let failure = (error.beginError ?? error.commitError) as? PSQLError { throw translate(failure) }
            throw error
        }
        switch outcome {
        case .finished(let value): return value
        case .timedOut:
            throw SiteStoreError.unavailable(
                "PostgreSQL at \(location.host):\(location.port) did not answer within \(timeout)")
        }
    }

    /// Constraint violations become the store's own errors; lost connections and a database that is
    /// shutting down or starting become `unavailable`.
    private func translate(_ error: PSQLError) -> any Error {
        if error.code == .server, let state = error.serverInfo?[.sqlState] {
            if Self.meansUnavailable(sqlState: state) {
                return SiteStoreError.unavailable(Self.describe(error, at: location))
            }
            return error
        }
        return SiteStoreError.unavailable(Self.describe(error, at: location))
    }

    /// Connection exceptions, operator intervention (shutdown, starting, a statement cancelled by
    /// `statement_timeout`), too many connections.
    private static func meansUnavailable(sqlState state: String) -> Bool {
        state.hasPrefix("08") || state.hasPrefix("57") || state == "53300"
    }

    /// Runs one of the property statements on the pipelined connections, translating failures as
    /// `run` does. Its deadline is PostgreSQL's `statement_timeout`, and the connection's backstop
    /// when the server stops answering.
    private func pipelined(_ statement: PostgresStatement, _ parameters: [String]) async throws
        -> PostgresPipelineRows
    {
        do {
            return try await pipeline.run(statement, parameters)
        } catch let error as PostgresServerError {
            if error.sqlState == "57014" {
                throw SiteStoreError.unavailable(
                    "PostgreSQL at \(location.host):\(location.port) did not finish within \(Self.operationTimeout) (\(error.message))"
                )
            }
            if Self.meansUnavailable(sqlState: error.sqlState) { throw SiteStoreError.unavailable(error.message) }
            throw error
        } catch let error as PostgresPipelineError {
            throw SiteStoreError.unavailable(error.description)
        }
    }

    /// One line: PostgreSQL's own message when it sent one, else what happened to the connection.
    static func describe(_ error: any Error, at location: PostgresLocation) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        let server = "\(location.host):\(location.port)"
        let detail = error.underlying.map { "\($0)" } ?? ""
        switch error.code {
        case .connectionError where detail.contains("refused"): return "nothing accepts connections at \(server)"
        case .connectionError where detail.lowercased().contains("time"): return "connecting to \(server) timed out"
        case .connectionError: return "cannot connect to \(server)" + (detail.isEmpty ? "" : " (\(detail))")
        case .serverClosedConnection, .clientClosedConnection: return "the connection to \(server) was closed"
        default: return "\(error.code)" + (detail.isEmpty ? "" : " (\(detail))")
        }
    }

    static func sqlState(of error: any Error) -> (state: String, constraint: String?)? {
        if let error = error as? PostgresServerError { return (error.sqlState, error.constraint) }
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return nil
        }
        return (state, error.serverInfo?[.constraintName])
    }

    // MARK: Users and apps

    private static let userColumns =
        "account_id, account_type, email_address, display_name, active, time_zone, locale, groups_json, api_token_hashes_json, legacy_properties_json, scoped_api_tokens_json"
    static let appColumns =
        "app_key, name, client_key, shared_secret, scopes_json, account_id, installation_json"

    private typealias UserRow = (String, String, String?, String, Bool, String, String, String, String, String, String)
    private typealias AppRow = (String, String, String, String, String, String, String?)

    /// The lookups that authenticate a request when the cache cannot answer, on the pipelined
    /// connections with the property statements.
    static let lookupStatements = [
        userByAccountId, userByEmailAddress, appByKey, appByClientKey,
    ]
    private static let userByAccountId = PostgresStatement(
        name: "understudy_user_by_account_id", sql: "SELECT \(userColumns) FROM users WHERE account_id = $1")
    private static let userByEmailAddress = PostgresStatement(
        name: "understudy_user_by_email_address",
        sql: "SELECT \(userColumns) FROM users WHERE lower(email_address) = lower($1)")
    private static let appByKey = PostgresStatement(
        name: "understudy_app_by_key", sql: "SELECT \(appColumns) FROM apps WHERE app_key = $1")
    private static let appByClientKey = PostgresStatement(
        name: "understudy_app_by_client_key", sql: "SELECT \(appColumns) FROM apps WHERE client_key = $1")

    private static func user(_ row: UserRow) -> User {
        User(
            accountId: row.0, accountType: AccountType(rawValue: row.1) ?? .atlassian, emailAddress: row.2,
            displayName: row.3, active: row.4, timeZone: row.5, locale: row.6,
            groups: StoredJSON.strings(row.7), apiTokenHashes: StoredJSON.strings(row.8),
            scopedAPITokens: StoredJSON.scopedAPITokens(row.10),
            legacyProperties: StoredJSON.legacyProperties(row.9))
    }

    private static func app(_ row: AppRow) -> ConnectApp {
        ConnectApp(
            key: row.0, name: row.1, clientKey: row.2, sharedSecret: row.3,
            scopes: StoredJSON.strings(row.4).compactMap(ConnectScope.init(rawValue:)), accountId: row.5,
            installation: StoredJSON.installation(row.6))
    }

    private static func users(_ rows: PostgresRowSequence) async throws -> [User] {
        var users: [User] = []
        for try await row in rows.decode(UserRow.self) { users.append(user(row)) }
        return users
    }

    static func apps(_ rows: PostgresRowSequence) async throws -> [ConnectApp] {
        var apps: [ConnectApp] = []
        for try await row in rows.decode(AppRow.self) { apps.append(app(row)) }
        return apps
    }

    /// PostgreSQL's text cannot hold U+0000: no stored value has one, so a lookup of such a value
    /// finds nothing without asking (PostgreSQL would refuse the statement).
    private static func canHold(_ text: String) -> Bool { !text.utf8.contains(0) }

    /// The first user of a pipelined answer, its columns in text (a boolean as `t` or `f`).
    private static func firstUser(_ rows: PostgresPipelineRows) -> User? {
        let c = rows.values
        guard rows.rowCount > 0, c.count >= 11 else { return nil }
        return user(
            (
                c[0] ?? "", c[1] ?? "", c[2], c[3] ?? "", c[4] == "t", c[5] ?? "", c[6] ?? "", c[7] ?? "", c[8] ?? "",
                c[9] ?? "", c[10] ?? ""
            ))
    }

    private static func firstApp(_ rows: PostgresPipelineRows) -> ConnectApp? {
        let c = rows.values
        guard rows.rowCount > 0, c.count >= 7 else { return nil }
        return app((c[0] ?? "", c[1] ?? "", c[2] ?? "", c[3] ?? "", c[4] ?? "", c[5] ?? "", c[6]))
    }

    public func isEmpty() async throws -> Bool {
        try await run { client, logger in
            var any = false
            for try await _ in try await client.query("SELECT 1 FROM users LIMIT 1", logger: logger) { any = true }
            return !any
        }
    }

    public func user(accountId: String) async throws -> User? {
        guard Self.canHold(accountId) else { return nil }
        return Self.firstUser(try await pipelined(Self.userByAccountId, [accountId]))
    }

    public func user(emailAddress: String) async throws -> User? {
        guard Self.canHold(emailAddress) else { return nil }
        return Self.firstUser(try await pipelined(Self.userByEmailAddress, [emailAddress]))
    }

    public func app(key: String) async throws -> ConnectApp? {
        guard Self.canHold(key) else { return nil }
        return Self.firstApp(try await pipelined(Self.appByKey, [key]))
    }

    public func siteIdentity() async throws -> SiteIdentity? {
        try await run { client, logger in
            try await client.withConnection { try await Self.identity(on: $0, logger: logger) }
        }
    }

    public func app(clientKey: String) async throws -> ConnectApp? {
        guard Self.canHold(clientKey) else { return nil }
        return Self.firstApp(try await pipelined(Self.appByClientKey, [clientKey]))
    }

    public func addUser(_ user: User) async throws {
        do {
            try await run { client, logger in
                try await client.withTransaction(logger: logger) { connection in
                    try await Self.insert(user, on: connection, logger: logger, replacing: false)
                }
            }
        } catch let error where Self.sqlState(of: error)?.state == "23505" {
            if Self.sqlState(of: error)?.constraint == "users_pkey" {
                throw SiteStoreError.duplicateAccountId(user.accountId)
            }
            throw SiteStoreError.duplicateEmailAddress(user.emailAddress ?? "")
        }
    }

    public func addAPITokenHash(_ hash: String, scopes: [String], emailAddress: String) async throws -> User {
        try await run { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: Self.userColumns) FROM users
                    WHERE lower(email_address) = lower(\(emailAddress)) FOR UPDATE
                    """, logger: logger)
                guard let found = try await Self.users(rows).first else {
                    throw SiteStoreError.unknownEmailAddress(emailAddress)
                }
                let user = found.adding(tokenHash: hash, scopes: scopes)
                try await connection.query(
                    """
                    UPDATE users SET api_token_hashes_json = \(StoredJSON.text(of: user.apiTokenHashes)),
                        scoped_api_tokens_json = \(StoredJSON.text(of: user.scopedAPITokens))
                    WHERE account_id = \(user.accountId)
                    """, logger: logger)
                return user
            }
        }
    }

    /// A site file may be large; loading it has minutes, not seconds.
    public func load(_ site: Site) async throws {
        try await run(timeout: Self.bulkTimeout) { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                try await PostgresSiteLoader(connection: connection, logger: logger).load(site)
            }
        }
    }

    public func replace(with site: Site) async throws {
        try await run(timeout: Self.bulkTimeout) { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                // Consents, codes and tokens go with their users and OAuth apps (ON DELETE CASCADE).
                for table in ["app_properties", "user_properties", "apps", "oauth_apps", "forge_apps", "users"] {
                    try await connection.query("DELETE FROM \(unescaped: table)", logger: logger)
                }
                try await PostgresSiteLoader(connection: connection, logger: logger).load(site)
            }
        }
    }

    /// Kept in this process: each server restores the state it saw at its own start. Shared sites
    /// are usually small; a large one costs its size in memory here.
    public func saveState() async throws {
        let site = try await snapshot()
        savedState.withLock { $0 = site }
    }

    public func restoreSavedState() async throws {
        try await replace(with: savedState.withLock { $0 } ?? Site())
    }

    /// One consistent view (repeatable read) of every table, in byte order.
    public func snapshot() async throws -> Site {
        try await run(timeout: Self.bulkTimeout) { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
                let users = try await Self.users(
                    connection.query(
                        "SELECT \(unescaped: Self.userColumns) FROM users ORDER BY account_id COLLATE \"C\"",
                        logger: logger))
                let apps = try await Self.apps(
                    connection.query(
                        "SELECT \(unescaped: Self.appColumns) FROM apps ORDER BY app_key COLLATE \"C\"", logger: logger)
                )
                var userProperties: [UserPropertyRecord] = []
                for try await (owner, key, value) in try await connection.query(
                    PostgresPropertyTable.user.everything, logger: logger
                ).decode((String, String, String).self) {
                    userProperties.append(
                        UserPropertyRecord(accountId: owner, key: key, value: PropertyValue(storedJSONText: value)))
                }
                var appProperties: [AppPropertyRecord] = []
                for try await (owner, key, value) in try await connection.query(
                    PostgresPropertyTable.app.everything, logger: logger
                ).decode((String, String, String).self) {
                    appProperties.append(
                        AppPropertyRecord(appKey: owner, key: key, value: PropertyValue(storedJSONText: value)))
                }
                return Site(
                    identity: try await Self.identity(on: connection, logger: logger),
                    users: users.filter { $0.accountType == .atlassian }, apps: apps,
                    appUsers: users.filter { $0.accountType == .app }, userProperties: userProperties,
                    appProperties: appProperties,
                    oauthApps: try await Self.oauthApps(connection.query(Self.allOAuthApps, logger: logger)),
                    oauthConsents: try await Self.oauthConsents(connection.query(Self.allConsents, logger: logger)),
                    forgeApps: try await Self.forgeApps(connection.query(Self.allForgeApps, logger: logger)))
            }
        }
    }

    /// Inserts a user; with `replacing`, a user with the same accountId is replaced, otherwise the
    /// primary key refuses it.
    static func insert(_ user: User, on connection: PostgresConnection, logger: Logger, replacing: Bool) async throws {
        try await connection.query(
            """
            INSERT INTO users (\(unescaped: userColumns)) VALUES (\(user.accountId), \(user.accountType.rawValue),
                \(user.emailAddress), \(user.displayName), \(user.active), \(user.timeZone), \(user.locale),
                \(StoredJSON.text(of: user.groups)), \(StoredJSON.text(of: user.apiTokenHashes)),
                \(StoredJSON.text(of: user.legacyProperties)), \(StoredJSON.text(of: user.scopedAPITokens)))
            \(unescaped: replacing ? replaceUser : "")
            """, logger: logger)
    }

    private static let replaceUser = """
        ON CONFLICT (account_id) DO UPDATE SET account_type = excluded.account_type,
                email_address = excluded.email_address, display_name = excluded.display_name,
                active = excluded.active, time_zone = excluded.time_zone, locale = excluded.locale,
                groups_json = excluded.groups_json, api_token_hashes_json = excluded.api_token_hashes_json,
                legacy_properties_json = excluded.legacy_properties_json,
                scoped_api_tokens_json = excluded.scoped_api_tokens_json
        """

    static func upsert(_ app: ConnectApp, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO apps (\(unescaped: appColumns)) VALUES (\(app.key), \(app.name), \(app.clientKey),
                \(app.sharedSecret), \(StoredJSON.text(of: app.scopes.map(\.rawValue))), \(app.accountId),
                \(app.installation?.json.jsonText))
            ON CONFLICT (app_key) DO UPDATE SET name = excluded.name, client_key = excluded.client_key,
                shared_secret = excluded.shared_secret, scopes_json = excluded.scopes_json,
                account_id = excluded.account_id, installation_json = excluded.installation_json
            """, logger: logger)
    }

    static func userByAccountId(_ accountId: String, on connection: PostgresConnection, logger: Logger) async throws
        -> User?
    {
        try await users(
            connection.query(
                "SELECT \(unescaped: userColumns) FROM users WHERE account_id = \(accountId)", logger: logger)
        ).first
    }

    // MARK: User and app properties

    public func userPropertyKeys(accountId: String) async throws -> [String] {
        try await keys(in: .user, owner: accountId)
    }

    public func userProperty(accountId: String, key: String) async throws -> PropertyValue? {
        try await value(in: .user, owner: accountId, key: key)
    }

    public func userProperties(accountId: String, atMost limit: Int) async throws -> [String: PropertyValue]? {
        let rows = try await pipelined(
            PostgresPropertyTable.userPropertiesStatement, [accountId, String(min(limit, Int(Int32.max - 1)) + 1)])
        var properties: [String: PropertyValue] = [:]
        var index = 0
        while index + 1 < rows.values.count {
            if let key = rows.values[index], let value = rows.values[index + 1] {
                properties[key] = PropertyValue(storedJSONText: value)
            }
            index += 2
        }
        return properties.count <= limit ? properties : nil
    }

    public func setUserProperty(accountId: String, key: String, value: PropertyValue) async throws -> WriteOutcome {
        try await set(in: .user, owner: accountId, key: key, value: value, unknownOwner: .unknownAccountId(accountId))
    }

    public func deleteUserProperty(accountId: String, key: String) async throws -> Bool {
        try await delete(in: .user, owner: accountId, key: key)
    }

    public func appPropertyKeys(appKey: String) async throws -> [String] {
        try await keys(in: .app, owner: appKey)
    }

    public func appProperty(appKey: String, key: String) async throws -> PropertyValue? {
        try await value(in: .app, owner: appKey, key: key)
    }

    public func setAppProperty(appKey: String, key: String, value: PropertyValue) async throws -> WriteOutcome {
        try await set(in: .app, owner: appKey, key: key, value: value, unknownOwner: .unknownAppKey(appKey))
    }

    public func deleteAppProperty(appKey: String, key: String) async throws -> Bool {
        try await delete(in: .app, owner: appKey, key: key)
    }

    private func keys(in table: PostgresPropertyTable, owner: String) async throws -> [String] {
        try await pipelined(table.keysStatement, [owner]).values.compactMap { $0 }
    }

    private func value(in table: PostgresPropertyTable, owner: String, key: String) async throws -> PropertyValue? {
        let rows = try await pipelined(table.valueStatement, [owner, key])
        return rows.values.first.flatMap { $0 }.map(PropertyValue.init(storedJSONText:))
    }

    private func set(
        in table: PostgresPropertyTable, owner: String, key: String, value: PropertyValue, unknownOwner: SiteStoreError
    ) async throws -> WriteOutcome {
        do {
            let rows = try await pipelined(table.upsertStatement, [owner, key, value.jsonText])
            guard let revision = rows.values.first.flatMap({ $0 }).flatMap({ Int64($0) }) else {
                throw SiteStoreError.unavailable("PostgreSQL answered a property write without its revision")
            }
            return revision == 1 ? .created : .updated
        } catch let error where Self.sqlState(of: error)?.state == "23503" {
            throw unknownOwner
        }
    }

    private func delete(in table: PostgresPropertyTable, owner: String, key: String) async throws -> Bool {
        try await pipelined(table.deleteStatement, [owner, key]).rowCount > 0
    }

    /// Every server reads the database itself, so there is no cache to invalidate.
    public func changeCounter() async throws -> Int? { nil }

    public func close() async throws {
        await stopWatching()
        await pipeline.close()
        running.cancel()
        await running.value
    }
}
