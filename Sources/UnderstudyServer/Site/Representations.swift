import Foundation
import NIOCore
import UnderstudyAuth
import UnderstudyCore

/// The JSON bodies of successful responses, with exactly the fields of Jira's published schemas.
struct Representations {
    let address: SiteAddress
    let keyListMemo = BoundedCache<KeyListMemo.Key, KeyListMemo>()
    private var baseURL: String { address.baseURL }

    /// Where `self` links of answers through the gateway start (spec 8): the gateway's prefix.
    func gatewayBase(cloudId: String) -> String { "\(baseURL)/ex/jira/\(cloudId)" }

    /// The site's base URL, where `self` links of answers on the site URL start.
    var siteBase: String { baseURL }

    /// Jira's `User` (spec 3); links start with `base` (the site's base URL, or the gateway's).
    func user(_ user: User, version: String, expand: Set<String>, base: String) -> ByteBuffer {
        let baseURL = base
        let owner = encodeAccountId(user.accountId)
        var json = JSONBuffer(capacity: 1024)
        json.raw("{\"self\":")
        json.string("\(baseURL)/rest/api/\(version)/user?accountId=\(owner)")
        json.raw(",\"accountId\":")
        json.string(user.accountId)
        json.raw(",\"accountType\":")
        json.string(user.accountType.rawValue)
        if let email = user.emailAddress {
            json.raw(",\"emailAddress\":")
            json.string(email)
        }
        json.raw(",\"avatarUrls\":{")
        for (index, size) in [48, 24, 16, 32].enumerated() {
            if index > 0 { json.raw(",") }
            json.string("\(size)x\(size)")
            json.raw(":")
            json.string("\(baseURL)/secure/useravatar?size=\(size)&ownerId=\(owner)")
        }
        json.raw("},\"displayName\":")
        json.string(user.displayName)
        json.raw(",\"active\":")
        json.bool(user.active)
        json.raw(",\"timeZone\":")
        json.string(user.timeZone)
        json.raw(",\"locale\":")
        json.string(user.locale)
        json.raw(",\"groups\":{\"size\":")
        json.number(user.groups.count)
        json.raw(",\"items\":[")
        if expand.contains("groups") {
            for (index, name) in user.groups.enumerated() {
                let groupId = GroupIds.groupId(forName: name)
                json.raw(index > 0 ? ",{\"name\":" : "{\"name\":")
                json.string(name)
                json.raw(",\"groupId\":")
                json.string(groupId)
                json.raw(",\"self\":")
                json.string("\(baseURL)/rest/api/\(version)/group?groupId=\(groupId)")
                json.raw("}")
            }
        }
        let roles = ApplicationRole.granted(byGroups: user.groups)
        json.raw("]},\"applicationRoles\":{\"size\":")
        json.number(roles.count)
        json.raw(",\"items\":[")
        if expand.contains("applicationRoles") {
            for (index, role) in roles.enumerated() {
                json.raw(index > 0 ? ",{\"key\":" : "{\"key\":")
                json.string(role.key)
                json.raw(",\"name\":")
                json.string(role.name)
                json.raw("}")
            }
        }
        json.raw("]},\"expand\":\"groups,applicationRoles\"}")
        return json.buffer
    }

    /// Jira's `PropertyKeys` for a user's properties. The last rendering for each user and version
    /// is kept: a key list is read far more often than it changes, and an unchanged list (the
    /// store hands out the same array until a write) is answered with the same bytes.
    func propertyKeys(_ keys: [String], accountId: String, version: String, base: String) -> ByteBuffer {
        let memoKey = KeyListMemo.Key(accountId: accountId, version: version, baseURL: base)
        if let memo = keyListMemo[memoKey], memo.keys == keys { return memo.rendered }
        let rendered = keyList(
            keys, selfPrefix: "\(base)/rest/api/\(version)/user/properties/",
            selfSuffix: "?accountId=\(encodeAccountId(accountId))")
        keyListMemo.remember(KeyListMemo(keys: keys, rendered: rendered), for: memoKey)
        return rendered
    }

    /// The key list of Connect's app-property resource.
    func appPropertyKeys(_ keys: [String], appKey: String, base: String) -> ByteBuffer {
        keyList(
            keys,
            selfPrefix: "\(base)/rest/atlassian-connect/1/addons/\(PercentEncoding.encode(appKey))/properties/",
            selfSuffix: "")
    }

