import HTTPTypes
import Hummingbird
import UnderstudyCore

/// Connect app properties (spec 6, 11.3): only the app itself — by its JWT on the site URL, or a
/// Forge app with its Connect key through the gateway.
extension UnderstudyResponder {
    func appPropertyKeys(_ exchange: inout Exchange, app: ConnectApp, encodedAppKey: Substring) async throws
        -> Response
    {
        let addonKey = try Self.decodeKey(encodedAppKey, appShape: true)
        let keys = try await appProperties.keys(caller: app, addonKey: addonKey)
        return exchange.builder.json(
            .ok, representations.appPropertyKeys(keys, appKey: app.key, base: exchange.linkBase))
    }

    func appProperty(_ exchange: inout Exchange, app: ConnectApp, encodedAppKey: Substring, encodedKey: Substring)
        async throws -> Response
    {
        let addonKey = try Self.decodeKey(encodedAppKey, appShape: true)
        let key = try Self.decodeKey(encodedKey, appShape: true)
        switch exchange.request.method {
        case .get:
            let value = try await appProperties.value(caller: app, addonKey: addonKey, key: key)
            return exchange.builder.json(
                .ok, representations.appProperty(key: key, value: value, appKey: app.key, base: exchange.linkBase))
        case .put:
            let body = try await Self.readPropertyBody(exchange.request, builder: &exchange.builder)
            let outcome = try await appProperties.set(caller: app, addonKey: addonKey, key: key, body: body)
            return outcome == .created
                ? exchange.builder.json(.created, "{\"message\":\"Property created.\",\"statusCode\":201}")
                : exchange.builder.json(.ok, "{\"message\":\"Property updated.\",\"statusCode\":200}")
        default:
            try await appProperties.delete(caller: app, addonKey: addonKey, key: key)
            return exchange.builder.empty(.noContent)
        }
    }
}
