import Hummingbird
import Logging
import UnderstudyCore

/// The composition root: `serve` and every test build the application here, so configuration
/// cannot drift between them.
public func buildApplication(
    configuration: ServerConfiguration, store: any SiteStore, logger: Logger = Logger(label: "understudy"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let responder = UnderstudyResponder(configuration: configuration, store: store)
    return Application(
        responder: responder,
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: nil
        ),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}
