import AssistantAPI
import Foundation
import Gateway
import ServiceLifecycle
import VehicleState
#if canImport(Glibc)
import Glibc
#endif

/// The live status line: updated in place on a terminal, a plain line every 10 s otherwise.
struct StatusService: Service {
    let view: VehicleView
    let metrics: GatewayMetrics

    func run() async throws {
        let tty = isatty(STDERR_FILENO) == 1
        let period: Duration = tty ? .milliseconds(500) : .seconds(10)
        // Cancelled at graceful shutdown, so the sleep ends at once instead of after a period.
        await cancelWhenGracefulShutdown { [view, metrics] in
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                if Task.isCancelled { break }
                let invalid = view.state.integrity.snapshot().filter { $0.valid == false }
                    .map { "\($0.name.split(separator: "/").last ?? "") \($0.invalidReason?.description ?? "")" }
                let line = Self.line(view.context(), rate: metrics.frameRates().reduce(0, +), stale: view.stalePathCount(), invalid: invalid)
                FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + line : line + "\n").utf8))
            }
        }
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func line(_ c: DrivingContext, rate: Double, stale: Int, invalid: [String] = []) -> String {
        func mark(_ s: ValueState) -> String { s == .fresh ? "" : " (\(s.rawValue))" }
        let speed = c.speed.value.map { String(format: "%5.1f km/h", $0) } ?? "   -- km/h"
        let gear = c.gear.value?.label ?? "-"
        let location = c.location.value.map { String(format: "%.5f, %.5f", $0.latitude, $0.longitude) } ?? "no position"
        return "\(speed)\(mark(c.speed.state)) | gear \(gear)\(mark(c.gear.state)) | \(location)\(mark(c.location.state)) | \(c.motion.rawValue)"
            + " | \(Int(rate.rounded())) frames/s | \(stale) stale" + (invalid.isEmpty ? "" : " | INVALID: " + invalid.joined(separator: ", "))
    }
}
