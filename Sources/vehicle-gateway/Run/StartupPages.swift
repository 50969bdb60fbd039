import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Hands the executable's start-up pages back to the kernel once the gateway serves.
///
/// The binary's code and read-only data are file pages: the kernel maps them in 64 KiB windows
/// around each first touch ("fault-around"), so start-up, which runs code from every module
/// once, leaves most of the 60 MiB image resident although the steady state uses a few MiB of
/// it. `MADV_PAGEOUT` (Linux 5.4) unmaps those clean pages from this process (they cannot be
/// dirty: they are never written); what the frame path and the API still run is faulted back
/// within a moment and stays. The writable segment and the heap are not touched: paging them
/// out would need swap. Without `/proc` or on an older kernel this does nothing.
enum StartupPages {
    static let pageOut: Int32 = 21  // MADV_PAGEOUT, not in Swift's Glibc module

    /// Returns the bytes handed back (0 when nothing could be).
    @discardableResult
    static func release() -> Int {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8),
              let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return 0 }
        var released = 0
        for line in maps.split(separator: "\n") {
            // "start-end perms offset dev inode path"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5] == exe, !fields[1].contains("w") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start,
                  let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            if madvise(address, Int(end - start), pageOut) == 0 { released += Int(end - start) }
        }
        return released
    }
}
