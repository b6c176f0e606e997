/// One amount of Xen's `dom0_mem=` option (`struct memsize`): `[-]<size>[+<frac>%]` or
/// `[-]<frac>%`.
public struct Dom0MemoryAmount: Sendable, Hashable {
    /// The `<size>` part in pages.
    public var pages: UInt64 = 0
    /// The `<frac>%` part (0–99).
    public var percent: UInt64 = 0
    /// A leading `-`: "all but".
    public var minus = false

    /// A zero amount.
    public init() {}
    /// An explicit amount.
    public init(pages: UInt64, percent: UInt64 = 0, minus: Bool = false) {
        self.pages = pages; self.percent = percent; self.minus = minus
    }

    /// `get_memsize(sz, avail)` (wrapping subtraction, as Xen's unsigned arithmetic).
    public func pages(available avail: UInt64) -> UInt64 {
        let (p, _) = pages.addingReportingOverflow(percent.multipliedReportingOverflow(by: avail).partialValue / 100)
        return minus ? avail &- p : p
    }
}

/// Why a `dom0_mem=` value was refused.
public struct Dom0MemoryOptionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The offending text.
    public var text: String
    /// What was wrong.
    public var reason: String
    /// `dom0_mem: <reason> in '<text>'`, the text quoted as every message quotes a token
    /// (``ErrorToken/clipped(_:)``).
    public var description: String { "dom0_mem: \(reason) in '\(ErrorToken.clipped(text))'" }
}

/// Xen 4.17's `dom0_mem=` option (x86): a comma-separated list of `<amount>`, `min:<amount>` and
/// `max:<amount>`, sizes with a `T`/`G`/`M`/`K`/`B` suffix (no suffix = KiB), base-auto numbers.
public struct Dom0MemoryOption: Sendable, Hashable {
    /// The amount (`dom0_size`); zero means "not given".
    public var size = Dom0MemoryAmount()
    /// `min:` (`dom0_min_size`).
    public var min = Dom0MemoryAmount()
    /// `max:` (`dom0_max_size`, default `LONG_MAX` pages).
    public var max = Dom0MemoryAmount(pages: UInt64(Int64.max))

    /// No option given.
    public init() {}

    /// Parses the value after `dom0_mem=`.
    public init(parsing text: String) throws(Dom0MemoryOptionError) {
        guard !text.isEmpty else { throw Dom0MemoryOptionError(text: text, reason: "empty value") }
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            if item.hasPrefix("min:") {
                min = try Self.parseAmount(item.dropFirst(4), whole: text)
            } else if item.hasPrefix("max:") {
                max = try Self.parseAmount(item.dropFirst(4), whole: text)
            } else {
                size = try Self.parseAmount(item, whole: text)
            }
        }
    }

    /// `parse_amt`.
    static func parseAmount(_ s: Substring, whole: String) throws(Dom0MemoryOptionError) -> Dom0MemoryAmount {
        var amt = Dom0MemoryAmount()
        var rest = s
        if rest.first == "-" { amt.minus = true; rest = rest.dropFirst() }
        var items = 0
        while true {
            guard let c = rest.first, c.isASCII, c.isNumber else {
                throw Dom0MemoryOptionError(text: whole, reason: "expected a number at '\(ErrorToken.clipped(rest))'")
            }
            let (value, unitRest, isPercent) = try parseSizeAndUnit(rest, whole: whole)
            rest = unitRest
            if isPercent {
                guard value < 100 else { throw Dom0MemoryOptionError(text: whole, reason: "percentage \(value) is not below 100") }
                amt.percent = value
                items += 1
            } else {
                guard items == 0 else { throw Dom0MemoryOptionError(text: whole, reason: "a size must come before the percentage") }
                amt.pages = value >> Page.shift
            }
            items += 1
            guard rest.first == "+", items < 2 else { break }
            rest = rest.dropFirst()
        }
        guard rest.isEmpty else { throw Dom0MemoryOptionError(text: whole, reason: "unexpected '\(ErrorToken.clipped(rest))'") }
        return amt
    }

    /// `parse_size_and_unit`: a base-auto integer and an optional unit; `%` is left to the caller.
    static func parseSizeAndUnit(_ s: Substring, whole: String) throws(Dom0MemoryOptionError) -> (UInt64, Substring, Bool) {
        guard let (n, rest) = parseCInteger(s) else { throw Dom0MemoryOptionError(text: whole, reason: "bad number at '\(ErrorToken.clipped(s))'") }
        var shift = 0
        var after = rest
        switch rest.first {
        case "T", "t": shift = 40; after = rest.dropFirst()
        case "G", "g": shift = 30; after = rest.dropFirst()
        case "M", "m": shift = 20; after = rest.dropFirst()
        case "K", "k": shift = 10; after = rest.dropFirst()
        case "B", "b": shift = 0; after = rest.dropFirst()
        case "%": return (n, rest.dropFirst(), true)
        default: shift = 10
        }
        let (v, overflow) = n.multipliedReportingOverflow(by: 1 << UInt64(shift))
        guard !overflow else { throw Dom0MemoryOptionError(text: whole, reason: "size too large at '\(ErrorToken.clipped(s))'") }
        return (v, after, false)
    }

    /// `simple_strtoull(s, &end, 0)`: decimal, `0x` hex or leading-zero octal.
    static func parseCInteger(_ s: Substring) -> (UInt64, Substring)? {
        var radix: UInt64 = 10
        var rest = s
        if rest.hasPrefix("0x") || rest.hasPrefix("0X") {
            radix = 16; rest = rest.dropFirst(2)
        } else if rest.hasPrefix("0") && rest.count > 1, let c = rest.dropFirst().first, c.isASCII, c.isNumber {
            radix = 8; rest = rest.dropFirst()
        }
        var v: UInt64 = 0
        var digits = 0
        while let c = rest.first, c.isASCII, let d = c.hexDigitValue, UInt64(d) < radix {
            let (m, o1) = v.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            v = a; digits += 1; rest = rest.dropFirst()
        }
        return digits > 0 ? (v, rest) : nil
    }

    /// `dom0_compute_nr_pages` (release build, PV dom0 with `XEN_ELFNOTE_INIT_P2M`): the given
    /// amount, or all available memory minus min(1/16, 128 MiB); clamped to `min:`, `max:` and
    /// the available memory. `available` is Xen's `avail` (free heap + module pages − per-vCPU
    /// reserve).
    public func dom0Pages(available avail: UInt64) -> UInt64 {
        var nr = size.pages(available: avail)
        if nr == 0 { nr = avail - Swift.min(avail / 16, (128 << 20) >> Page.shift) }
        nr = Swift.max(nr, min.pages(available: avail))
        nr = Swift.min(nr, max.pages(available: avail))
        return Swift.min(nr, avail)
    }

    /// The domain's `max_pages` Xen sets: `min(max:, UINT_MAX)`.
    public func dom0MaxPages(available avail: UInt64) -> UInt64 {
        Swift.min(max.pages(available: avail), UInt64(UInt32.max))
    }
}
