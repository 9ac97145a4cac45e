import Foundation
import Hummingbird

/// Parameters from the request body: a JSON object, or an HTML/OAuth2 form.
enum RequestBody {
    static func parameters(of request: inout Request, maxBytes: Int) async throws -> [String: JSONValue] {
        guard request.method != .get, request.method != .head, request.method != .delete else { return [:] }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw Problem(.contentTooLarge, code: "PAYLOAD_TOO_LARGE", message: "The request body is larger than \(maxBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { return [:] }
        let contentType = request.headers[.contentType]?.lowercased() ?? "application/json"
        if contentType.hasPrefix("application/x-www-form-urlencoded") {
            var fields: [String: JSONValue] = [:]
            for pair in String(buffer: buffer).split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                    $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
                }
                fields[parts[0]] = .string(parts.count > 1 ? parts[1] : "")
            }
            return fields
        }
        guard contentType.hasPrefix("application/json") else {
            throw Problem(.unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE", message: "Send application/json (or a form)")
        }
        let parsed: JSONValue
        do {
            parsed = try buffer.withUnsafeReadableBytes { bytes in try JSONParser.parse(bytes) }
        } catch {
            throw Problem.validation("The body is not valid JSON: \(error)")
        }
        guard case .object(let object) = parsed else { throw Problem.validation("The body must be a JSON object") }
        return object
    }
}
