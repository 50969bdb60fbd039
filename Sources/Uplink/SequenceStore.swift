import Foundation

/// The last `seq` sent on a topic, kept in a file so that it goes on increasing by one across
/// restarts (a consumer dedupes and spots gaps by it). Written with a rename, so a crash leaves
/// the old number or the new one, never a torn one.
struct SequenceStore {
    let path: String
    private(set) var last: UInt64

    init(directory: String, topic: String) throws(UplinkConfiguration.Problem) {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .init(description: "cannot create the uplink's state directory \(directory): \(error.localizedDescription)")
        }
        path = directory + "/" + topic.replacingOccurrences(of: "/", with: "_") + ".seq"
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let n = UInt64(text) else { throw .init(description: "\(path): expected the last sequence number, found '\(text.prefix(40))'") }
            last = n
        } else {
            last = 0
        }
        guard FileManager.default.isWritableFile(atPath: directory) else { throw .init(description: "cannot write the uplink's state directory \(directory)") }
    }

    /// The next number, recorded before it is used.
    mutating func next() -> UInt64 {
        last += 1
        let temporary = path + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: Data("\(last)\n".utf8)) {
            _ = rename(temporary, path)
        }
        return last
    }
}
