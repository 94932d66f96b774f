import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import UnderstudyAuth
import UnderstudyCore
import UnderstudyServer

/// `understudy serve`: runs a site until SIGINT or SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a Jira Cloud site on a local port.",
        discussion: """
            With no --seed and an empty database, the site starts with demo users and an app, and \
            prints their credentials. Stop it with Ctrl-C (SIGINT) or SIGTERM: requests in flight \
            finish and the database is closed cleanly.
            """
    )

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on (0 picks a free port).")
    var port: Int = 8080

    @OptionGroup var database: DatabaseOptions

    @Option(
        help: ArgumentHelp(
            "A site file (JSON) to load before serving; loading it again is harmless.", valueName: "FILE"))
    var seed: String?

    @Option(help: ArgumentHelp("The base URL used in every self link (default http://HOST:PORT).", valueName: "URL"))
    var baseURL: String?

    @Flag(help: "Leave out the X-Understudy-Explain header (for shared instances).")
    var noExplain = false

    @Option(help: ArgumentHelp("Close a connection that sends nothing for this long.", valueName: "SECONDS"))
    var idleTimeout: Double = 30

    @Option(
        help: ArgumentHelp(
            "Close a connection whose request is not complete this long after its first byte.",
            valueName: "SECONDS"))
    var requestTimeout: Double = 10

    @Option(
        help: ArgumentHelp(
            "The token of the control API under /_understudy/ (default: a random one, printed at start).",
            valueName: "TOKEN"))
    var controlToken: String?

    @Option(help: ArgumentHelp("How many requests the request journal keeps.", valueName: "N"))
    var journalSize = 1000

    @Option(help: "The log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        if let controlToken, controlToken.count < 8 || controlToken.contains(where: { $0.isWhitespace }) {
            throw ValidationError("--control-token must be at least 8 characters without spaces.")
        }
        guard journalSize >= 0 else { throw ValidationError("--journal-size must be 0 or more, not \(journalSize).") }
        guard (0...65535).contains(port) else {
            throw ValidationError("--port must be between 0 and 65535, not \(port).")
        }
        for (name, seconds) in [("--idle-timeout", idleTimeout), ("--request-timeout", requestTimeout)]
        where !(seconds > 0 && seconds <= 86_400) {
            throw ValidationError("\(name) must be a number of seconds above 0 and at most 86400, not \(seconds).")
        }
        if let baseURL, !(baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://")) {
            throw ValidationError("--base-url must start with http:// or https://, not '\(baseURL)'.")
        }
    }

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in ConsoleLogHandler(label: label, logLevel: level) }
        let logger = Logger(label: "understudy")
        await reportingFailures {
            // A bad site file is found before the database is touched or the port is bound.
            let site = try seed.map(SiteSetup.readSiteFile)
            try await database.withStore(context: "cannot load the site") { store in
                if let site, let seed {
                    try await SiteSetup.load(site, into: store, file: seed)
                    say("Loaded site file \(seed): \(site.users.count) users, \(site.apps.count) apps.")
                } else if try await store.isEmpty() {
                    try await store.load(SiteSetup.demoSite())
                    printDemoCredentials()
                }
                let identity = try await SiteSetup.ensureIdentity(of: store)
                // Before the state is saved for reset: what no longer works is not copied at every start.
                let purged = try await store.oauth.purgeExpired(now: Date())
                if purged > 0 { say("Removed \(purged) expired OAuth 2.0 codes, access tokens and token families.") }
                let purgedForge = try await store.forge.purgeExpiredForgeTokens(now: Date())
                if purgedForge > 0 { say("Removed \(purgedForge) expired Forge tokens.") }
                var configuration = ServerConfiguration(
                    host: host, port: port, baseURL: baseURL, explain: !noExplain)
                configuration.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
                configuration.requestTimeout = .milliseconds(Int64(requestTimeout * 1000))
                configuration.journalCapacity = journalSize
                let token = controlToken ?? APITokens.randomHex(byteCount: 16)
                configuration.controlToken = token
                // What the control API's reset goes back to: the site as it is once loaded.
                try await store.saveState()
                let configuredBase = configuration.baseURL
                let app = buildApplication(
                    configuration: configuration, store: store, logger: logger,
                    onServerRunning: { boundPort in
                        let hostInURL = host.contains(":") ? "[\(host)]" : host
                        let listening = "http://\(hostInURL):\(boundPort)"
                        let base = baseURL != nil ? configuredBase : listening
                        // Everything a script needs is printed before the line it waits for.
                        if baseURL != nil { say("Links (self) use the base URL \(base)") }
                        say("Site cloudId \(identity.cloudId); the API gateway is \(base)/ex/jira/\(identity.cloudId)")
                        say(
                            "Connect installs: understudy app install DESCRIPTOR_URL; apps verify them with the keys at \(base)/connect-install-keys (ACE: CONNECT_KEYS_CDN_URL=\(base)/connect-install-keys)"
                        )
                        if controlToken == nil {
                            say("Control API token: \(token)  (console: \(base)/_understudy/console)")
                        }
                        say("Understudy is listening on \(listening)")
                    })
                do {
                    try await app.runService()
                } catch let error as IOError where error.errnoCode == EADDRINUSE {
                    throw SiteSetup.Failure(
                        description:
                            "cannot listen on \(host):\(port): the address is already in use (is another server running?)",
                        exitCode: 1)
                }
            }
            logger.notice("Understudy stopped; the database is closed.")
        }
    }

    private func printDemoCredentials() {
        say("Loaded the demo site. Credentials (e-mail, API token, accountId):")
        for credential in DemoSite.credentials {
            say("  \(credential.emailAddress)  \(credential.apiToken)  \(credential.accountId)  (\(credential.role))")
        }
        say(
            "  Connect app \(DemoSite.app.key): clientKey \(DemoSite.app.clientKey), sharedSecret \(DemoSite.app.sharedSecret)"
        )
        let oauth = DemoSite.oauthApp
        say(
            "  OAuth 2.0 app: client_id \(oauth.clientId), client_secret \(oauth.clientSecret), callback \(oauth.callbackUrl), scopes \(oauth.scopes)"
        )
        let scoped = DemoSite.scopedToken
        say("  Scoped API token (gateway only): \(scoped.emailAddress)  \(scoped.token)  (\(scoped.scopes))")
        let forge = DemoSite.forgeApp
        say(
            "  Forge app \(forge.name): appId \(forge.appId), installationId \(forge.installationId) (tokens: understudy forge token --app APP_ID [--user ACCOUNT_ID])"
        )
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
