import Crypto
import UnderstudyCore

/// Stable group ids in Jira Cloud's UUID form, derived from the group name so that every server
/// and every restart gives a group the same id.
public enum GroupIds {
    public static func groupId(forName name: String) -> String {
        let digest = Array(SHA256.hash(data: Array("group:\(name)".utf8)).prefix(16))
        let hex = Hex.lowercase(digest)
        let characters = Array(hex)
        func slice(_ range: Range<Int>) -> String { String(characters[range]) }
        return [slice(0..<8), slice(8..<12), slice(12..<16), slice(16..<20), slice(20..<32)].joined(separator: "-")
    }
}
