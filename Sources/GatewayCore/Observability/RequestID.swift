import NIOConcurrencyHelpers

/// Request ids in UUID form, unique within a process and, with a random key per process, across
/// gateways. `UUID()` opened and read /dev/urandom on every request (three system calls); this is
/// a counter passed through a bijective mix (SplitMix64's finalizer), so no two requests of a
/// process share an id and the ids do not reveal how many requests came before.
enum RequestID {
    private static let key: (high: UInt64, low: UInt64) = {
        var random = SystemRandomNumberGenerator()
        return (random.next(), random.next())
    }()
    private static let counter = NIOLockedValueBox<UInt64>(0)

    static func next() -> String {
        let count = counter.withLockedValue { $0 &+= 1; return $0 }
        // Version 4 in the high half's nibble, the RFC 4122 variant in the low half's top bits: the
        // low half keeps 62 bits of a bijection of the counter, 2^62 requests before an id repeats.
        let high = (mix(count &+ key.high) & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (mix(count ^ key.low) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return format(high, low)
    }

    /// SplitMix64's output function: a bijection on 64 bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 8-4-4-4-12 lowercase hex digits.
    static func format(_ high: UInt64, _ low: UInt64) -> String {
        var text = Array(FastFormat.hex(withUnsafeBytes(of: high.bigEndian, Array.init) + withUnsafeBytes(of: low.bigEndian, Array.init)).utf8)
        for dash in [8, 13, 18, 23] { text.insert(UInt8(ascii: "-"), at: dash) }
        return String(decoding: text, as: UTF8.self)
    }
}
