import CANBus
import Foundation
import VehicleState
import Yams

/// Collection campaigns (FleetWise's idea, done for VSS): what to send beside the context, and
/// when. A YAML file (`--uplink-campaigns`, `uplink.campaigns`):
///
///     campaigns:
///       - name: hard_braking                       # topic vehicles/{id}/campaigns/hard_braking
///         signals: [Vehicle.Speed, Vehicle.Chassis.SteeringWheel.Angle]
///         condition: "rising_edge(max(Vehicle.Speed, 1) - Vehicle.Speed > 10)"
///         before_s: 10                             # the window sent: 10 s before the trigger,
///         after_s: 5                               # and 5 s after it (frame time)
///         min_interval_s: 30                       # at most one a 30 s
///         priority: 1                              # 0 most important, 9 least (default 5)
///         ttl_s: 86400                             # not worth sending after a day
///       - name: speed_1hz
///         signals: [Vehicle.Speed]
///         period_ms: 1000                          # a sample a second, sent in batches of
///         batch_s: 60                              # a minute (default 10)
///         upload_when: "Vehicle.Speed < 5"         # held until this holds
///       - name: gear_changes
///         signals: [Vehicle.Powertrain.Transmission.CurrentGear]
///         on_change: true                          # every new value (the mapping's deadband applies)
///
/// A trigger is one of `period_ms`, `on_change` or `condition` (CampaignExpression's grammar).
/// Every problem — a condition that does not parse, a path the mapping lacks, a bad number — is
/// reported at start-up as `file:line:column: error: ...`, the column pointing into the
/// condition.
public struct CampaignDefinition: Sendable {
    public enum Trigger: Sendable {
        case period(milliseconds: Double)
        case onChange
        case condition(CampaignExpression)
    }

    public var name: String
    public var signals: [String]
    public var trigger: Trigger
    public var minimumIntervalSeconds = 0.0
    public var beforeSeconds = 0.0
    public var afterSeconds = 0.0
    public var priority: UInt8 = 5
    public var ttlSeconds: Double?
    public var uploadWhen: CampaignExpression?
    public var batchSeconds = 10.0
}

public enum CampaignFile {
    static let keys = ["name", "signals", "period_ms", "on_change", "condition", "min_interval_s", "before_s", "after_s", "priority", "ttl_s",
                       "upload_when", "batch_s"]

