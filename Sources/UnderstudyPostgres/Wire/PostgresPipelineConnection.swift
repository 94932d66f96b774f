import NIOCore
import NIOPosix
import Synchronization

/// A statement a pipelined connection parses once, when it opens, and then runs by name.
struct PostgresStatement: Sendable {
    let name: String
    let sql: String

    /// A read can be sent again when its connection was lost before it was answered.
    var isRead: Bool { sql.hasPrefix("SELECT ") }
}

/// What a statement returned: its rows' columns in text, row after row.
struct PostgresPipelineRows: Sendable {
    var values: [String?] = []
    var rowCount = 0
}

/// One PostgreSQL connection that sends each statement as soon as it is asked for, without waiting
/// for the answers to earlier ones (the protocol's pipelining): the statements of many requests
/// share one write and one read on each side, and a statement is one Bind/Execute/Sync of a
/// statement parsed when the connection opened. The answers come back in order, each ending with
/// ReadyForQuery, and go to the callers in the order they asked.
///
/// Each statement is its own implicit transaction (Sync commits it before the answer), so an
/// answered write is in the database for every other connection. PostgreSQL ends a statement that
/// runs longer than `statement_timeout` itself; if the server stops answering altogether, the
/// connection fails every waiting statement after `backstop` and closes.
final class PostgresPipelineConnection: Sendable {
    private let channel: any Channel
    private let queue: PipelineQueue

    private init(channel: any Channel, queue: PipelineQueue) {
        self.channel = channel
        self.queue = queue
    }

    /// Whether statements can still be sent on this connection.
    var isUsable: Bool { queue.isUsable }

    /// Connects and authenticates as `applicationName`, runs `settings` (commands such as
    /// `SET statement_timeout = 3000`, sent after start-up rather than as start-up parameters,
    /// which connection poolers such as PgBouncer refuse) and parses `statements`, all within
    /// `timeout`.
    static func open(
        host: String, port: Int, user: String, password: String?, database: String, applicationName: String,
        settings: [String], statements: [PostgresStatement], timeout: TimeAmount, backstop: TimeAmount
    ) async throws -> PostgresPipelineConnection {
        let queue = PipelineQueue()
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let ready = eventLoop.makePromise(of: Void.self)
        let startup = PipelineHandler.Startup(
            user: user, password: password, database: database, applicationName: applicationName,
            settings: settings, statements: statements,
            timeout: timeout, backstop: backstop)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    do {
                        try channel.pipeline.syncOperations.addHandler(
                            PipelineHandler(startup: startup, queue: queue, ready: ready))
                        return channel.eventLoop.makeSucceededVoidFuture()
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            let failure = PostgresPipelineError.cannotConnect(
                Self.describeConnectFailure(error, host: host, port: port))
            ready.fail(failure)  // the handler may be waiting on it; nobody else will complete it
            throw failure
        }
        try await ready.futureResult.get()
        return PostgresPipelineConnection(channel: channel, queue: queue)
    }

    private static func describeConnectFailure(_ error: any Error, host: String, port: Int) -> String {
        let detail = "\(error)"
        if detail.contains("refused") { return "nothing accepts connections at \(host):\(port)" }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return "connecting to \(host):\(port) timed out"
        }
        return "cannot connect to \(host):\(port) (\(detail))"
    }

    /// Sends the statement with its text parameters and waits for its rows.
    func run(_ statement: PostgresStatement, _ parameters: [String]) async throws -> PostgresPipelineRows {
        try await withUnsafeThrowingContinuation { continuation in
            switch queue.enqueue(statement: statement.name, parameters: parameters, continuation: continuation) {
            case .refused(let failure): continuation.resume(throwing: failure)
            case .queued: break
            case .queuedFirst:
                let queue = self.queue
                let channel = self.channel
                channel.eventLoop.execute {
                    if let outbound = queue.takeOutbound() { channel.writeAndFlush(outbound, promise: nil) }
                }
            }
        }
    }

    func close() async {
        let queue = self.queue
        let channel = self.channel
        try? await channel.eventLoop.submit {
            queue.close()
            var goodbye = ByteBuffer()
            PostgresWire.writeTerminate(into: &goodbye)
            channel.writeAndFlush(goodbye, promise: nil)
        }.get()
        try? await channel.close()
    }
}

/// The statements waiting for answers and the bytes not yet written, shared by the callers (any
/// thread) and the connection's event loop.
private final class PipelineQueue: Sendable {
    struct Waiter {
        let continuation: UnsafeContinuation<PostgresPipelineRows, any Error>
        let since: NIODeadline
    }

    struct State {
        var outbound = ByteBuffer()
        var waiters = CircularBuffer<Waiter>(initialCapacity: 64)
        var flushScheduled = false
        var failure: PostgresPipelineError?
    }

