/// Faults injected into a simulated drive, to see the gateway's integrity checks at work.
///
/// Grammar (`simulate --faults SPEC`):
///
///     SPEC  = FAULT ("," FAULT)*
///     FAULT = KIND ":" MESSAGE "@" START "+" DURATION      seconds into the drive, e.g. stuck:VehicleSpeed@30+4
///     KIND  = crc | skip | repeat | stuck | jump
///
/// - `crc`: every frame of the message carries a wrong CRC (its checksum byte inverted).
/// - `skip`: the rolling counter jumps by 3 at each frame (frames "lost").
/// - `repeat`: each frame carries the previous frame's counter (new data, old counter).
/// - `stuck`: the sending ECU repeats the last frame before START, byte for byte.
/// - `jump`: VehicleSpeed reads 80 km/h more than the truth, with a valid counter and CRC
///   (only a plausibility check can see it).
public struct FaultPlan: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case crc, skip, `repeat`, stuck, jump }

    public struct Fault: Sendable, Equatable {
        public var kind: Kind
        public var message: String
        public var start: Double
        public var duration: Double
        public func isActive(at t: Double) -> Bool { t >= start && t < start + duration }
    }

    public var faults: [Fault] = []

    public init(faults: [Fault] = []) { self.faults = faults }

    /// Parses SPEC; an error names the fault (by its position in the list) and what was expected.
    public init(parsing spec: String) throws(FaultSpecError) {
        for (n, item) in spec.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let text = item.trimmingSpaces
            func fail(_ what: String) -> FaultSpecError { FaultSpecError(description: "--faults: fault \(n + 1) '\(text)': \(what)") }
            guard let colon = text.firstIndex(of: ":") else { throw fail("expected KIND:MESSAGE@START+DURATION") }
            guard let kind = Kind(rawValue: String(text[..<colon])) else {
                throw fail("unknown kind '\(text[..<colon])' (expected \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let rest = text[text.index(after: colon)...]
            guard let at = rest.firstIndex(of: "@"), let plus = rest[at...].firstIndex(of: "+") else { throw fail("expected MESSAGE@START+DURATION") }
            let message = String(rest[..<at])
            guard !message.isEmpty else { throw fail("no message name") }
            guard let start = Double(rest[rest.index(after: at)..<plus]), start >= 0 else { throw fail("START must be seconds, 0 or more") }
            guard let duration = Double(rest[rest.index(after: plus)...]), duration > 0 else { throw fail("DURATION must be seconds above 0") }
            if kind == .jump, message != "VehicleSpeed" { throw fail("jump applies to VehicleSpeed") }
            faults.append(Fault(kind: kind, message: message, start: start, duration: duration))
        }
    }
}

public struct FaultSpecError: Error, CustomStringConvertible, Sendable { public var description: String }

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