    /// Reads and checks a campaigns file against the mapping.
    public static func load(path: String, mapping: CompiledMapping) throws(Diagnostics) -> [CampaignDefinition] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostics([Diagnostic(file: path, line: 0, column: 0, message: "cannot read the campaigns file")])
        }
        let (campaigns, problems) = parse(String(decoding: data, as: UTF8.self), fileName: path, paths: Set(mapping.paths.map(\.name)))
        if !problems.isEmpty { throw Diagnostics(problems) }
        return campaigns
    }

    /// The campaigns and every problem found; `paths` are the mapped VSS paths.
    public static func parse(_ text: String, fileName: String, paths: Set<String>) -> ([CampaignDefinition], [Diagnostic]) {
        var errors: [Diagnostic] = []
        func fail(_ n: Node?, _ m: String, offset: Int? = nil) {
            var line = n?.mark?.line ?? 1, column = n?.mark?.column ?? 1
            if let offset, let scalar = n?.scalar {
                // Into the text: past the opening quote, over its lines.
                let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
                let before = scalar.string.utf8.prefix(offset)
                let newlines = before.filter { $0 == 0x0A }.count
                if scalar.style == .literal || scalar.style == .folded {
                    line += 1 + newlines
                    column = 3 + (before.split(separator: 0x0A, omittingEmptySubsequences: false).last?.count ?? 0)
                } else if newlines == 0 {
                    column += (quoted ? 1 : 0) + offset
                } else {
                    line += newlines
                }
            }
            errors.append(Diagnostic(file: fileName, line: line, column: column, message: m))
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text, Resolver.basic) } catch { return ([], [Diagnostic(yamlError: error, file: fileName)]) }
        guard let root else { return ([], []) }
        guard let top = root.mapping, let list = top["campaigns"], top.count == 1 else {
            fail(root, "expected 'campaigns:' with a list of campaigns")
            return ([], errors)
        }
        guard let items = list.sequence else { fail(list, "'campaigns' must be a list (- name: ...)"); return ([], errors) }
        var out: [CampaignDefinition] = []
        var names = Set<String>()
        func checkPaths(_ e: CampaignExpression, _ node: Node) {
            for (p, at) in e.paths where !paths.contains(p) {
                let near = VSSCatalog.closest(to: p, among: paths)
                fail(node, "'\(p)' is not a mapped VSS path" + (near.map { "; did you mean '\($0)'?" } ?? ""), offset: at)
            }
        }
        func expression(_ node: Node, _ what: String) -> CampaignExpression? {
            guard let text = node.string, !text.isEmpty else { fail(node, "\(what) must be a condition (a string)"); return nil }
            do {
                let e = try CampaignExpression.parse(text)
                checkPaths(e, node)
                return e
            } catch {
                fail(node, "\(what): \(error.message)", offset: error.offset)
                return nil
            }
        }
        for item in items {
            guard let m = item.mapping else { fail(item, "a campaign must be a mapping (name:, signals:, and a trigger)"); continue }
            for (k, _) in m {
                guard let key = k.string, keys.contains(key) else {
                    let key = k.string ?? "?"
                    fail(k, "unknown key '\(key)' in a campaign" + (VSSCatalog.closest(to: key, among: keys).map { "; did you mean '\($0)'?" } ?? ""))
                    continue
                }
            }
            guard let nameNode = m["name"], let name = nameNode.string else { fail(item, "a campaign needs a name"); continue }
            guard !name.isEmpty, name.utf8.count <= 64, UplinkConfiguration.isTopicSafe(name) else {
                fail(nameNode, "the campaign name '\(name)' must be 1 to 64 letters, digits, '-', '_' or '.' (it is part of its topic)")
                continue
            }
            if !names.insert(name).inserted { fail(nameNode, "a second campaign named '\(name)'") }
            var signals: [String] = []
            if let s = m["signals"] {
                for node in s.sequence ?? [s] {
                    guard let p = node.string else { fail(node, "signals: expected VSS paths"); continue }
                    if paths.contains(p) { signals.append(p) }
                    else { fail(node, "'\(p)' is not a mapped VSS path" + (VSSCatalog.closest(to: p, among: paths).map { "; did you mean '\($0)'?" } ?? "")) }
                }
            }
            if signals.isEmpty, m["signals"] == nil { fail(item, "campaign '\(name)' names no signals (signals: [Vehicle.Speed, ...])") }
            func number(_ key: String, _ range: ClosedRange<Double>) -> Double? {
                guard let n = m[key] else { return nil }
                guard let v = n.float, range.contains(v) else { fail(n, "\(key) must be a number from \(range.lowerBound) to \(range.upperBound)"); return nil }
                return v
            }
            let triggers = ["period_ms", "on_change", "condition"].filter { m[$0] != nil }
            guard triggers.count == 1 else {
                fail(item, triggers.isEmpty ? "campaign '\(name)' needs a trigger: period_ms, on_change or condition"
                                            : "campaign '\(name)' has several triggers (\(triggers.joined(separator: ", "))): give one")
                continue
            }
            let trigger: CampaignDefinition.Trigger
            if let period = number("period_ms", 10...86_400_000) { trigger = .period(milliseconds: period) }
            else if let on = m["on_change"] {
                guard on.bool == true else { fail(on, "on_change must be true"); continue }
                trigger = .onChange
            } else if let c = m["condition"], let e = expression(c, "condition") { trigger = .condition(e) }
            else { continue }
            var d = CampaignDefinition(name: name, signals: signals, trigger: trigger)
            d.minimumIntervalSeconds = number("min_interval_s", 0...86400) ?? 0
            d.beforeSeconds = number("before_s", 0...600) ?? 0
            d.afterSeconds = number("after_s", 0...600) ?? 0
            if case .condition = trigger {} else if m["before_s"] != nil || m["after_s"] != nil {
                fail(m["before_s"] ?? m["after_s"], "before_s and after_s are for a condition's window: a \(triggers[0]) campaign sends what it samples")
            }
            d.priority = number("priority", 0...9).map { UInt8($0) } ?? 5
            d.ttlSeconds = number("ttl_s", 1...31_536_000)
            d.batchSeconds = number("batch_s", 0.1...3600) ?? 10
            if let u = m["upload_when"] { d.uploadWhen = expression(u, "upload_when") }
            out.append(d)
        }
        return (out, errors)
    }
}
