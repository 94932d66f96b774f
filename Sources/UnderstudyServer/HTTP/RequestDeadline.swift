import NIOCore
import NIOHTTPTypes

/// Closes a connection that takes longer than the request timeout to deliver one request, counted
/// from the request's first byte to its last. The idle timeout cannot do this: a client that sends
/// one byte a second is never idle, and would otherwise hold its connection (and a little memory)
/// for as long as it likes.
///
/// It sits after Hummingbird's HTTP decoding, where it sees each request end, and puts a
/// ``FirstByteWatcher`` in front of the decoder, where the first byte of each request is seen.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let clock: RequestClock

    init(timeout: TimeAmount) {
        self.clock = RequestClock(timeout: timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        do {
            try context.pipeline.syncOperations.addHandler(FirstByteWatcher(clock: clock), position: .first)
        } catch {
            // Only a pipeline that is already closing refuses a handler; nothing to time then.
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        clock.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { clock.requestEnded() }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.stop()
        context.fireChannelInactive()
    }
}

/// Sees a connection's raw bytes ahead of the HTTP decoder, so the deadline starts with the first
/// byte of a request rather than when its head is complete.
final class FirstByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let clock: RequestClock

    init(clock: RequestClock) {
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.bytesArrived(on: context.channel)
        context.fireChannelRead(data)
    }
}

/// The deadline of the request a connection is receiving; shared by the two handlers of one
/// connection and used only on its event loop.
///
/// A request costs one clock reading: at most one check is scheduled per connection, and when it
/// runs it either closes the connection (the request it finds has outlived the timeout) or moves
/// itself to the deadline of the request in progress. Scheduling and cancelling a timer for every
/// request cost a tenth of a `GET /status` on the profile.
final class RequestClock {
    private let timeout: TimeAmount
    /// When the request being received sent its first byte; `nil` between requests.
    private var requestStarted: NIODeadline?
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// Starts the deadline unless a request is already being received.
    func bytesArrived(on channel: any Channel) {
        guard requestStarted == nil else { return }
        let now = NIODeadline.now()
        requestStarted = now
        if check == nil { scheduleCheck(at: now + timeout, on: channel) }
    }

    func requestEnded() {
        requestStarted = nil
    }

    /// The connection is going away: nothing more to time.
    func stop() {
        requestStarted = nil
        check?.cancel()
        check = nil
    }

    private func scheduleCheck(at deadline: NIODeadline, on channel: any Channel) {
        check = channel.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            check = nil
            guard let started = requestStarted else { return }
            let due = started + timeout
            if NIODeadline.now() >= due {
                channel.close(promise: nil)
            } else {
                scheduleCheck(at: due, on: channel)
            }
        }
    }
}
