import CANBus

/// Whether an assistant may talk to the driver now, from the attention and the phase; when
/// not, why, and about when it may — with what the estimate rests on.
public struct InterruptAdvice: Sendable, Equatable {
    public var canInterrupt: Bool
    public var level: Attention.Level?
    public var reasons: [String]
    public var phase: DrivingPhase?
    public var explanation: String
    /// Seconds until it likely may (nil: no estimate).
    public var waitSeconds: Double?
    /// What the estimate rests on: "rule" (a threshold of the attention rules) or
    /// "usual_length" (how long such a manoeuvre usually lasts), nil when there is none.
    public var waitBasis: String?

    /// How long each busy reason usually lasts, s, and whether that comes from a rule.
    static func usualSeconds(_ r: Attention.Reason, settings: AttentionSettings) -> (seconds: Double, basis: String)? {
        switch r {
        case .reversing: return (10, "usual_length")        // reversing into or out of a space
        case .turning: return (6, "usual_length")           // a turn at a junction
        case .indicator: return (8, "usual_length")         // a turn or lane change being signalled
        case .hardBraking, .hardAccelerating: return (3, "usual_length")
        case .justStarted: return (settings.justStartedSeconds, "rule")
        case .highSpeed, .gnssLost: return nil              // as long as the road or tunnel goes on
        }
    }

    public static func advise(_ context: DrivingContext, settings: AttentionSettings) -> InterruptAdvice {
        let phase = context.phase.state == .fresh ? context.phase.value?.phase : nil
        guard context.attention.state == .fresh, let a = context.attention.value else {
            return InterruptAdvice(canInterrupt: false, level: nil, reasons: [], phase: phase,
                                   explanation: "Unknown: the car's speed is \(context.speed.state.rawValue), so the driver's workload cannot be judged. Do not assume it is safe to talk; keep anything said short.",
                                   waitSeconds: nil, waitBasis: nil)
        }
        let reasons = a.reasons.map(\.rawValue)
        if a.interruptible {
            let why: String
            switch phase {
            case .stoppedAtLight?: why = "The car is stopped at a light: a good moment, but keep it short — it may turn green."
            case .parked?: why = "The car is parked."
            case .parkingSearch?: why = "The workload is low, but the driver is looking for a parking space: offer parking help, little else."
            default: why = "The workload is low: cruising calmly."
            }
            return InterruptAdvice(canInterrupt: true, level: a.level, reasons: reasons, phase: phase, explanation: why,
                                   waitSeconds: 0, waitBasis: nil)
        }
        // Busy: the longest usual remaining time among the reasons, plus the hold before the
        // workload may fall. A reason with no usual length leaves no estimate.
        var wait: Double? = 0
        var basis = "rule"
        for r in a.reasons {
            guard let u = usualSeconds(r, settings: settings) else { wait = nil; break }
            if u.seconds > (wait ?? 0) { wait = u.seconds; basis = u.basis }
        }
        let busy = a.level == .high ? "The driver is busy" : "The driver's workload is raised"
        var explanation = "\(busy) (\(reasons.joined(separator: ", "))): do not interrupt; say nothing or one short sentence only if it is urgent."
        if let w = wait {
            let total = w + settings.holdSeconds
            explanation += " Likely possible in about \(Int(total.rounded())) s (\(basis == "rule" ? "from the rule's threshold" : "the usual length of such a manoeuvre") plus \(Int(settings.holdSeconds)) s the workload must stay low)."
            return InterruptAdvice(canInterrupt: false, level: a.level, reasons: reasons, phase: phase, explanation: explanation,
                                   waitSeconds: total, waitBasis: basis)
        }
        explanation += a.reasons.contains(.gnssLost) ? " No estimate: it lasts until the position is back (the tunnel ends)."
            : " No estimate: it lasts while the speed stays high."
        return InterruptAdvice(canInterrupt: false, level: a.level, reasons: reasons, phase: phase, explanation: explanation,
                               waitSeconds: nil, waitBasis: nil)
    }

    public var json: String {
        var out = TextBuffer(capacity: 384)
        out.append("{\"can_interrupt\": ")
        out.append(canInterrupt ? "true" : "false")
        out.append(", \"attention\": ")
        if let level { out.append("\""); out.append(level.rawValue); out.append("\"") } else { out.append("null") }
        out.append(", \"reasons\": [")
        for (k, r) in reasons.enumerated() { if k > 0 { out.append(", ") }; out.appendJSONString(r) }
        out.append("], \"phase\": ")
        if let phase { out.append("\""); out.append(phase.rawValue); out.append("\"") } else { out.append("null") }
        out.append(", \"wait_s\": ")
        if let w = waitSeconds { out.appendJSONNumber((w * 10).rounded() / 10) } else { out.append("null") }
        out.append(", \"wait_basis\": ")
        if let b = waitBasis { out.append("\""); out.append(b); out.append("\"") } else { out.append("null") }
        out.append(", \"explanation\": ")
        out.appendJSONString(explanation)
        out.append("}\n")
        return out.string
    }
}
