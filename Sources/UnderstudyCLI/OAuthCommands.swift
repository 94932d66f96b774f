import ArgumentParser
import UnderstudyCore
import UnderstudyServer

/// `understudy oauth-app …`
struct OAuthAppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oauth-app", abstract: "Manage OAuth 2.0 (3LO) apps.",
        subcommands: [AddOAuthAppCommand.self, ListOAuthAppsCommand.self])
}

/// `understudy oauth-app add`: registers an OAuth 2.0 integration, as the developer console does.
struct AddOAuthAppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register an OAuth 2.0 app and print its client_id and a new client_secret (shown only once).")

    @Option(help: "The app's name, shown on the consent page.")
    var name: String

    @Option(
        name: .customLong("callback"),
        help: ArgumentHelp("A callback URL; redirect_uri must equal one exactly. Repeat for several.", valueName: "URL")
    )
    var callbacks: [String] = []

    @Option(
        help: ArgumentHelp(
            "The scopes the app may request, space-separated (e.g. \"read:jira-user write:jira-work offline_access\").",
            valueName: "SCOPES"))
    var scopes: String

    @Option(help: "A client_id of your choosing (default: a random one).")
    var clientId: String?

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if callbacks.isEmpty { throw ValidationError("Give at least one --callback URL.") }
    }

    func run() async throws {
        await reportingFailures {
            var fields = [
                JSONMember("name", .string(name)),
                JSONMember("callbackUrls", .array(callbacks.map(JSONValue.string))),
                JSONMember(
                    "scopes",
                    .array(scopes.split(whereSeparator: { $0 == " " || $0 == "," }).map { .string(String($0)) })),
            ]
            if let clientId { fields.append(JSONMember("clientId", .string(clientId))) }
            let app: OAuthApp
            let secret: String
            do {
                (app, secret) = try SiteSetup.newOAuthApp(fields)
            } catch let error as SiteFileError {
                throw SiteSetup.Failure(description: "invalid OAuth app: \(error.path): \(error.problem)", exitCode: 2)
            }
            try await database.withStore(context: "cannot add the OAuth app") { try await $0.oauth.addOAuthApp(app) }
            say("clientId:     \(app.clientId)")
            say("clientSecret: \(secret)")
            say("callbacks:    \(app.callbackUrls.joined(separator: " "))")
            say("scopes:       \(app.scopes.joined(separator: " "))")
        }
    }
}

/// `understudy oauth-app list`
struct ListOAuthAppsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the OAuth 2.0 apps.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        await reportingFailures {
            let apps = try await database.withStore(context: "cannot list the OAuth apps") {
                try await $0.oauth.oauthApps()
            }
            for app in apps {
                say(
                    "\(app.clientId)  \(app.name)  callbacks: \(app.callbackUrls.joined(separator: " "))  scopes: \(app.scopes.joined(separator: " "))"
                )
            }
        }
    }
}
