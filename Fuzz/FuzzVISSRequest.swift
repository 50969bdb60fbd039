// libFuzzer target: VISS v2 client messages (scripts/fuzz.sh viss). Any text must parse to a
// request or to an error naming what was wrong; the filters of a request must evaluate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVISS(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    switch VISSRequest.parse(text) {
    case .failure(let f):
        precondition(!f.error.message.isEmpty, "an error without a message")
    case .success(.get(let path, let filters, _)), .success(.subscribe(let path, let filters, _)):
        for v in [0.0, -1.5, 1e300, .nan] { _ = VISSFilter.passes(filters, value: v, lastSent: v == 0 ? nil : 0) }
        for f in filters { if case .paths(let ps) = f { for p in ps { _ = VISSFilter.matches("Vehicle.Speed", pattern: path + "." + p) } } }
    case .success(.unsubscribe):
        break
    }
    return 0
}
