import ArgumentParser
import Foundation
import UnderstudyAuth
import UnderstudyCore
import UnderstudyServer

/// `understudy seed FILE`: loads a site file into a database without serving.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Load a site file (users, apps, properties) into a database.",
        discussion:
            "Loading upserts by accountId, app key and property key, so it can be repeated. A file with any error loads nothing."
    )

    @Argument(help: ArgumentHelp("The site file (JSON).", valueName: "FILE"))
    var file: String

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        await reportingFailures {
            let site = try SiteSetup.readSiteFile(file)
            try await database.withStore(context: "cannot load \(file)") { store in
                try await SiteSetup.load(site, into: store, file: file)
            }
            say(
                "Loaded \(file) into \(database.name): \(site.users.count) users, \(site.apps.count) apps, \(site.userProperties.count) user properties, \(site.appProperties.count) app properties."
            )
        }
    }
}

/// `understudy user …`
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage the site's users.", subcommands: [AddUserCommand.self])
}

/// `understudy user add`: creates a person and prints a new API token, once.
struct AddUserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create a user and print its accountId and a new API token (shown only once).",
        discussion: "Without --groups the user gets Jira access (jira-software-users); --admin adds site-admins."
    )

    @Option(help: "The e-mail address the user signs in with.")
    var email: String

    @Option(help: "The display name.")
    var name: String

    @Option(help: "The accountId (default: a new 24-hex-digit id).")
    var accountId: String?

    @Option(help: ArgumentHelp("Comma-separated groups, e.g. jira-software-users,site-admins.", valueName: "g1,g2"))
    var groups: String?

    @Flag(help: "Make the user a site administrator (adds the site-admins group).")
    var admin = false

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard email.contains("@") else { throw ValidationError("--email must be an e-mail address, not '\(email)'.") }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--name must not be empty.")
        }
        if let accountId, accountId.isEmpty || accountId.count > User.maximumAccountIdLength {
            throw ValidationError("--account-id must be 1 to \(User.maximumAccountIdLength) characters.")
        }
    }

    func run() async throws {
        await reportingFailures {
            var groupList =
                groups.map {
                    $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                }
                ?? ["jira-software-users"]
            if admin && !groupList.contains("site-admins") { groupList.append("site-admins") }
            let token = APITokens.generate()
            let user = User(
                accountId: accountId ?? AccountIds.generate(), emailAddress: email, displayName: name,
                groups: groupList, apiTokenHashes: [APITokens.hash(token)])
            try await database.withStore(context: "cannot add the user") { try await $0.addUser(user) }
            say("accountId: \(user.accountId)")
            say("apiToken:  \(token)")
        }
    }
}

/// `understudy token …`
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens.", subcommands: [CreateTokenCommand.self])
}

/// `understudy token create`: a new API token for an existing user.
struct CreateTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Print a new API token for an existing user (shown only once).")

    @Option(help: "The e-mail address of the user.")
    var email: String

    @Option(
        help: ArgumentHelp(
            "Make a scoped API token with these scopes (space-separated, e.g. \"read:jira-user write:jira-work\"): accepted only through the API gateway.",
            valueName: "SCOPES"))
    var scopes: String?

    @OptionGroup var database: DatabaseOptions

    var scopeList: [String] { (scopes ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) }

    func validate() throws {
        if scopes != nil, scopeList.isEmpty {
            throw ValidationError("--scopes needs at least one scope, e.g. --scopes \"read:jira-user\".")
        }
    }

    func run() async throws {
        await reportingFailures {
            let token = APITokens.generate()
            let user = try await database.withStore(context: "cannot create a token") {
                try await $0.addAPITokenHash(APITokens.hash(token), scopes: scopeList, emailAddress: email)
            }
            say("accountId: \(user.accountId)")
            say("apiToken:  \(token)")
            if !scopeList.isEmpty {
                say(
                    "scopes:    \(scopeList.joined(separator: " "))  (a scoped token: use it through the API gateway, /ex/jira/{cloudId}/…)"
                )
            }
        }
    }
}
