import Foundation
import Testing
@testable import GatewayCore

/// The parser reads request bodies and token claims, so what it refuses matters as much as what it reads.
@Suite("JSON parser")
struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Data(text.utf8)) }
    private func parse(bytes: [UInt8]) throws -> JSONValue { try JSONValue.parse(Data(bytes)) }

    @Test func readsEveryKindOfValue() throws {
        let value = try parse(#" { "a" : [1, -2.5, 3e2, 0, -0, true, false, null], "b": {"c": "d"}, "e": "" } "#)
        #expect(value == .object([
            "a": .array([1, -2.5, 300, 0, 0, .bool(true), .bool(false), .null]),
            "b": .object(["c": "d"]),
            "e": "",
        ]))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([:]))
        #expect(try parse("\t\r\n 42 \n") == 42)
    }

    @Test func agreesWithFoundationOnNumbers() throws {
        for text in ["0", "-0", "1", "12", "9007199254740992", "9007199254740993", "12345678901234567890", "-123456789012345",
                     "0.1", "1.25", "12345678.99", "1e-7", "1E+10", "-2.5e-3", "123.456e2", "4.9e-324", "1.7976931348623157e308"] {
            let expected = try #require(JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? NSNumber)
            #expect(try parse(text).numberValue == expected.doubleValue, "\(text)")
        }
    }

    @Test func decodesEscapesAndUnicode() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u00e9\u4E2D\ud83d\ude00""#) == .string("é中😀"))
        #expect(try parse("\"é中😀 plain\"") == .string("é中😀 plain"))
        #expect(try parse(#""before \u0041 after""#) == .string("before A after"))
    }

    @Test func theLastOfARepeatedNameWins() throws {
        #expect(try parse(#"{"role": "anon", "role": "service_role"}"#) == .object(["role": "service_role"]))
    }

    @Test(arguments: [
        "", " ", "{", "[", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a: 1}", "{'a': 1}", "[1 2]", "{} {}", "1 2", "[1]x",
        "01", "-", "+1", ".5", "1.", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "1e400", "-1e400",
        "tru", "nul", "True", "NULL", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"",
        "\"\\ud800\\u0041\"", "\"tab\there\"", "\"line\nbreak\"", "/* c */ 1", "[1] // c", "\u{FEFF}{}",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: JSONParser.Failure.self, "\(text.debugDescription)") { try parse(text) }
    }

    @Test func refusesInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
                               [0x22, 0x5C, 0x6E, 0xFE, 0x22]] {
            #expect(throws: JSONParser.Failure.self, "\(bytes)") { try parse(bytes: bytes) }
        }
    }

    @Test func limitsNesting() throws {
        let deepest = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        _ = try parse(deepest)
        let tooDeep = String(repeating: "[", count: JSONParser.maxDepth + 1) + String(repeating: "]", count: JSONParser.maxDepth + 1)
        #expect(throws: JSONParser.Failure.self) { try parse(tooDeep) }
        // Far deeper than the stack could take if the limit were missing.
        #expect(throws: JSONParser.Failure.self) { try parse(String(repeating: "{\"a\":", count: 100_000)) }
    }

    @Test func writesCompactTextWithSortedKeysAndEscapes() {
        let value: JSONValue = .object(["b": .array([1, 2.5, .null, .bool(true)]), "a": .string("q\"b\\s\n\r\t\u{01}\u{1F} é😀")])
        #expect(value.text == #"{"a":"q\"b\\s\n\r\t\u0001\u001f é😀","b":[1,2.5,null,true]}"#)
    }

    @Test func roundTripsThroughItsOwnText() throws {
        let original = try parse(#"{"z": [1, 2.5, "x\"y\u0001"], "a": {"b": null, "c": false}, "n": -12345678.25}"#)
        #expect(try parse(original.text) == original)
    }
}
