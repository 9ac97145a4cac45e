import Hummingbird

/// JSON the database (or a fixed text) already rendered: passed through as bytes.
enum JSONBody {
    static func response(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: json))
        )
    }
}
