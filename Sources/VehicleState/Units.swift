/// Unit conversion between the units DBC files use and the units VSS paths are defined in.
/// Each unit is a (dimension, scale, offset) to that dimension's base unit.
public enum Units {
    struct Unit { let dimension: String; let scale: Double; let offset: Double }

    static let table: [String: Unit] = [
        "km/h": Unit(dimension: "speed", scale: 1, offset: 0),
        "kph": Unit(dimension: "speed", scale: 1, offset: 0),
        "m/s": Unit(dimension: "speed", scale: 3.6, offset: 0),
        "mph": Unit(dimension: "speed", scale: 1.609344, offset: 0),
        "kn": Unit(dimension: "speed", scale: 1.852, offset: 0),
        "m": Unit(dimension: "length", scale: 1, offset: 0),
        "km": Unit(dimension: "length", scale: 1000, offset: 0),
        "cm": Unit(dimension: "length", scale: 0.01, offset: 0),
        "mm": Unit(dimension: "length", scale: 0.001, offset: 0),
        "ft": Unit(dimension: "length", scale: 0.3048, offset: 0),
        "mi": Unit(dimension: "length", scale: 1609.344, offset: 0),
        "deg": Unit(dimension: "angle", scale: 1, offset: 0),
        "°": Unit(dimension: "angle", scale: 1, offset: 0),
        "degrees": Unit(dimension: "angle", scale: 1, offset: 0),  // as VSS spells it
        "rad": Unit(dimension: "angle", scale: 57.29577951308232, offset: 0),
        "degC": Unit(dimension: "temperature", scale: 1, offset: 0),
        "°C": Unit(dimension: "temperature", scale: 1, offset: 0),
        "celsius": Unit(dimension: "temperature", scale: 1, offset: 0),
        "degF": Unit(dimension: "temperature", scale: 5.0 / 9.0, offset: -32 * 5.0 / 9.0),
        "°F": Unit(dimension: "temperature", scale: 5.0 / 9.0, offset: -32 * 5.0 / 9.0),
        "K": Unit(dimension: "temperature", scale: 1, offset: -273.15),
        "m/s^2": Unit(dimension: "acceleration", scale: 1, offset: 0),
        "m/s²": Unit(dimension: "acceleration", scale: 1, offset: 0),
        "g": Unit(dimension: "acceleration", scale: 9.80665, offset: 0),
        "s": Unit(dimension: "time", scale: 1, offset: 0),
        "ms": Unit(dimension: "time", scale: 0.001, offset: 0),
        "min": Unit(dimension: "time", scale: 60, offset: 0),
        "h": Unit(dimension: "time", scale: 3600, offset: 0),
        "%": Unit(dimension: "percent", scale: 1, offset: 0),
        "percent": Unit(dimension: "percent", scale: 1, offset: 0),
        "rpm": Unit(dimension: "rotation", scale: 1, offset: 0),
        "bar": Unit(dimension: "pressure", scale: 100, offset: 0),
        "kPa": Unit(dimension: "pressure", scale: 1, offset: 0),
        "Pa": Unit(dimension: "pressure", scale: 0.001, offset: 0),
        "l": Unit(dimension: "volume", scale: 1, offset: 0),
        "V": Unit(dimension: "voltage", scale: 1, offset: 0),
    ]

    /// `value * scale + offset` converting `from` into `to`; nil when they measure different
    /// things or a unit is unknown. The same spelling always converts (identity).
    public static func conversion(from: String, to: String) -> (scale: Double, offset: Double)? {
        if from == to { return (1, 0) }
        guard let a = table[from], let b = table[to], a.dimension == b.dimension else { return nil }
        // base = v * a.scale + a.offset; v' = (base - b.offset) / b.scale
        return (a.scale / b.scale, (a.offset - b.offset) / b.scale)
    }
}
