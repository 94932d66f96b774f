import ArgumentParser
import Foundation
import UnderstudyAuth
import UnderstudyCore
import UnderstudyServer

/// `understudy app …`
struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app", abstract: "Manage installed Connect apps.",
        subcommands: [AddAppCommand.self, InstallAppCommand.self, UninstallAppCommand.self])
}

/// `understudy app add`: installs a Connect app and prints its clientKey and sharedSecret.
struct AddAppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Install a Connect app and print its clientKey and sharedSecret.",
        discussion: """
            The app gets an app user (accountType "app") in atlassian-addons-admin and \
            jira-software-users unless --groups says otherwise. It signs requests with iss = --key.
            """
    )

    @Option(help: "The app key from the app's descriptor (the JWT's iss).")
    var key: String

    @Option(help: "The app's name (also the app user's display name).")
    var name: String

    @Option(
        help: ArgumentHelp(
            "Comma-separated Connect scopes: READ, WRITE, DELETE, PROJECT_ADMIN, ADMIN.", valueName: "S1,S2"))
    var scopes: String

    @Option(help: "This site's clientKey for the installation (default: a new jira:<uuid>).")
    var clientKey: String?

    @Option(help: "The shared secret the app signs with (default: a new random secret).")
    var sharedSecret: String?

    @Option(help: ArgumentHelp("Comma-separated groups of the app user.", valueName: "g1,g2"))
    var groups: String?

    @Option(help: "The app user's accountId (default: a new one).")
    var accountId: String?

    @OptionGroup var database: DatabaseOptions

    func parsedScopes() throws -> [ConnectScope] {
        try scopes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map {
            guard let scope = ConnectScope(rawValue: $0.uppercased()) else {
                let known = ConnectScope.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--scopes: unknown scope '\($0)' (known: \(known)).")
            }
            return scope
        }
    }

    func validate() throws {
        guard !key.isEmpty else { throw ValidationError("--key must not be empty.") }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--name must not be empty.")
        }
        _ = try parsedScopes()
        if let sharedSecret, sharedSecret.isEmpty { throw ValidationError("--shared-secret must not be empty.") }
    }

    func run() async throws {
        await reportingFailures {
            let app = ConnectApp(
                key: key, name: name, clientKey: clientKey ?? "jira:" + UUID().uuidString.lowercased(),
                sharedSecret: sharedSecret ?? APITokens.generateSharedSecret(), scopes: try parsedScopes(),
                accountId: accountId ?? AccountIds.generate())
            let groupList =
                groups.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                ?? ConnectApp.defaultGroups
            let appUser = User(
                accountId: app.accountId, accountType: .app, emailAddress: nil, displayName: name, groups: groupList)
            try await database.withStore(context: "cannot add the app") { store in
                if try await store.app(key: key) != nil {
                    throw SiteSetup.Failure(description: "an app with key \"\(key)\" is already installed", exitCode: 1)
                }
                try await store.load(Site(apps: [app], appUsers: [appUser]))
            }
            say("key:          \(app.key)")
            say("clientKey:    \(app.clientKey)")
            say("sharedSecret: \(app.sharedSecret)")
            say("accountId:    \(app.accountId)")
        }
    }
}

/// `understudy jwt`: a valid Connect JWT for one request, so curl can call Understudy as an app.
struct JWTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwt",
        abstract: "Print a Connect JWT that signs one request as an installed app.",
        discussion: """
            Example: curl -H "Authorization: JWT $(understudy jwt --app com.example.tour --url \
            '/rest/api/3/myself')" http://127.0.0.1:8080/rest/api/3/myself. The token is valid for \
            that method, path and query only (its qsh), for --lifetime seconds.
            """
    )

    @Option(help: "The key of the installed app that signs.")
    var app: String

    @Option(help: "The HTTP method of the request.")
    var method: String = "GET"

    @Option(help: "The request's path and query as it will be sent (a full URL is accepted too).")
    var url: String

    @Option(help: "Seconds until the token expires.")
    var lifetime: Int = 180

    @Flag(help: "Also print, on standard error, the canonical request and its qsh.")
    var canonical = false

    @OptionGroup var database: DatabaseOptions

    /// The path and query of `--url`, and the path of its base if a full URL was given.
    var target: Substring {
        guard let schemeEnd = url.range(of: "://") else { return Substring(url) }
        let rest = url[schemeEnd.upperBound...]
        return rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
    }

    func validate() throws {
        guard lifetime > 0 else { throw ValidationError("--lifetime must be a positive number of seconds.") }
        guard url.hasPrefix("/") || url.contains("://") else {
            throw ValidationError("--url must be a path such as /rest/api/3/myself, or a full URL.")
        }
    }

    func run() async throws {
        await reportingFailures {
            let found = try await database.withStore(context: "cannot read the apps") { try await $0.app(key: app) }
            guard let found else {
                throw SiteSetup.Failure(
                    description: "no app with key \"\(app)\" is installed in \(database.name)", exitCode: 1)
            }
            if canonical {
                let request = CanonicalRequest(method: method, target: target)
                FileHandle.standardError.write(
                    Data("canonical request: \(request)\nqsh: \(request.queryStringHash)\n".utf8))
            }
            say(
                ConnectJWT.sign(
                    appKey: found.key, sharedSecret: found.sharedSecret, method: method, target: target,
                    lifetime: TimeInterval(lifetime)))
        }
    }
}
