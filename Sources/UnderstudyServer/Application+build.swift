import Foundation
import Hummingbird
import Logging
import NIOCore
import UnderstudyAuth
import UnderstudyCore

/// The composition root: `serve` and every test build the application here, so configuration
/// cannot drift between them.
/// `POST /_understudy/reset` goes back to the store's saved state: call `store.saveState()` once
/// the site is loaded.
///
/// - Parameter now: the real clock, or a test's; the control API's clock offset is added to it.
public func buildApplication(
    configuration: ServerConfiguration, store: any SiteStore,
    logger: Logger = Logger(label: "understudy"), now: @escaping @Sendable () -> Date = Date.init,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let address = SiteAddress(configuration)
    let controlPlane = ControlPlane(
        token: configuration.controlToken ?? APITokens.randomHex(byteCount: 16), store: store,
        journalCapacity: configuration.journalCapacity, clock: SiteClock(base: now), address: address)
    let responder = UnderstudyResponder(
        configuration: configuration, address: address, store: store, controlPlane: controlPlane)
    let requestTimeout = TimeAmount(configuration.requestTimeout)
    return Application(
        responder: responder,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(timeout: requestTimeout)],
                idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: nil
        ),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            address.serverIsListening(onPort: port)
            await onServerRunning(port)
        },
        logger: logger
    )
}
