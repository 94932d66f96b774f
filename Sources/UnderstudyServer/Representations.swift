import Foundation
import UnderstudyAuth
import UnderstudyCore

/// The JSON bodies of successful responses, with exactly the fields of Jira's published schemas.
struct Representations {
    let address: SiteAddress
    private var baseURL: String { address.baseURL }

    /// Jira's `User` (spec 3).
    func user(_ user: User, version: String, expand: Set<String>) -> JSONValue {
        let selfURL = "\(baseURL)/rest/api/\(version)/user?accountId=\(encodeAccountId(user.accountId))"
        let groups = user.groups
        let roles = ApplicationRole.granted(byGroups: groups)
        var members: [JSONMember] = [
            JSONMember("self", .string(selfURL)),
            JSONMember("accountId", .string(user.accountId)),
            JSONMember("accountType", .string(user.accountType.rawValue)),
        ]
        if let email = user.emailAddress { members.append(JSONMember("emailAddress", .string(email))) }
        members.append(JSONMember("avatarUrls", avatarURLs(accountId: user.accountId)))
        members.append(JSONMember("displayName", .string(user.displayName)))
        members.append(JSONMember("active", .bool(user.active)))
        members.append(JSONMember("timeZone", .string(user.timeZone)))
        members.append(JSONMember("locale", .string(user.locale)))
        let groupItems: [JSONValue] =
            expand.contains("groups")
            ? groups.map { name in
                let groupId = GroupIds.groupId(forName: name)
                return .object([
                    JSONMember("name", .string(name)),
                    JSONMember("groupId", .string(groupId)),
                    JSONMember("self", .string("\(baseURL)/rest/api/\(version)/group?groupId=\(groupId)")),
                ])
            } : []
        members.append(JSONMember("groups", list(size: groups.count, items: groupItems)))
        let roleItems: [JSONValue] =
            expand.contains("applicationRoles")
            ? roles.map { .object([JSONMember("key", .string($0.key)), JSONMember("name", .string($0.name))]) } : []
        members.append(JSONMember("applicationRoles", list(size: roles.count, items: roleItems)))
        members.append(JSONMember("expand", .string("groups,applicationRoles")))
        return .object(members)
    }

    private func list(size: Int, items: [JSONValue]) -> JSONValue {
        .object([JSONMember("size", .number(String(size))), JSONMember("items", .array(items))])
    }

    private func avatarURLs(accountId: String) -> JSONValue {
        let owner = encodeAccountId(accountId)
        return .object(
            [("48x48", "48"), ("24x24", "24"), ("16x16", "16"), ("32x32", "32")].map { name, size in
                JSONMember(name, .string("\(baseURL)/secure/useravatar?size=\(size)&ownerId=\(owner)"))
            })
    }

    /// Jira's `PropertyKeys` for a user's properties.
    func propertyKeys(_ keys: [String], accountId: String, version: String) -> JSONValue {
        let owner = encodeAccountId(accountId)
        return keyList(keys) { key in
            "\(baseURL)/rest/api/\(version)/user/properties/\(PercentEncoding.encode(key))?accountId=\(owner)"
        }
    }

    /// The key list of Connect's app-property resource.
    func appPropertyKeys(_ keys: [String], appKey: String) -> JSONValue {
        keyList(keys) { appPropertyURL(key: $0, appKey: appKey) }
    }

    /// `{"keys": [{"key", "self"}, …]}`
    private func keyList(_ keys: [String], selfURL: (String) -> String) -> JSONValue {
        .object([
            JSONMember(
                "keys",
                .array(
                    keys.map { .object([JSONMember("key", .string($0)), JSONMember("self", .string(selfURL($0)))]) }))
        ])
    }

    /// One app property: `{"key", "value", "self"}`, the value verbatim.
    func appProperty(key: String, value: PropertyValue, appKey: String) -> String {
        var text = "{\"key\":"
        JSONValue.writeString(key, to: &text)
        text += ",\"value\":"
        text += value.jsonText
        text += ",\"self\":"
        JSONValue.writeString(appPropertyURL(key: key, appKey: appKey), to: &text)
        text += "}"
        return text
    }

    private func appPropertyURL(key: String, appKey: String) -> String {
        "\(baseURL)/rest/atlassian-connect/1/addons/\(PercentEncoding.encode(appKey))/properties/\(PercentEncoding.encode(key))"
    }

    /// Jira's `EntityProperty`: the stored JSON text goes out verbatim.
    func entityProperty(key: String, value: PropertyValue) -> String {
        var text = "{\"key\":"
        JSONValue.writeString(key, to: &text)
        text += ",\"value\":"
        text += value.jsonText
        text += "}"
        return text
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
