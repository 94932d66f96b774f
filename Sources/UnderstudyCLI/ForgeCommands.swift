import ArgumentParser
import UnderstudyCore
import UnderstudyServer

/// `understudy forge-app …`
struct ForgeAppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forge-app", abstract: "Manage the Forge apps installed on the site.",
        subcommands: [AddForgeAppCommand.self, ListForgeAppsCommand.self])
}

/// `understudy forge-app add`: installs a Forge app, with the app user its scopes imply.
struct AddForgeAppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Install a Forge app and print its appId, installationId and app user.",
        discussion:
            "With manage:jira-configuration among the scopes the app user administers Jira (it may use anyone's properties); otherwise it has Jira access only."
    )

    @Option(help: "The app's name (its app user's display name).")
    var name: String

    @Option(
        help: ArgumentHelp(
            "The manifest's permissions.scopes, space-separated (e.g. \"read:jira-user write:jira-work\").",
            valueName: "SCOPES"))
    var scopes: String

    @Option(help: "The manifest's app.connect.key, for an app that came from Connect.")
    var connectKey: String?

    @Option(help: "The app id, ari:cloud:ecosystem::app/<uuid> (default: a new one).")
    var appId: String?

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        await reportingFailures {
            var fields = [
                JSONMember("name", .string(name)),
                JSONMember(
                    "scopes",
                    .array(scopes.split(whereSeparator: { $0 == " " || $0 == "," }).map { .string(String($0)) })),
            ]
            if let connectKey { fields.append(JSONMember("connectKey", .string(connectKey))) }
            if let appId { fields.append(JSONMember("appId", .string(appId))) }
            let app: ForgeApp
            do {
                app = try SiteSetup.newForgeApp(fields)
            } catch let error as SiteFileError {
                throw SiteSetup.Failure(description: "invalid Forge app: \(error.path): \(error.problem)", exitCode: 2)
            }
            try await database.withStore(context: "cannot add the Forge app") { try await $0.forge.addForgeApp(app) }
            say("appId:          \(app.appId)")
            say("installationId: \(app.installationId)")
            say("app user:       \(app.accountId) (\(app.administersJira ? "administers Jira" : "Jira access only"))")
            say("scopes:         \(app.scopes.joined(separator: " "))")
            if let connectKey = app.connectKey { say("connectKey:     \(connectKey)") }
        }
    }
}

/// `understudy forge-app list`
struct ListForgeAppsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the Forge apps.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        await reportingFailures {
            let apps = try await database.withStore(context: "cannot list the Forge apps") {
                try await $0.forge.forgeApps()
            }
            for app in apps {
                say(
                    "\(app.appId)  \(app.name)  installation: \(app.installationId)  app user: \(app.accountId)  scopes: \(app.scopes.joined(separator: " "))"
                )
            }
        }
    }
}

/// `understudy forge …`
struct ForgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forge", abstract: "Act as Forge does for an installed Forge app.",
        subcommands: [ForgeTokenCommand.self])
}

/// `understudy forge token`: the tokens Forge hands a Forge Remote or a container.
struct ForgeTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mint an app system token (asApp) or, with --user, an app user token (asUser), valid 4 hours.",
        discussion: "Send it as Authorization: Bearer <token> to the API gateway, /ex/jira/{cloudId}/rest/api/3/…")

    @Option(help: "The Forge app's appId (understudy forge-app list shows them).")
    var app: String

    @Option(name: .customLong("user"), help: "The accountId of the person the token acts for.")
    var accountId: String?

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        await reportingFailures {
            let minted = try await database.withStore(context: "cannot mint the Forge token") { store in
                do {
                    return try await ForgeTokenMinter(store: store).mint(appId: app, accountId: accountId)
                } catch let refusal as ForgeTokenMinter.Refusal {
                    throw SiteSetup.Failure(description: refusal.description, exitCode: 1)
                }
            }
            say(minted.token)
        }
    }
}
