import HTTPTypes
import Hummingbird
import UnderstudyCore

/// `/user` and the user-property resources (spec 3, 4).
extension UnderstudyResponder {
    func user(_ exchange: Exchange, version: String) async throws -> Response {
        let query = exchange.query
        let removed = query["username"] != nil ? "username" : query["key"] != nil ? "key" : nil
        let selector = AccountSelector(accountId: query["accountId"], removedParameter: removed)
        guard let accountId = selector.accountId else {
            throw (selector.removedParameter.map(UserPropertyError.unsupportedParameter) ?? .accountIdMissing).failure
        }
        guard let user = try await store.user(accountId: accountId) else {
            throw JiraFailure(
                .notFound, message: "The user with accountId '\(accountId)' does not exist.",
                explanation:
                    "No account on this site has accountId '\(accountId)'; check for a typo or a user from another site."
            )
        }
        let expand = Self.expansions(query["expand"])
        return exchange.builder.json(
            .ok, representations.user(user, version: version, expand: expand, base: exchange.linkBase))
    }

    func userPropertyKeys(_ exchange: inout Exchange, caller: User, version: String) async throws -> Response {
        let list = try await userProperties.keys(caller: caller, selector: Self.selector(exchange.query))
        if list.legacyPropertyCount > 0 {
            let count = list.legacyPropertyCount
            exchange.note =
                "User \(list.accountId) has \(count) admin-UI (Edit Jira properties) \(count == 1 ? "property" : "properties") that this API does not return; only properties set through /user/properties are listed."
        }
        return exchange.builder.json(
            .ok,
            representations.propertyKeys(
                list.keys, accountId: list.accountId, version: version, base: exchange.linkBase),
            explanation: exchange.note)
    }

    func userProperty(_ exchange: inout Exchange, caller: User, encodedKey: Substring) async throws -> Response {
        let key = try Self.decodeKey(encodedKey, appShape: false)
        let selector = Self.selector(exchange.query)
        switch exchange.request.method {
        case .get:
            let value = try await userProperties.value(caller: caller, selector: selector, key: key)
            return exchange.builder.json(.ok, representations.entityProperty(key: key, value: value))
        case .put:
            let body = try await Self.readPropertyBody(exchange.request, builder: &exchange.builder)
            let outcome = try await userProperties.set(caller: caller, selector: selector, key: key, body: body)
            return exchange.builder.empty(outcome == .created ? .created : .ok)
        default:
            try await userProperties.delete(caller: caller, selector: selector, key: key)
            return exchange.builder.empty(.noContent)
        }
    }

    static func selector(_ query: QueryParameters) -> AccountSelector {
        // The removed parameters matter only when accountId is missing (spec 4.3, step 4).
        if let accountId = query["accountId"] { return AccountSelector(accountId: accountId) }
        return AccountSelector(
            accountId: nil,
            removedParameter: query["username"] != nil ? "username" : query["userKey"] != nil ? "userKey" : nil)
    }

    static func decodeKey(_ encodedKey: Substring, appShape: Bool) throws -> String {
        do {
            return try PercentEncoding.decode(encodedKey, plusIsSpace: false)
        } catch {
            let failure = JiraFailure(
                .badRequest, message: "The property key is not valid.",
                explanation:
                    "The property key in the path has a malformed percent-escape or is not UTF-8; percent-encode the key's UTF-8 bytes (e.g. a space as %20)."
            )
            throw appShape ? failure.asAppMessage() : failure
        }
    }

    /// Reads a `PUT` body, never more than 32768 + 1 bytes (spec 4.2). A body announced or found
    /// longer is refused without reading the rest; the connection is then closed.
    static func readPropertyBody(_ request: Request, builder: inout ResponseBuilder) async throws -> PropertyBody {
        let limit = PropertyLimits.maximumValueBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            builder.closeConnection = true
            return .tooLong(reportedBytes: declared)
        }
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            bytes.append(contentsOf: buffer.readableBytesView.prefix(limit + 1 - bytes.count))
            if bytes.count > limit {
                builder.closeConnection = true
                return .tooLong(reportedBytes: limit + 1)
            }
        }
        return .complete(bytes)
    }
}
