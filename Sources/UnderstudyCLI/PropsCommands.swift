import ArgumentParser
import Foundation
import UnderstudyClient
import UnderstudyCore

/// `understudy props`: user properties on any Jira Cloud site (or Understudy), from scripts.
///
/// Exit codes: 0 done; 3 not found (404); 4 not authenticated or not permitted (401, 403);
/// 5 rate-limited or unavailable after retries, or no answer (429, 5xx, network); 1 any other
/// refusal; 64 a usage mistake.
struct PropsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "props",
        abstract: "List, read, write and delete user properties on a Jira Cloud site or Understudy.",
        discussion: """
            Authenticate with --email and --token (an API token), as a Connect app with --app-key and \
            --shared-secret, or with an OAuth 2.0 access token (--bearer) against the API gateway's URL \
            (--site https://api.atlassian.com/ex/jira/CLOUD_ID, or Understudy's BASE/ex/jira/CLOUD_ID); each \
            may come from JIRA_SITE, JIRA_EMAIL, JIRA_API_TOKEN, JIRA_APP_KEY, JIRA_SHARED_SECRET and \
            JIRA_ACCESS_TOKEN instead. A scoped API token is --email and --token with the gateway's URL. Output is JSON. Exit codes: 0 done, 3 not found, 4 not \
            authenticated or not permitted, 5 rate-limited or unavailable, 1 other refusals, 64 usage.
            """,
        subcommands: [List.self, Get.self, Set.self, Delete.self]
    )

    struct Connection: ParsableArguments {
        @Option(help: ArgumentHelp("The site's base URL (or JIRA_SITE).", valueName: "URL"))
        var site: String?
        @Option(help: "The user whose properties these are.")
        var accountId: String
        @Option(help: ArgumentHelp("E-mail for Basic auth (or JIRA_EMAIL).", valueName: "E"))
        var email: String?
        @Option(help: ArgumentHelp("API token for Basic auth (or JIRA_API_TOKEN).", valueName: "T"))
        var token: String?
        @Option(help: ArgumentHelp("Connect app key (or JIRA_APP_KEY).", valueName: "K"))
        var appKey: String?
        @Option(help: ArgumentHelp("Connect shared secret (or JIRA_SHARED_SECRET).", valueName: "S"))
        var sharedSecret: String?
        @Option(
            help: ArgumentHelp(
                "An OAuth 2.0 access token, sent as Authorization: Bearer (or JIRA_ACCESS_TOKEN); --site is then the gateway's URL.",
                valueName: "T"))
        var bearer: String?

        func client() throws -> JiraClient {
            let environment = ProcessInfo.processInfo.environment
            guard let site = site ?? environment["JIRA_SITE"] else {
                throw ValidationError("Name the site with --site URL (or JIRA_SITE).")
            }
            let email = email ?? environment["JIRA_EMAIL"]
            let token = token ?? environment["JIRA_API_TOKEN"]
            let appKey = appKey ?? environment["JIRA_APP_KEY"]
            let secret = sharedSecret ?? environment["JIRA_SHARED_SECRET"]
            let accessToken = bearer ?? environment["JIRA_ACCESS_TOKEN"]
            let authentication: JiraClient.Authentication
            switch (email, token, appKey, secret, accessToken) {
            case (let email?, let token?, nil, nil, nil): authentication = .basic(email: email, apiToken: token)
            case (nil, nil, let appKey?, let secret?, nil):
                authentication = .connect(appKey: appKey, sharedSecret: secret)
            case (nil, nil, nil, nil, let accessToken?): authentication = .bearer(accessToken)
            default:
                throw ValidationError(
                    "Authenticate with --email and --token, with --app-key and --shared-secret, or with --bearer (one only)."
                )
            }
            do {
                return try JiraClient(site: site, authentication: authentication)
            } catch let error as JiraClientUsageError {
                throw ValidationError(error.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a user's property keys.")
        @OptionGroup var connection: Connection
        func run() async throws {
            let client = try connection.client()
            await calling {
                let keys = try await client.userPropertyKeys(accountId: connection.accountId)
                say(JSONValue.object([JSONMember("keys", .array(keys.map(JSONValue.string)))]).jsonText)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a property's value (JSON).")
        @OptionGroup var connection: Connection
        @Argument(help: "The property key.") var key: String
        func run() async throws {
            let client = try connection.client()
            await calling { say(try await client.rawUserProperty(key, accountId: connection.accountId)) }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace a property; prints whether it was created or updated.")
        @OptionGroup var connection: Connection
        @Argument(help: "The property key.") var key: String
        @Argument(help: "The value, as JSON (a string needs its quotes: '\"text\"').") var value: String

        func validate() throws {
            guard JSONParser.isValid(Array(value.utf8)) else {
                throw ValidationError("The value must be JSON; a string needs its quotes, e.g. '\"text\"'.")
            }
        }

        func run() async throws {
            let client = try connection.client()
            await calling {
                let outcome = try await client.setRawUserProperty(key, accountId: connection.accountId, json: value)
                say(
                    JSONValue.object([
                        JSONMember("key", .string(key)),
                        JSONMember("outcome", .string(outcome == .created ? "created" : "updated")),
                    ]).jsonText)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a property.")
        @OptionGroup var connection: Connection
        @Argument(help: "The property key.") var key: String
        func run() async throws {
            let client = try connection.client()
            await calling {
                try await client.deleteUserProperty(key, accountId: connection.accountId)
                say(JSONValue.object([JSONMember("key", .string(key)), JSONMember("deleted", .bool(true))]).jsonText)
            }
        }
    }
}

/// Runs one call; a refusal becomes one line on standard error and the exit code scripts rely on.
func calling(_ body: () async throws -> Void) async {
    do {
        try await body()
    } catch let error as JiraClientError {
        let code: Int32 =
            switch error.status {
            case 404: 3
            case 401, 403: 4
            case 429, 500...599: 5
            default: 1
            }
        fail(error.description, code: code)
    } catch {
        fail("no answer: \(error)", code: 5)
    }
}
