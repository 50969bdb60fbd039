/// Line counting for readers that split text themselves (logs read in parallel runs, a DBC
/// parsed in parts).
public enum Newlines {
    /// How many newlines `bytes` holds (eight bytes at a time).
    public static func count(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var count = 0, i = 0
        let n = bytes.count
        let newlines: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        while i + 8 <= n {
            let x = (base + i).loadUnaligned(as: UInt64.self) ^ newlines
            // A byte is zero exactly when its high bit ends up set here (no borrow tricks).
            let zero = ~(((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | x) & 0x8080_8080_8080_8080
            count += zero.nonzeroBitCount
            i += 8
        }
        while i < n { if base.load(fromByteOffset: i, as: UInt8.self) == 0x0A { count += 1 }; i += 1 }
        return count
    }
}
