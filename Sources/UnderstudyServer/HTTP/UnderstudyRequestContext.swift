import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the connection, so that a refused
/// oversized body can end the connection instead of being read to its end.
struct UnderstudyRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Ends the connection once the response has gone out: first our sending side (the client sees
    /// the response, then end of stream), then, after a short grace period for the client to
    /// read it, the whole connection, whatever the client is still sending.
    func closeAfterResponse() {
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: .milliseconds(20)) {
            channel.close(mode: .output, promise: nil)
        }
        channel.eventLoop.scheduleTask(in: .seconds(2)) {
            channel.close(promise: nil)
        }
    }
}
