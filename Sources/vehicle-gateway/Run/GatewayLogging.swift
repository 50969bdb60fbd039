import Foundation
import Logging

/// swift-log handlers: readable text, or one JSON object per line for journald and collectors.
enum GatewayLogging {
    enum Format: String, CaseIterable { case text, json }

    static func bootstrap(format: Format, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var h: LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }
}

/// `{"ts": "...", "level": "info", "logger": "...", "message": "...", <metadata>}` on stderr.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: Any] = ["ts": ISO8601DateFormatter().string(from: Date()), "level": event.level.rawValue,
                                     "logger": label, "message": "\(event.message)"]
        for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { object[k] = "\(v)" }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }
}
