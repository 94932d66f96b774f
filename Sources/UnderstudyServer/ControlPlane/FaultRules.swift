import Foundation
import HTTPTypes
import Synchronization
import UnderstudyCore

/// A fault a test asked for (`POST /_understudy/faults`): requests matching a method, a path
/// pattern and a caller are answered with a status (`429` with Jira's rate-limit headers, `503`,
/// …) and/or delayed, for the next `times` matches or until removed.
struct FaultRule: Sendable {
    let id: String
    /// `nil` matches every method.
    let method: String?
    /// The path, where `*` stands for any run of characters (`/rest/api/3/user/properties/*`).
    let pathPattern: String
    /// An accountId, an app key or `anonymous`; `nil` matches every caller.
    let caller: String?
    let status: Int?
    let latency: Duration
    let retryAfterSeconds: Int
    let rateLimitReason: String
    /// Matches left; `nil` until removed.
    var remaining: Int?
    var matched = 0

    static let fields = ["method", "path", "caller", "status", "latencyMs", "times", "retryAfter", "reason"]

    /// Reads a rule from its JSON; the error says which field is wrong and why.
    init(json: JSONValue, id: String) throws(ControlRequestError) {
        guard case .object(let members) = json else { throw .badRequest("A fault rule is a JSON object.") }
        var fields: [String: JSONValue] = [:]
        for member in members {
            guard Self.fields.contains(member.name) else {
                throw .badRequest(
                    "Unknown field '\(member.name)' in the fault rule; known: \(Self.fields.joined(separator: ", ")).")
            }
            fields[member.name] = member.value
        }
        func string(_ name: String) throws(ControlRequestError) -> String? {
            switch fields[name] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw .badRequest("'\(name)' must be a string.")
            }
        }
        func integer(_ name: String, in range: ClosedRange<Int>) throws(ControlRequestError) -> Int? {
            switch fields[name] {
            case nil, .null?: return nil
            case .number(let text)?:
                guard let value = Int(text), range.contains(value) else {
                    throw .badRequest(
                        "'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound).")
                }
                return value
            default: throw .badRequest("'\(name)' must be a number.")
            }
        }
        guard let path = try string("path"), path.hasPrefix("/") else {
            throw .badRequest("'path' is required: the path to match, starting with '/', where * matches anything.")
        }
        self.id = id
        self.pathPattern = path
        self.method = try string("method")?.uppercased()
        self.caller = try string("caller")
        self.status = try integer("status", in: 400...599)
        self.latency = .milliseconds(try integer("latencyMs", in: 0...30_000) ?? 0)
        guard status != nil || latency > .zero else {
            throw .badRequest("A fault rule needs a 'status' (400-599) to answer, a 'latencyMs' to add, or both.")
        }
        self.remaining = try integer("times", in: 1...1_000_000)
        self.retryAfterSeconds = try integer("retryAfter", in: 0...86_400) ?? 1
        self.rateLimitReason = try string("reason") ?? "jira-burst-based"
    }

    func matches(method: String, path: Substring, caller candidates: [String]) -> Bool {
        if let wanted = self.method, wanted != method { return false }
        if let caller, !candidates.contains(caller) { return false }
        return Self.glob(pathPattern, matches: path)
    }

    /// `*` matches any run of characters, everything else itself.
    static func glob(_ pattern: String, matches text: Substring) -> Bool {
        let pieces = pattern.split(separator: "*", omittingEmptySubsequences: false)
        guard pieces.count > 1 else { return text == pattern }
        var rest = text
        guard rest.hasPrefix(pieces[0]) else { return false }
        rest = rest.dropFirst(pieces[0].count)
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let found = rest.range(of: piece) else { return false }
            rest = rest[found.upperBound...]
        }
        return rest.hasSuffix(pieces.last!)
    }

    var json: JSONValue {
        var members = [JSONMember("id", .string(id)), JSONMember("path", .string(pathPattern))]
        if let method { members.append(JSONMember("method", .string(method))) }
        if let caller { members.append(JSONMember("caller", .string(caller))) }
        if let status { members.append(JSONMember("status", .number(String(status)))) }
        if latency > .zero {
            members.append(
                JSONMember(
                    "latencyMs",
                    .number(
                        String(
                            latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000))
                ))
        }
        if status == 429 || status == 503 {
            members.append(JSONMember("retryAfter", .number(String(retryAfterSeconds))))
        }
        if status == 429 { members.append(JSONMember("reason", .string(rateLimitReason))) }
        members.append(JSONMember("remaining", remaining.map { .number(String($0)) } ?? .null))
        members.append(JSONMember("matched", .number(String(matched))))
        return .object(members)
    }

    /// Jira's `X-RateLimit-Reset` format, `yyyy-MM-ddTHH:mmZ` (UTC, to the minute).
    static func minuteTimestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
            parts.minute ?? 0)
    }

    /// The refusal this rule answers with, in Jira's shape, saying that it was injected.
    func failure(now: Date) -> JiraFailure? {
        guard let status else { return nil }
        let explanation =
            "Injected by fault rule \(id) (\(method ?? "any method") \(pathPattern)); remove it with DELETE /_understudy/faults/\(id)."
        var headers = HTTPFields()
        let message: String
        switch status {
        case 429:
            message = "Rate limit exceeded."
            headers[.retryAfter] = String(retryAfterSeconds)
            headers[HTTPField.Name("X-RateLimit-Limit")!] = "100"
            headers[HTTPField.Name("X-RateLimit-Remaining")!] = "0"
            headers[HTTPField.Name("X-RateLimit-NearLimit")!] = "true"
            headers[HTTPField.Name("X-RateLimit-Reset")!] = Self.minuteTimestamp(
                now.addingTimeInterval(TimeInterval(retryAfterSeconds)))
            headers[HTTPField.Name("RateLimit-Reason")!] = rateLimitReason
        case 503:
            message = "The service is temporarily unavailable. Please try again later."
            headers[.retryAfter] = String(retryAfterSeconds)
        default:
            message = "Fault injected by Understudy: \(HTTPResponse.Status(code: status).reasonPhrase)."
        }
        return JiraFailure(
            status: HTTPResponse.Status(code: status), body: .errorCollection(messages: [message]),
            explanation: explanation, headers: headers)
    }
}

