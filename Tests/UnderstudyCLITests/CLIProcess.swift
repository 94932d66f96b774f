import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs the real `understudy` executable the way a user does, in a scratch directory.
struct CLIProcess {
    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    static var executable: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("understudy")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/debug/understudy")
    }

    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
        return path(name)
    }

    /// Runs a command to its end (bounded at 60 s).
    func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }

    /// A running `understudy serve`, stopped with SIGTERM by `stop()`.
    final class Server {
        let process: Process
        let baseURL: String
        let output: Pipe

        init(process: Process, baseURL: String, output: Pipe) {
            self.process = process
            self.baseURL = baseURL
            self.output = output
        }

        /// Stops the server if a failed expectation left it running, so no test leaves a process behind.
        func stopIfRunning() {
            if process.isRunning { _ = stop() }
        }

        /// Sends SIGTERM and waits (bounded) for a clean exit; returns the exit status.
        func stop() -> Int32 {
            process.terminate()
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// Starts `understudy serve --port 0 …` and waits for the line with the URL it listens on.
    func serve(_ arguments: [String]) throws -> (Server, String) {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve", "--port", "0"] + arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var printed = ""
        let handle = output.fileHandleForReading
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            printed += String(decoding: chunk, as: UTF8.self)
            if let range = printed.range(of: "Understudy is listening on ") {
                let url = printed[range.upperBound...].prefix { !$0.isNewline }
                if printed[range.upperBound...].contains("\n") {
                    return (Server(process: process, baseURL: String(url), output: output), printed)
                }
            }
        }
        process.terminate()
        throw CLIError(message: "the server did not print its URL; it printed: \(printed)")
    }

    struct CLIError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

/// A minimal HTTP call for live tests.
func http(
    _ method: String, _ url: String, email: String? = nil, token: String? = nil, authorization: String? = nil,
    body: String? = nil
) async throws -> (status: Int, body: String, headers: [String: String]) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    if let email, let token {
        request.setValue(
            "Basic " + Data("\(email):\(token)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
    }
    if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
    if let body { request.httpBody = Data(body.utf8) }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    var headers: [String: String] = [:]
    for (name, value) in http.allHeaderFields {
        headers[String(describing: name).lowercased()] = String(describing: value)
    }
    return (http.statusCode, String(decoding: data, as: UTF8.self), headers)
}
