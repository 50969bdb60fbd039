import Foundation
import Glibc
import Integrity

/// The uplink's store-and-forward queue on disk: every message is appended here before it is
/// handed to the broker, and the file's acknowledged prefix grows as PUBACKs arrive, so what was
/// queued when the gateway was killed (or the power cut) is sent after the next start.
///
/// A log of our own rather than SQLite: the access is append at the end and advance a pointer at
/// the front, in order; a record is `0xA6, length (u32 LE), CRC-32 (u32 LE), body` with the body
/// `retain (u8), priority (u8), expiry (i64 LE, wall ns, 0 none), content type length (u8),
/// content type, topic length (u16 LE), topic, payload` (records of the first format, `0xA5`
/// with `retain, topic length, topic, payload`, are still read). A torn or corrupt record (a write cut by
/// power loss) is detected by its length or CRC, counted, and the file is cut there. The
/// acknowledged offset lives in its own small file, one fixed-width line `offset crc32\n`
/// overwritten in place by one `pwrite` per advance (a rename and the fsync Foundation's atomic
/// write does cost a millisecond per PUBACK); a torn or unreadable line means "from the start",
/// so the worst a crash does to it is send again what was already acknowledged, which QoS 1
/// allows. Appends are not synced one by one unless asked (`fsync: always`): the page cache
/// survives a killed process; a power cut may lose the last moments.
/// When everything is acknowledged and the file has grown past 1 MiB, it is emptied.
final class UplinkJournal {
    let path: String
    let ackPath: String
    private let fd: Int32
    private let ackFD: Int32
    private(set) var end: UInt64
    private(set) var acknowledged: UInt64
    /// Records found torn or corrupt when the journal was opened.
    let tornRecords: Int
    private static let crc = CRC(.crc32)
    static let compactBytes: UInt64 = 1 << 20

    /// Opens (or creates) the journal; the messages not yet acknowledged, each with the offset
    /// just past its record.
    /// Each record synced before `append` returns (`fsync: always`).
    let syncEach: Bool

    init(directory: String, syncEach: Bool = false, pending: inout [(OutgoingMessage, UInt64)]) throws(UplinkConfiguration.Problem) {
        self.syncEach = syncEach
        path = directory + "/uplink-queue.log"
        ackPath = directory + "/uplink-queue.ack"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .init(description: "cannot open the uplink queue \(path): \(String(cString: strerror(errno)))") }
        let data = FileManager.default.contents(atPath: path) ?? Data()
        var start: UInt64 = 0
        if let n = FileManager.default.contents(atPath: ackPath).flatMap({ Self.parseAcknowledged(Array($0)) }), n <= UInt64(data.count) {
            start = n
        }
        ackFD = open(ackPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard ackFD >= 0 else {
            close(fd)
            throw .init(description: "cannot open \(ackPath): \(String(cString: strerror(errno)))")
        }
        var offset = Int(start), torn = 0
        data.withUnsafeBytes { raw in
            while offset < raw.count {
                guard let (message, next) = Self.decode(raw, at: offset) else { torn = 1; break }
                pending.append((message, UInt64(next)))
                offset = next
            }
        }
        tornRecords = torn
        if torn > 0 { _ = ftruncate(fd, off_t(offset)) }  // the rest of the file is the torn tail
        end = UInt64(offset)
        acknowledged = start
        _ = lseek(fd, off_t(end), SEEK_SET)
    }

    deinit { close(fd); close(ackFD) }

    /// Why the last append failed (errno), for the log.
    private(set) var lastWriteError: Int32 = 0

