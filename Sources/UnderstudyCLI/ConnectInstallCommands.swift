import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import UnderstudyCore
import UnderstudyServer

/// Where a running server is and the control token that drives it: for commands that act on a
/// server rather than on a database.
struct RunningServerOptions: ParsableArguments {
    @Option(help: "The running server's base URL (default: $UNDERSTUDY_URL, else http://127.0.0.1:8080).")
    var server: String?

    @Option(help: "The server's control token (default: $UNDERSTUDY_CONTROL_TOKEN); serve prints it.")
    var controlToken: String?

    var baseURL: String {
        var url = server ?? ProcessInfo.processInfo.environment["UNDERSTUDY_URL"] ?? "http://127.0.0.1:8080"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    func token() throws -> String {
        guard let token = controlToken ?? ProcessInfo.processInfo.environment["UNDERSTUDY_CONTROL_TOKEN"],
            !token.isEmpty
        else {
            throw SiteSetup.Failure(
                description:
                    "no control token: pass --control-token or set UNDERSTUDY_CONTROL_TOKEN (serve prints the token, or start it with --control-token).",
                exitCode: 1)
        }
        return token
    }

    /// Sends one control request; returns the status and the parsed JSON body.
    func send(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws -> (Int, JSONValue) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(try token())")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText))
        }
        do {
            // Installs wait for the app: up to 10 s per lifecycle call, and a descriptor fetch.
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let bytes = try await response.body.collect(upTo: 4 * 1024 * 1024)
            let json = (try? JSONParser.parse(bytes.readableBytesView)) ?? .null
            return (Int(response.status.code), json)
        } catch {
            throw SiteSetup.Failure(
                description: "cannot reach the server at \(baseURL): \(error). Is understudy serve running?",
                exitCode: 1)
        }
    }
}

/// `understudy app install URL`: Jira's install of a Connect app from its descriptor (spec 13).
struct InstallAppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a Connect app into a running server from its descriptor URL.",
        discussion: """
            Fetches the descriptor, creates the installation (a new clientKey and shared secret; a \
            re-install keeps the clientKey and rotates the secret) and calls the app's installed and \
            enabled lifecycle URLs signed as Jira Cloud signs them: installed with RS256 and the key \
            at <server>/connect-install-keys/<kid>, enabled with HS256. Exit status: 0 installed (or, \
            with --tamper, the app refused the bad call), 2 the descriptor could not be fetched or is \
            invalid, 3 the install is incomplete (or, with --tamper, the app accepted the bad call).
            """
    )

    @Argument(help: "The descriptor's URL, for example http://localhost:3000/atlassian-connect.json.")
    var descriptorURL: String

    @Flag(help: "Sign as for apps that predate signed installs: the first install unsigned, later ones HS256.")
    var legacy = false

    @Option(
        help: ArgumentHelp(
            "Sign installed wrongly on purpose: \(ConnectLifecycleTamper.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "mode"))
    var tamper: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var serverOptions: RunningServerOptions

    func validate() throws {
        if let tamper, ConnectLifecycleTamper(rawValue: tamper) == nil {
            throw ValidationError(
                "--tamper must be one of \(ConnectLifecycleTamper.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
    }

    func run() async throws {
        await reportingFailures {
            var members = [JSONMember("descriptorUrl", .string(descriptorURL))]
            members.append(JSONMember("signing", .string(legacy ? "legacy" : "signed")))
            if let tamper { members.append(JSONMember("tamper", .string(tamper))) }
            let (status, result) = try await serverOptions.send(
                .POST, "/_understudy/connect/installations", body: .object(members))
            try report(status: status, result: result, json: json)
        }
    }
}

/// `understudy app uninstall KEY`: calls disabled and uninstalled, then marks the app uninstalled.
struct UninstallAppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Uninstall a Connect app from a running server (calls its disabled and uninstalled URLs).",
        discussion: """
            The app's properties and shared secret are kept, so installing it again is a re-install. \
            Exit status: 0 uninstalled, 2 no such app (or one added by hand, without a descriptor).
            """
    )

    @Argument(help: "The app key.")
    var key: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var serverOptions: RunningServerOptions

    func run() async throws {
        await reportingFailures {
            let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
            let (status, result) = try await serverOptions.send(
                .DELETE, "/_understudy/connect/installations/\(encoded)")
            try report(status: status, result: result, json: json)
        }
    }
}

/// Prints an install or uninstall result and exits with its status (0, 2 or 3).
private func report(status: Int, result: JSONValue, json: Bool) throws {
    guard case .object(let members) = result else {
        throw SiteSetup.Failure(description: "the server answered \(status) without a result", exitCode: 1)
    }
    let field = { (name: String) -> JSONValue? in members.first { $0.name == name }?.value }
    let text = { (name: String) -> String? in if case .string(let value)? = field(name) { value } else { nil } }
    guard let outcome = text("outcome") else {
        let message =
            if case .array(let messages)? = field("errorMessages"), case .string(let first)? = messages.first {
                first
            } else {
                result.jsonText
            }
        throw SiteSetup.Failure(description: "the server refused the request (\(status)): \(message)", exitCode: 2)
    }
    if json {
        say(result.jsonText)
    } else {
        let key = text("key") ?? "?"
        switch outcome {
        case "installed":
            say("Installed \(key) (clientKey \(text("clientKey") ?? "?")) from \(text("descriptorUrl") ?? "?")")
        case "uninstalled": say("Uninstalled \(key)")
        case "tampered": say("Tampered install of \(key) (\(text("tamper") ?? "?"))")
        case "incomplete": say("The install of \(key) is incomplete")
        default: say("Nothing was installed")
        }
        if case .array(let calls)? = field("calls") {
            for case .object(let call) in calls {
                let value = { (name: String) -> String in
                    switch call.first(where: { $0.name == name })?.value {
                    case .string(let text)?: text
                    case .number(let text)?: text
                    default: "-"
                    }
                }
                say(
                    "  \(value("event").padding(toLength: 11, withPad: " ", startingAt: 0)) POST \(value("url")) → \(value("status")) in \(value("durationMs")) ms (\(value("authorization")))"
                )
                if let explanation = call.first(where: { $0.name == "explanation" }),
                    case .string(let why) =
                        explanation.value
                {
                    say("    \(why)")
                }
            }
        }
    }
    let problem = text("problem") ?? outcome
    switch outcome {
    case "installed", "uninstalled": return
    case "tampered":
        if case .bool(true)? = field("appRefused") {
            if !json { say(problem) }
            return
        }
        throw SiteSetup.Failure(description: problem, exitCode: 3)
    case "incomplete": throw SiteSetup.Failure(description: problem, exitCode: 3)
    default: throw SiteSetup.Failure(description: problem, exitCode: 2)
    }
}
