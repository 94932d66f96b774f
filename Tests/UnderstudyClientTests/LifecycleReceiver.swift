import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnderstudyCore

/// A Connect app in the test process, as small as can be: it serves a descriptor under a path
/// prefix and records every lifecycle call it receives, answering as the test tells it to.
final class LifecycleReceiver: Sendable {
    /// One call the app received.
    struct Received: Sendable {
        let path: String
        let authorization: String?
        let body: JSONValue

        var token: String? {
            authorization.flatMap { $0.hasPrefix("JWT ") ? String($0.dropFirst(4)) : nil }
        }
        func field(_ name: String) -> String? {
            guard case .object(let members) = body,
                case .string(let value)? = members.first(where: { $0.name == name })?.value
            else { return nil }
            return value
        }
        func has(_ name: String) -> Bool {
            guard case .object(let members) = body else { return false }
            return members.contains { $0.name == name }
        }
    }

    private struct State {
        var received: [Received] = []
        var status: [String: Int] = [:]
        var answerBody = ""
        var hang: Duration = .zero
        var descriptor: String = ""
    }

    private let state = Mutex(State())
    let port: Int
    let prefix: String
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    var baseUrl: String { "http://127.0.0.1:\(port)\(prefix)" }
    var descriptorUrl: String { baseUrl + "/atlassian-connect.json" }
    var received: [Received] { state.withLock { $0.received } }

    /// The lifecycle events that reached the app, in order.
    var events: [String] { received.map { String($0.path.split(separator: "/").last ?? "") } }

    /// Answers `status` (and `body`) to `event` from now on; 204 otherwise.
    func answer(_ event: String, status: Int, body: String = "") {
        state.withLock {
            $0.status[event] = status
            $0.answerBody = body
        }
    }

    /// Makes every lifecycle call wait this long before answering.
    func hang(for duration: Duration) { state.withLock { $0.hang = duration } }

    /// Replaces the descriptor the app serves.
    func serve(descriptor: String) { state.withLock { $0.descriptor = descriptor } }

    /// A descriptor with every lifecycle event, at this app's baseUrl.
    func standardDescriptor(key: String, scopes: [String] = ["read", "write"]) -> String {
        """
        {"key": "\(key)", "name": "Receiver \(key)", "baseUrl": "\(baseUrl)",
         "authentication": {"type": "jwt"}, "scopes": [\(scopes.map { "\"\($0)\"" }.joined(separator: ", "))],
         "apiMigrations": {"signed-install": true, "context-qsh": true},
         "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled",
                       "enabled": "/enabled", "disabled": "/disabled"}}
        """
    }

    static func start(prefix: String = "/app") async throws -> LifecycleReceiver {
        let router = Router()
        let box = Mutex<LifecycleReceiver?>(nil)
        router.get("\(prefix)/atlassian-connect.json") { _, _ -> Response in
            let descriptor = box.withLock { $0?.state.withLock { $0.descriptor } } ?? ""
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: descriptor)))
        }
        router.post("\(prefix)/:event") { request, context -> Response in
            let bytes = try await request.body.collect(upTo: 1024 * 1024)
            let body = (try? JSONParser.parse(bytes.readableBytesView)) ?? .null
            let event = context.parameters.get("event") ?? ""
            guard let receiver = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            let (hang, status, answer) = receiver.state.withLock { state in
                state.received.append(
                    Received(path: request.uri.path, authorization: request.headers[.authorization], body: body))
                return (state.hang, state.status[event] ?? 204, state.answerBody)
            }
            if hang > .zero { try await Task.sleep(for: hang) }
            return Response(
                status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let logger = Logger(label: "receiver", factory: { _ in SwiftLogNoOpLogHandler() })
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
        let running = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        let receiver = LifecycleReceiver(port: port, prefix: prefix, group: group, running: running)
        box.withLock { $0 = receiver }
        return receiver
    }

    private init(port: Int, prefix: String, group: ServiceGroup, running: Task<Void, any Error>) {
        self.port = port
        self.prefix = prefix
        self.group = group
        self.running = running
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await running.result
    }
}