    /// Appends a record; returns the offset just past it, or nil when the write failed (disk
    /// full: the message is still sent from memory, only not kept across a restart).
    func append(_ m: OutgoingMessage) -> UInt64? {
        let topic = Array(m.topic.utf8)
        let type = Array((m.contentType ?? "").utf8.prefix(255))
        var body = [UInt8]()
        body.reserveCapacity(14 + type.count + topic.count + m.payload.count)
        body.append(m.retain ? 1 : 0)
        body.append(m.priority)
        for k in 0..<8 { body.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: m.expiresNanoseconds) >> (8 * UInt64(k)))) }
        body.append(UInt8(type.count))
        body += type
        body.append(UInt8(topic.count & 0xFF)); body.append(UInt8(topic.count >> 8))
        body += topic
        body += m.payload
        let crc = body.withUnsafeBytes { Self.crc.finish(Self.crc.update(Self.crc.begin(), bytes: $0)) }
        var record: [UInt8] = [0xA6]
        for v in [UInt32(body.count), crc] { for k in 0..<4 { record.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
        record += body
        let written = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(end)) }
        guard written == record.count else {
            lastWriteError = written < 0 ? errno : ENOSPC  // a short write: the disk is full
            if written > 0 { _ = ftruncate(fd, off_t(end)) }
            return nil
        }
        end += UInt64(record.count)
        if syncEach { sync() }
        return end
    }

    /// The records written so far reach the disk.
    func sync() { _ = fdatasync(fd) }

    /// Everything before `offset` is acknowledged (or evicted): remember it; empty the file when
    /// nothing is left in it and it has grown.
    func acknowledge(upTo offset: UInt64) {
        guard offset > acknowledged else { return }
        acknowledged = offset
        if acknowledged == end, end >= Self.compactBytes {
            _ = ftruncate(fd, 0)
            end = 0
            acknowledged = 0
        }
        let line = Self.acknowledgedLine(acknowledged)
        _ = line.withUnsafeBytes { pwrite(ackFD, $0.baseAddress, $0.count, 0) }
    }

    /// `offset crc\n`: the offset in 20 decimal digits, the CRC-32 of those digits in 8 hex digits.
    static func acknowledgedLine(_ offset: UInt64) -> [UInt8] {
        let digits = Array(String(offset).utf8)
        var line = [UInt8](repeating: UInt8(ascii: "0"), count: 20 - digits.count) + digits
        let crc = line.withUnsafeBytes { Self.crc.finish(Self.crc.update(Self.crc.begin(), bytes: $0)) }
        let hex = Array(String(crc, radix: 16).utf8)
        line.append(UInt8(ascii: " "))
        line += [UInt8](repeating: UInt8(ascii: "0"), count: 8 - hex.count) + hex
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// The acknowledged offset from the ack file: the checked line, or a bare number (the first
    /// format, written by rename); nil when torn or unreadable (start from the beginning).
    static func parseAcknowledged(_ bytes: [UInt8]) -> UInt64? {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = text.split(separator: " ")
        if parts.count == 1 { return UInt64(parts[0]) }
        guard parts.count == 2, parts[0].count == 20, let offset = UInt64(parts[0]), let crc = UInt32(parts[1], radix: 16) else { return nil }
        let digits = Array(parts[0].utf8)
        return digits.withUnsafeBytes { Self.crc.finish(Self.crc.update(Self.crc.begin(), bytes: $0)) } == crc ? offset : nil
    }

    static func decode(_ raw: UnsafeRawBufferPointer, at offset: Int) -> (OutgoingMessage, Int)? {
        guard offset + 9 <= raw.count, raw[offset] == 0xA5 || raw[offset] == 0xA6 else { return nil }
        let current = raw[offset] == 0xA6
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(raw[at + $1]) << (8 * $1) } }
        let length = u32(offset + 1), crc = UInt32(u32(offset + 5))
        let bodyStart = offset + 9
        guard length >= (current ? 14 : 3), bodyStart + length <= raw.count else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: raw[bodyStart..<bodyStart + length])
        guard Self.crc.finish(Self.crc.update(Self.crc.begin(), bytes: body)) == crc else { return nil }
        var at = 1
        var priority: UInt8 = 5, expiry: Int64 = 0, type: String?
        if current {
            priority = body[1]
            expiry = Int64(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(body[2 + $1]) << (8 * UInt64($1)) })
            let typeLength = Int(body[10])
            guard 11 + typeLength + 2 <= length else { return nil }
            if typeLength > 0 { type = String(decoding: body[11..<11 + typeLength], as: UTF8.self) }
            at = 11 + typeLength
        }
        let topicLength = Int(body[at]) | Int(body[at + 1]) << 8
        guard at + 2 + topicLength <= length else { return nil }
        let topic = String(decoding: body[(at + 2)..<(at + 2 + topicLength)], as: UTF8.self)
        return (OutgoingMessage(topic: topic, payload: Array(body[(at + 2 + topicLength)...]), retain: body[0] == 1, priority: priority,
                                expiresNanoseconds: expiry, contentType: type), bodyStart + length)
    }
}
