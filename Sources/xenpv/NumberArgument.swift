import ArgumentParser
import XenMemory

/// Whole numbers on the command line, each refused with what is expected.
enum NumberArgument {
    /// A decimal unsigned 64-bit integer (`--seed`).
    static func unsigned(_ text: String) throws -> UInt64 {
        guard let v = digits(text) else {
            throw ValidationError("expected an unsigned integer below 2^64, got \(RefusalLine.quoted(text))")
        }
        return v
    }

    /// A decimal integer in `range`.
    static func integer(_ text: String, in range: ClosedRange<Int>) throws -> Int {
        let unsigned = text.hasPrefix("-") ? String(text.dropFirst()) : text
        guard digits(unsigned) != nil, let v = Int(text), range.contains(v) else {
            throw ValidationError("expected an integer \(range.lowerBound)…\(range.upperBound), got \(RefusalLine.quoted(text))")
        }
        return v
    }

    /// A decimal count of at least 1 (`--max-runs`).
    static func positiveCount(_ text: String) throws -> Int {
        guard let v = digits(text), v >= 1, let n = Int(exactly: v) else {
            throw ValidationError("expected a count of at least 1, got \(RefusalLine.quoted(text))")
        }
        return n
    }

    /// A Xen domain id: 0 up to the last one Xen hands out (`DOMID_FIRST_RESERVED - 1`).
    static func domain(_ text: String) throws -> DomID {
        guard let v = digits(text), v < UInt64(firstReservedDomain) else {
            throw ValidationError("expected a domain id 0…\(firstReservedDomain - 1), got \(RefusalLine.quoted(text))")
        }
        return DomID(UInt16(v))
    }

    /// `0x<START>-0x<END>`: a range of addresses, start below end (`--grow-memory`).
    static func addressRange(_ text: String) throws -> Range<UInt64> {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Hex.value(parts[0]), let end = Hex.value(parts[1]), start < end else {
            throw ValidationError("expected 0x<start>-0x<end> with start below end, got \(RefusalLine.quoted(text))")
        }
        return start..<end
    }

    /// A `0x`-prefixed hex address below 2^64 (`--grow-limit`).
    static func address(_ text: String) throws -> UInt64 {
        guard let v = Hex.value(Substring(text)) else {
            throw ValidationError("expected a 0x-prefixed hex address below 2^64, got \(RefusalLine.quoted(text))")
        }
        return v
    }

    /// `DOMID_FIRST_RESERVED`: ids from here on (DOMID_SELF, DOMID_IO, …) name no guest.
    static let firstReservedDomain: UInt32 = 0x7FF0

    /// Decimal digits only (no sign, no spaces) that fit in 64 bits.
    private static func digits(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(text)
    }
}
