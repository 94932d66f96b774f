/// Limits and checks on entity-property keys and values (spec 4.2 and 6).
public enum PropertyLimits {
    /// The longest user-property key, in UTF-16 code units as Java counts characters.
    public static let maximumUserPropertyKeyLength = 255
    /// The longest app-property key.
    public static let maximumAppPropertyKeyLength = 127
    /// The largest property value, in bytes of request body.
    public static let maximumValueBytes = 32768

    /// The length of a key as Jira (Java) counts it.
    public static func javaLength(of key: String) -> Int { key.utf16.count }

    /// Whether a key can be stored: not with U+0000 (`%00` in a URL), which PostgreSQL cannot keep
    /// in text and SQLite would cut the key at. Such a key is refused on `PUT` and never exists.
    public static func isStorable(key: String) -> Bool { !key.utf8.contains(0) }
}
