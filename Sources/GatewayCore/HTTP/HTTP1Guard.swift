import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Two HTTP/1 cases the server would otherwise mishandle, handled where the bytes are decoded:
/// - A request asking to upgrade (`Connection: Upgrade`: `curl --http2` on http://, a WebSocket
///   handshake) is answered as plain HTTP/1.1, but NIO's decoder stops parsing after it, waiting for
///   a protocol switch that never comes, so a next request on the connection would hang: the request
///   is marked `Connection: close` and the connection ends after its answer.
/// - Headers over the decoder's limit (80 KiB) get a 431 problem instead of a bare 400.
final class HTTP1Guard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        if case .head(var head) = part, Self.asksToUpgrade(head.headerFields) {
            head.headerFields[.connection] = "close"
            part = .head(head)
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, parserError == .headerOverflow else {
            context.fireErrorCaught(error)
            return
        }
        let problem = Problem(HTTPResponse.Status(code: 431, reasonPhrase: "Request Header Fields Too Large"), code: "HEADERS_TOO_LARGE",
                              message: "The request's header fields are larger than 80 KiB")
        let body = ByteBuffer(string: JSONValue.object(problem.problemBody()).text)
        let head = HTTPResponse(status: problem.status, headerFields: [
            .contentType: "application/problem+json", .contentLength: String(body.readableBytes), .connection: "close",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    static func asksToUpgrade(_ fields: HTTPFields) -> Bool {
        fields[values: .connection].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "upgrade" }
        }
    }
}
