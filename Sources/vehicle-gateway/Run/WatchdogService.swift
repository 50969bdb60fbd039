import Foundation
import Gateway
import Logging
import ServiceLifecycle

/// Tells systemd the gateway is ready once the API listens, pings its watchdog while the frame
/// path is alive, and says STOPPING on shutdown.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let gateway: Gateway
    let ready: ReadySignal
    let logger: Logger

    func run() async throws {
        guard notifier.enabled else { try? await gracefulShutdown(); return }
        await ready.wait()
        notifier.notify("READY=1\nSTATUS=serving")
        logger.info("notified systemd: ready")
        if let interval = SystemdNotifier.watchdogInterval() {
            // Cancelled at graceful shutdown, so the sleep ends at once instead of after a period.
            await cancelWhenGracefulShutdown { [notifier, gateway] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval / 2)
                    if Task.isCancelled { break }
                    // A frame path that stopped answering (not one whose replay ended) withholds the ping.
                    if gateway.isResponsive { notifier.notify("WATCHDOG=1") }
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        notifier.notify("STOPPING=1")
    }
}

/// Set once the API listens.
actor ReadySignal {
    var isReady = false
    var waiters: [CheckedContinuation<Void, Never>] = []
    func set() {
        isReady = true
        for w in waiters { w.resume() }
        waiters = []
    }
    func wait() async {
        if isReady { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}
