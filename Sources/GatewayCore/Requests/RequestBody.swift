import Foundation
import Hummingbird

/// Parameters from the request body: a JSON object, or an HTML/OAuth2 form. A DELETE's body is
/// read too: clients of FastAPI services send one (`DELETE /seeder/data {"scope": …}`), and
/// ignoring it would turn a narrow request into the default, wider one.
enum RequestBody {
    static func parameters(of request: inout Request, maxBytes: Int) async throws -> [String: JSONValue] {
        guard request.method != .get, request.method != .head else { return [:] }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw Problem(.contentTooLarge, code: "PAYLOAD_TOO_LARGE", message: "The request body is larger than \(maxBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { return [:] }
        let contentType = request.headers[.contentType]?.lowercased() ?? "application/json"
        if contentType.hasPrefix("application/x-www-form-urlencoded") {
            guard let pairs = QueryString.parse(Substring(String(buffer: buffer))) else {
                throw Problem.validation("The form is malformed: a bad % escape, or bytes that are not UTF-8")
            }
            var fields: [String: [JSONValue]] = [:]
            for (name, value) in pairs { fields[name, default: []].append(.string(value)) }
            return fields.mapValues { $0.count == 1 ? $0[0] : .array($0) }
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