    enum Enqueued {
        case refused(PostgresPipelineError)
        /// Queued behind bytes that a scheduled flush will write.
        case queued
        /// Queued, and the caller must schedule the flush.
        case queuedFirst
    }

    private let state = Mutex(State())

    var isUsable: Bool { state.withLock { $0.failure == nil } }

    func enqueue(
        statement: String, parameters: [String], continuation: UnsafeContinuation<PostgresPipelineRows, any Error>
    ) -> Enqueued {
        let now = NIODeadline.now()
        return state.withLock { state in
            if let failure = state.failure { return .refused(failure) }
            PostgresWire.writeRun(statement: statement, parameters: parameters, into: &state.outbound)
            state.waiters.append(Waiter(continuation: continuation, since: now))
            if state.flushScheduled { return .queued }
            state.flushScheduled = true
            return .queuedFirst
        }
    }

    /// The bytes to write now (on the event loop).
    func takeOutbound() -> ByteBuffer? {
        state.withLock { state in
            state.flushScheduled = false
            guard state.failure == nil, state.outbound.readableBytes > 0 else { return nil }
            defer { state.outbound = ByteBuffer() }
            return state.outbound
        }
    }

    /// The caller whose answer has just ended.
    func popWaiter() -> Waiter? {
        state.withLock { $0.waiters.isEmpty ? nil : $0.waiters.removeFirst() }
    }

    /// Whether the oldest waiting statement was sent before `deadline`.
    func isWaiting(since deadline: NIODeadline) -> Bool {
        state.withLock { $0.waiters.first.map { $0.since < deadline } ?? false }
    }

    /// Marks the connection failed (the first reason stays) and fails every waiting statement.
    func fail(_ failure: PostgresPipelineError) {
        let (waiters, reason) = state.withLock { state in
            if state.failure == nil { state.failure = failure }
            defer { state.waiters.removeAll() }
            return (state.waiters, state.failure!)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: reason) }
    }

    func close() { fail(.connectionLost("the connection to PostgreSQL was closed by Understudy")) }
}

