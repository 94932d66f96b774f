import Foundation
import UnderstudyCore

/// A refusal from Jira (or Understudy): the status, Jira's `errorMessages` and `errors` (or the
/// `message` of Connect's app-property resource), and Understudy's explanation when it sent one.
public struct JiraClientError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let errorMessages: [String]
    public let errors: [String: String]
    /// `X-Understudy-Explain`, decoded: why the request was refused (Understudy only).
    public let explanation: String?
    /// `X-AREQUESTID`, to find the request in the server's log or journal.
    public let requestId: String?
    /// What was asked, e.g. `PUT /rest/api/3/user/properties/k`.
    public let request: String

    public var description: String {
        var text = "\(request): \(status)"
        let messages = errorMessages + errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        if !messages.isEmpty { text += " " + messages.joined(separator: "; ") }
        if let explanation { text += " (\(explanation))" }
        return text
    }

    init(status: Int, body: [UInt8], explanation: String?, requestId: String?, request: String) {
        self.status = status
        self.explanation = explanation.map { PercentEncoding.decodeLeniently(Substring($0), plusIsSpace: false) }
        self.requestId = requestId
        self.request = request
        var messages: [String] = []
        var errors: [String: String] = [:]
        if case .object(let members)? = try? JSONParser.parse(body) {
            for member in members {
                switch (member.name, member.value) {
                case ("errorMessages", .array(let values)):
                    messages += values.compactMap { if case .string(let text) = $0 { text } else { nil } }
                case ("errors", .object(let fields)):
                    for field in fields { if case .string(let text) = field.value { errors[field.name] = text } }
                case ("message", .string(let text)):
                    messages.append(text)
                default: break
                }
            }
        }
        self.errorMessages = messages
        self.errors = errors
    }
}

/// A client-side mistake found before anything is sent.
public struct JiraClientUsageError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
