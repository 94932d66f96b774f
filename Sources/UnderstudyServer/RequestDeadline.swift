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
        clock.requestEnded()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { clock.requestEnded() }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.requestEnded()
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
final class RequestClock {
    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// Starts the deadline unless a request is already being received.
    func bytesArrived(on channel: any Channel) {
        guard deadline == nil else { return }
        deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func requestEnded() {
        deadline?.cancel()
        deadline = nil
    }
}
