import ArgumentParser
import Foundation
import UnderstudyCore
import UnderstudyServer

/// `understudy`: a local stand-in for Jira Cloud's users, user properties and app data.
public struct UnderstudyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "understudy",
        abstract: "A local stand-in for Jira Cloud's REST API for users, user properties and app data.",
        discussion: """
            Start a site with `understudy serve` and point any Jira client at the URL it prints. \
            Users, apps and properties live in an SQLite file (--database, default understudy.sqlite).
            """,
        version: UnderstudyVersion.current,
        subcommands: [
            ServeCommand.self, SeedCommand.self, UserCommand.self, TokenCommand.self, AppCommand.self, JWTCommand.self,
            PropsCommand.self, OAuthAppCommand.self, ForgeAppCommand.self, ForgeCommand.self,
        ]
    )

    public init() {}
}

/// The `--database` option every command shares.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The SQLite file that holds the site (created if missing, WAL mode), :memory: to keep everything in memory, or a postgres://user:password@host:port/database URL.",
            valueName: "PATH|URL"))
    var database: String = "understudy.sqlite"

    /// The database as messages name it: a URL's password left out.
    var name: String { SiteSetup.describe(database: database) }

    /// Opens the store, runs `body` and closes the store whatever happens. A refused write
    /// becomes a one-line failure that starts with `context` ("cannot add the user: …").
    func withStore<T>(context: String, _ body: (any SiteStore) async throws -> T) async throws -> T {
        let store = try await SiteSetup.openStore(database: database)
        let result: T
        do {
            result = try await body(store)
        } catch let error as SiteStoreError {
            try? await store.close()
            throw SiteSetup.Failure(description: "\(context): \(error)", exitCode: 1)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        return result
    }
}

/// Prints a one-line error and ends the process with `code`.
func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("understudy: error: \(message)\n".utf8))
    exit(code)
}

/// Runs `body`, turning any failure into one line on standard error and a non-zero exit.
func reportingFailures<T>(_ body: () async throws -> T) async -> T {
    do {
        return try await body()
    } catch let failure as SiteSetup.Failure {
        fail(failure.description, code: failure.exitCode)
    } catch {
        fail("\(error)", code: 1)
    }
}

/// Writes a line to standard output at once (unbuffered), so that a process reading our output
/// sees the credentials and the URL as soon as they are printed.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension UnderstudyCommand {
    /// The process entry point: parses the command line and runs the chosen subcommand.
    public static func start() async {
        await main()
    }
}
