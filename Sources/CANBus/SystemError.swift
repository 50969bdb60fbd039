#if canImport(Glibc)
import Glibc
#endif

/// A failed system call as a value: what was being done, and errno. The one errno-carrying
/// error of every layer (sockets, files, pipes).
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public var errno: Int32
    /// What was being done: "open drive.log", "receive on can0".
    public var operation: String

    public init(errno: Int32, operation: String) {
        self.errno = errno
        self.operation = operation
    }

    /// The error of the call that just failed (reads the thread's errno).
    public static func last(_ operation: String) -> SystemError { SystemError(errno: Glibc.errno, operation: operation) }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
