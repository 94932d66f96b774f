/// A page module of a Connect app's descriptor (spec 16): `modules.generalPages[]` or
/// `modules.adminPages[]`, which Jira shows at `/plugins/servlet/ac/{appKey}/{moduleKey}` in an iframe
/// onto the app's `url`.
public struct ConnectPage: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case generalPages
        case adminPages
    }

    public var kind: Kind
    public var key: String
    /// A path relative to the app's baseUrl, as the descriptor gives it (it may carry a query).
    public var url: String
    public var name: String

    public init(kind: Kind, key: String, url: String, name: String) {
        self.kind = kind
        self.key = key
        self.url = url
        self.name = name
    }

    /// Jira's pattern for module keys.
    public static func isKey(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 100
            && text.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", "-": true
                default: false
                }
            }
    }

    var json: JSONValue {
        .object([
            JSONMember("kind", .string(kind.rawValue)), JSONMember("key", .string(key)),
            JSONMember("url", .string(url)), JSONMember("name", .string(name)),
        ])
    }

    init?(json: JSONValue) {
        guard case .object(let members) = json else { return nil }
        func field(_ name: String) -> String? {
            if case .string(let text)? = members.first(where: { $0.name == name })?.value { text } else { nil }
        }
        guard let kind = field("kind").flatMap(Kind.init(rawValue:)), let key = field("key"), let url = field("url")
        else { return nil }
        self.init(kind: kind, key: key, url: url, name: field("name") ?? key)
    }

    /// The page modules of a descriptor's `modules`, with a problem at its JSON path for each bad one.
    static func read(modules: [JSONMember], problem: (String, String) -> Void) -> [ConnectPage] {
        var pages: [ConnectPage] = []
        for kind in Kind.allCases {
            guard let entries = modules.first(where: { $0.name == kind.rawValue })?.value else { continue }
            guard case .array(let elements) = entries else {
                if entries != .null {
                    problem("$.modules.\(kind.rawValue)", "must be an array, found \(entries.kindName)")
                }
                continue
            }
            for (index, element) in elements.enumerated() {
                let path = "$.modules.\(kind.rawValue)[\(index)]"
                guard case .object(let members) = element else {
                    problem(path, "must be an object with key, url and name, found \(element.kindName)")
                    continue
                }
                let value = { (name: String) in members.first { $0.name == name }?.value }
                guard case .string(let key)? = value("key"), isKey(key) else {
                    problem("\(path).key", "required: letters, digits and -, such as \"tour-page\"")
                    continue
                }
                guard !pages.contains(where: { $0.key == key }) else {
                    problem("\(path).key", "the module key \"\(key)\" is used twice")
                    continue
                }
                guard case .string(let url)? = value("url"), !url.isEmpty else {
                    problem("\(path).url", "required: a path relative to baseUrl, such as \"/tour\"")
                    continue
                }
                if url.contains("://") || url.utf8.starts(with: "//".utf8) || url.utf8.starts(with: "/\\".utf8)
                    || url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
                {
                    problem("\(path).url", "must be a path relative to baseUrl")
                    continue
                }
                var name = key
                if case .object(let nameMembers)? = value("name"),
                    case .string(let text)? = nameMembers.first(where: { $0.name == "value" })?.value, !text.isEmpty
                {
                    name = text
                }
                pages.append(
                    ConnectPage(
                        kind: kind, key: key, url: url.utf8.first == UInt8(ascii: "/") ? url : "/" + url, name: name))
            }
        }
        return pages
    }
}
