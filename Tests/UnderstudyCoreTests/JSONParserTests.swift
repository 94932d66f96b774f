import Testing
import UnderstudyCore

/// A property value must be exactly one RFC 8259 JSON text; these are the texts developers send.
@Suite("Property values are strict JSON")
struct JSONParserTests {
    @Test(
        "Valid JSON texts are accepted as values",
        arguments: [
            "{}", "[]", "null", "true", "false", "0", "-0", "12.5e-3", "1E+2", "\"text\"", "\"\"",
            "{\"step\":2,\"done\":false}", " [1, 2, 3] ", "\"\\u00e9\\ud83d\\ude00\"", "\"é😀\"",
            "{\"a\":{\"b\":[null,{\"c\":\"\\n\\t\\\"\"}]}}", "\"\\/\"", "\r\n\t{}\n",
        ])
    func accepts(_ text: String) throws {
        #expect(JSONParser.isValid(Array(text.utf8)))
        let value = try PropertyValue(validating: Array(text.utf8))
        #expect(value.jsonText == text, "the value is kept verbatim")
    }

    @Test(
        "Texts Jira refuses are invalid",
        arguments: [
            "NaN", "Infinity", "-Infinity", "01", "-01", "1.", ".5", "1e", "+1", "'single'", "{'a':1}",
            "[1,2,]", "{\"a\":1,}", "{} {}", "{}x", "[1] 2", "{\"a\" 1}", "{a:1}", "\"unterminated",
            "\"tab\there\"", "\"\\x\"", "\"\\u12\"", "tru", "nul", "[", "{", "]", "// comment\n{}",
            "\u{FEFF}{}",
        ])
    func refuses(_ text: String) {
        #expect(!JSONParser.isValid(Array(text.utf8)))
        #expect(throws: PropertyValue.Problem.self) { try PropertyValue(validating: Array(text.utf8)) }
    }

    @Test("Invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
        ] {
            #expect(!JSONParser.isValid(bytes), "\(bytes)")
        }
    }

    @Test("An empty or whitespace-only body is 'empty', not 'invalid'")
    func emptyBodies() {
        for text in ["", " ", "\n\t\r "] {
            #expect(throws: PropertyValue.Problem.empty) { try PropertyValue(validating: Array(text.utf8)) }
        }
    }

    @Test("Deep nesting is refused instead of exhausting the stack")
    func deepNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(!JSONParser.isValid(Array(deep.utf8)))
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(JSONParser.isValid(Array(fine.utf8)))
    }

    @Test("A parsed value writes back as compact JSON with its numbers unchanged")
    func roundTrip() throws {
        let value = try JSONParser.parse(" { \"n\" : 1.50e3 , \"s\" : \"a\\\"b\\u0001\" , \"l\" : [ true , null ] } ")
        #expect(value.jsonText == "{\"n\":1.50e3,\"s\":\"a\\\"b\\u0001\",\"l\":[true,null]}")
    }

    @Test("Syntax errors say where parsing stopped")
    func errorOffsets() {
        #expect(throws: JSONParser.SyntaxError(offset: 7, reason: "expected ',' or '}' in an object")) {
            try JSONParser.parse("{\"a\":1 \"b\":2}")
        }
    }
}