/// The fault rules in force, matched in the order they were added.
final class FaultRules: Sendable {
    private let rules = Mutex<[FaultRule]>([])
    private let counter = Mutex(0)

    func add(_ json: JSONValue) throws(ControlRequestError) -> FaultRule {
        let id = counter.withLock { counter in
            counter += 1
            return "f\(counter)"
        }
        let rule = try FaultRule(json: json, id: id)
        rules.withLock { $0.append(rule) }
        return rule
    }

    var all: [FaultRule] { rules.withLock { $0 } }

    func remove(id: String) -> Bool {
        rules.withLock { rules in
            guard let index = rules.firstIndex(where: { $0.id == id }) else { return false }
            rules.remove(at: index)
            return true
        }
    }

    func removeAll() { rules.withLock { $0.removeAll() } }

    /// The first rule matching this request, counted as used (and dropped when used up).
    /// - Parameter callers: the names the caller matches by, worked out only when rules exist.
    func take(method: String, path: Substring, callers: @autoclosure () -> [String]) -> FaultRule? {
        rules.withLock { rules in
            guard !rules.isEmpty else { return nil }
            let callers = callers()
            guard let index = rules.firstIndex(where: { $0.matches(method: method, path: path, caller: callers) })
            else { return nil }
            rules[index].matched += 1
            let rule = rules[index]
            if let remaining = rule.remaining {
                if remaining <= 1 { rules.remove(at: index) } else { rules[index].remaining = remaining - 1 }
            }
            return rule
        }
    }
}

extension Principal {
    /// The names a fault rule's `caller` may give for this principal.
    var faultCallers: [String] {
        switch credential {
        case .oauth(let clientId): [accountId, clientId]
        case .connectApp(let app), .connectPage(let app): [accountId, app.key]
        case .forge(let app), .forgeBridge(let app): [accountId, app.appId]
        case .apiToken, .scopedAPIToken: [accountId]
        }
    }
}
