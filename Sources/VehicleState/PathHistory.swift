/// The recent values of one path in a fixed ring: trends need the last minute or so, and the
/// ring never grows, whatever the rate.
public struct PathHistory: Sendable {
    public static let capacity = 4096  // over a minute at 50 Hz; 64 KiB a path
    var times: [Int64] = []
    var values: [Double] = []
    var next = 0

    public init() {}

    mutating func append(time: Int64, value: Double) {
        if times.count < Self.capacity {
            times.append(time)
            values.append(value)
        } else {
            times[next] = time
            values[next] = value
            next = (next + 1) % Self.capacity
        }
    }

    /// (time ns, value) oldest first, at or after `since`.
    public func samples(since: Int64 = .min) -> [(time: Int64, value: Double)] {
        let n = times.count
        let start = n < Self.capacity ? 0 : next
        return (0..<n).map { (start + $0) % n }.filter { times[$0] >= since }.map { (times[$0], values[$0]) }
    }
}