    /// `{"keys": [{"key", "self"}, …]}`, each `self` being prefix + percent-encoded key + suffix,
    /// written straight into the buffer.
    private func keyList(_ keys: [String], selfPrefix: String, selfSuffix: String) -> ByteBuffer {
        var prefix = JSONBuffer(capacity: selfPrefix.utf8.count + 16)
        prefix.stringContent(selfPrefix)
        var suffix = JSONBuffer(capacity: selfSuffix.utf8.count + 16)
        suffix.stringContent(selfSuffix)
        var json = JSONBuffer(
            capacity: 16 + keys.count * (prefix.buffer.readableBytes + suffix.buffer.readableBytes + 64))
        json.raw("{\"keys\":[")
        for (index, key) in keys.enumerated() {
            json.raw(index > 0 ? ",{\"key\":" : "{\"key\":")
            json.string(key)
            json.raw(",\"self\":\"")
            json.bytes(prefix.buffer)
            json.percentEncoded(key)
            json.bytes(suffix.buffer)
            json.raw("\"}")
        }
        json.raw("]}")
        return json.buffer
    }

    /// One app property: `{"key", "value", "self"}`, the value verbatim.
    func appProperty(key: String, value: PropertyValue, appKey: String, base: String) -> ByteBuffer {
        property(
            key: key, value: value,
            selfURL:
                "\(base)/rest/atlassian-connect/1/addons/\(PercentEncoding.encode(appKey))/properties/\(PercentEncoding.encode(key))"
        )
    }

    /// Jira's `EntityProperty`: `{"key", "value"}`, the stored JSON text verbatim.
    func entityProperty(key: String, value: PropertyValue) -> ByteBuffer {
        property(key: key, value: value, selfURL: nil)
    }

    private func property(key: String, value: PropertyValue, selfURL: String?) -> ByteBuffer {
        var json = JSONBuffer(capacity: value.jsonText.utf8.count + 64 + (selfURL?.utf8.count ?? 0))
        json.raw("{\"key\":")
        json.string(key)
        json.raw(",\"value\":")
        json.json(value.jsonText)
        if let selfURL {
            json.raw(",\"self\":")
            json.string(selfURL)
        }
        json.raw("}")
        return json.buffer
    }

    /// Jira's `ServerInformation`.
    func serverInfo(now: Date) -> JSONValue {
        .object([
            JSONMember("baseUrl", .string(baseURL)),
            JSONMember("displayUrl", .string(baseURL)),
            JSONMember("version", .string(Self.version)),
            JSONMember("versionNumbers", .array(Self.versionNumbers.map { .number(String($0)) })),
            JSONMember("deploymentType", .string("Cloud")),
            JSONMember("buildNumber", .number(String(Self.buildNumber))),
            JSONMember("buildDate", .string(Self.jiraTimestamp(Self.buildDate))),
            JSONMember("serverTime", .string(Self.jiraTimestamp(now))),
            JSONMember(
                "serverTimeZone",
                .object([
                    JSONMember("id", .string("UTC")),
                    JSONMember("displayName", .string("Coordinated Universal Time")),
                    JSONMember("rawOffset", .number("0")),
                    JSONMember("dstsavings", .number("0")),
                ])),
            JSONMember("scmInfo", .string("understudy")),
            JSONMember("serverTitle", .string("Understudy")),
        ])
    }

    static let version = "1001.0.0-SNAPSHOT"
    static let versionNumbers = [1001, 0, 0]
    static let buildNumber = 100_300
    static let buildDate = Date(timeIntervalSince1970: 1_793_232_000)

    /// Jira's timestamp format, e.g. `2026-11-29T03:02:12.000+0000`.
    static func jiraTimestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = milliseconds / 1000
        let days = seconds / 86_400
        let secondsOfDay = seconds % 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondsOfDay / 3600, 2)):\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2)).\(pad(milliseconds % 1000, 3))+0000"
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// An accountId in a query string: unreserved characters and `:` stay literal.
    func encodeAccountId(_ accountId: String) -> String {
        PercentEncoding.encode(accountId, alsoLiteral: [UInt8(ascii: ":")])
    }
}

/// A rendered key list and the keys it was rendered from.
struct KeyListMemo: Sendable {
    struct Key: Hashable, Sendable {
        let accountId: String
        let version: String
        let baseURL: String
    }

    let keys: [String]
    let rendered: ByteBuffer
}