/// Reads the connection's answers on its event loop: start-up and authentication first, then one
/// answer per statement, each ending with ReadyForQuery.
private final class PipelineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Startup: Sendable {
        let user: String
        let password: String?
        let database: String
        let applicationName: String
        let settings: [String]
        let statements: [PostgresStatement]
        let timeout: TimeAmount
        let backstop: TimeAmount
    }

    private enum Phase {
        case authenticating
        case preparing
        case running
        case closed
    }

    private let startup: Startup
    private let queue: PipelineQueue
    private let ready: EventLoopPromise<Void>
    private var phase = Phase.authenticating
    private var authentication: PostgresAuthentication
    private var inbound = ByteBuffer()
    private var current = PostgresPipelineRows()
    private var currentError: PostgresServerError?
    private var timers: [Scheduled<Void>] = []
    private var watchdog: RepeatedTask?

    init(startup: Startup, queue: PipelineQueue, ready: EventLoopPromise<Void>) {
        self.startup = startup
        self.queue = queue
        self.ready = ready
        self.authentication = PostgresAuthentication(user: startup.user, password: startup.password)
    }

    func channelActive(context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 128)
        PostgresWire.writeStartup(
            user: startup.user, database: startup.database,
            parameters: [("application_name", startup.applicationName)], into: &out)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        let timeout = startup.timeout
        timers.append(
            context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                if phase != .running {
                    fail(.cannotConnect("PostgreSQL did not finish the start-up within \(timeout)"), context: context)
                }
            })
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if inbound.readableBytes == 0 {
            inbound = bytes
        } else {
            inbound.writeBuffer(&bytes)
        }
        do {
            while phase != .closed, var message = try PostgresWire.nextMessage(from: &inbound) {
                try handle(&message, context: context)
            }
        } catch {
            fail(error, context: context)
        }
        if inbound.readableBytes == 0 {
            inbound.clear()
        } else if inbound.readerIndex > 1 << 16 {
            inbound.discardReadBytes()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A server that ends the connection says why first ("terminating connection due to
        // administrator command").
        let why = currentError.map { ": \($0.message)" } ?? ""
        fail(.connectionLost("PostgreSQL closed the connection" + why), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.connectionLost("the connection to PostgreSQL failed: \(error)"), context: context)
    }

    private func fail(_ failure: PostgresPipelineError, context: ChannelHandlerContext) {
        guard phase != .closed else { return }
        let wasRunning = phase == .running
        phase = .closed
        for timer in timers { timer.cancel() }
        watchdog?.cancel()
        queue.fail(failure)
        if !wasRunning { ready.fail(failure) }
        context.close(promise: nil)
    }

    private func handle(_ message: inout PostgresWire.Message, context: ChannelHandlerContext)
        throws(PostgresPipelineError)
    {
        switch (phase, message.type) {
        case (.running, UInt8(ascii: "D")):
            try PostgresWire.readDataRow(from: &message.body, into: &current.values)
            current.rowCount += 1
        case (.running, UInt8(ascii: "Z")):
            guard let waiter = queue.popWaiter() else {
                throw .protocolViolation("an answer to a statement nobody sent")
            }
            if let error = currentError {
                waiter.continuation.resume(throwing: error)
            } else {
                waiter.continuation.resume(returning: current)
            }
            current = PostgresPipelineRows()
            currentError = nil
        case (.running, UInt8(ascii: "E")):
            currentError = PostgresWire.serverError(from: &message.body)
        case (.running, UInt8(ascii: "2")), (.running, UInt8(ascii: "C")), (.running, UInt8(ascii: "n")),
            (.running, UInt8(ascii: "I")):
            break
        case (_, UInt8(ascii: "N")), (_, UInt8(ascii: "S")), (_, UInt8(ascii: "A")), (_, UInt8(ascii: "K")):
            break  // notices, settings, notifications, the cancel key: nothing to do
        case (.authenticating, UInt8(ascii: "R")):
            try authenticate(&message.body, context: context)
        case (.authenticating, UInt8(ascii: "E")):
            throw .cannotConnect(PostgresWire.serverError(from: &message.body).message)
        case (.authenticating, UInt8(ascii: "Z")):
            phase = .preparing
            var out = context.channel.allocator.buffer(capacity: 1024)
            for setting in startup.settings {
                PostgresWire.writeParse(name: "", sql: setting, into: &out)
                PostgresWire.writeBindAndExecute(statement: "", parameters: [], into: &out)
            }
            for statement in startup.statements {
                PostgresWire.writeParse(name: statement.name, sql: statement.sql, into: &out)
            }
            PostgresWire.writeSync(into: &out)
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        case (.preparing, UInt8(ascii: "1")), (.preparing, UInt8(ascii: "2")), (.preparing, UInt8(ascii: "C")):
            break
        case (.preparing, UInt8(ascii: "E")):
            let error = PostgresWire.serverError(from: &message.body)
            throw .cannotConnect("PostgreSQL refused a statement Understudy prepares or a setting: \(error.message)")
        case (.preparing, UInt8(ascii: "Z")):
            phase = .running
            for timer in timers { timer.cancel() }
            timers = []
            startWatchdog(context: context)
            ready.succeed()
        default:
            throw .protocolViolation("message '\(Character(Unicode.Scalar(message.type)))' while \(phase)")
        }
    }

    private func authenticate(_ body: inout ByteBuffer, context: ChannelHandlerContext) throws(PostgresPipelineError) {
        guard let code = body.readInteger(as: Int32.self) else { throw .protocolViolation("an empty Authentication") }
        var out = context.channel.allocator.buffer(capacity: 256)
        switch code {
        case 0:
            return  // AuthenticationOk
        case 3:
            PostgresWire.writePassword(try authentication.cleartext(), into: &out)
        case 5:
            guard let salt = body.readBytes(length: 4) else { throw .protocolViolation("an MD5 request without salt") }
            PostgresWire.writePassword(try authentication.md5(salt: salt), into: &out)
        case 10:
            var mechanisms: [String] = []
            while let mechanism = body.readNullTerminatedString(), !mechanism.isEmpty { mechanisms.append(mechanism) }
            guard mechanisms.contains("SCRAM-SHA-256") else {
                throw .cannotConnect(
                    "PostgreSQL offers SASL mechanisms \(mechanisms.joined(separator: ", ")); Understudy speaks SCRAM-SHA-256"
                )
            }
            PostgresWire.writeSASLInitialResponse(
                mechanism: "SCRAM-SHA-256", data: try authentication.scramFirst(), into: &out)
        case 11:
            let serverFirst = body.readString(length: body.readableBytes) ?? ""
            PostgresWire.writeSASLResponse(try authentication.scramFinal(serverFirst: serverFirst), into: &out)
        case 12:
            try authentication.scramVerify(serverFinal: body.readString(length: body.readableBytes) ?? "")
            return
        default:
            throw .cannotConnect(
                "PostgreSQL asks for authentication method \(code), which Understudy does not speak (it speaks scram-sha-256, md5, password and trust)"
            )
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    /// Fails the connection when the oldest statement has waited longer than the backstop: the
    /// server stopped answering (PostgreSQL's own `statement_timeout` ends slow statements first).
    private func startWatchdog(context: ChannelHandlerContext) {
        let queue = self.queue
        let channel = context.channel
        let backstop = startup.backstop
        let every = TimeAmount.milliseconds(min(500, backstop.nanoseconds / 1_000_000 / 2 + 1))
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
            if queue.isWaiting(since: .now() - backstop) {
                queue.fail(.noAnswer("PostgreSQL did not answer within \(backstop)"))
                channel.close(promise: nil)
            }
        }
    }
}
