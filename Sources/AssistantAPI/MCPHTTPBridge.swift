import Foundation
import HTTPTypes
import Hummingbird
import MCP

/// Carries a Hummingbird request to the MCP transport and its answer back (SSE streams included).
enum MCPHTTPBridge {
    static func request(_ request: Request, maxBytes: Int) async throws -> MCPHTTPRequest {
        var request = request
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.rawName] = field.value }
        var body: Data?
        if request.method == .post {
            let buffer = try await request.collectBody(upTo: maxBytes)
            body = Data(buffer.readableBytesView)
        }
        return MCPHTTPRequest(method: request.method.rawValue, headers: headers, body: body, path: request.uri.path)
    }

    static func response(_ r: MCPHTTPResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in r.headers { if let n = HTTPField.Name(name) { headers[n] = value } }
        let status = HTTPResponse.Status(code: r.statusCode)
        switch r {
        case .stream(let stream, _):
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                do {
                    for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                } catch {}
                try await writer.finish(nil)
            })
        default:
            if let data = r.bodyData {
                if headers[.contentType] == nil { headers[.contentType] = "application/json" }
                return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
            return Response(status: status, headers: headers)
        }
    }
}

/// MCP's framework-neutral request and response (their names clash with HTTPTypes').
typealias MCPHTTPRequest = MCP.HTTPRequest
typealias MCPHTTPResponse = MCP.HTTPResponse
