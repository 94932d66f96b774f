/// New accountIds in Jira Cloud's modern form: 24 lowercase hex digits, e.g. `5b10ac8d82e05b22cc7d4ef5`.
public enum AccountIds {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return APITokens.hex((0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
