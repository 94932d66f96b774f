/// New accountIds in Jira Cloud's modern form: 24 lowercase hex digits, e.g. `5b10ac8d82e05b22cc7d4ef5`.
public enum AccountIds {
    public static func generate() -> String { APITokens.randomHex(byteCount: 12) }
}
