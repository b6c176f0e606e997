/// An E820 memory type (`E820_RAM` 1 … `E820_UNUSABLE` 5).
public enum E820Type: UInt32, Sendable, Hashable, CaseIterable {
    /// Usable RAM.
    case ram = 1
    /// Reserved.
    case reserved = 2
    /// ACPI tables (reclaimable).
    case acpi = 3
    /// ACPI non-volatile storage.
    case nvs = 4
    /// Unusable.
    case unusable = 5

    /// Linux's `e820_type_to_string` spelling (`Xen: [mem ...] <type>` lines).
    public var linuxName: String {
        switch self {
        case .ram: return "usable"
        case .reserved: return "reserved"
        case .acpi: return "ACPI data"
        case .nvs: return "ACPI NVS"
        case .unusable: return "unusable"
        }
    }

    /// Xen 4.17's spelling in its `RAM map:` lines.
    public var xenName: String {
        switch self {
        case .ram: return "(usable)"
        case .reserved: return "(reserved)"
        case .acpi: return "(ACPI data)"
        case .nvs: return "(ACPI NVS)"
        case .unusable: return "(unusable)"
        }
    }
}

/// One E820 entry: `[address, address + size)` of one type.
public struct E820Entry: Sendable, Hashable {
    /// First byte.
    public var address: UInt64
    /// Length in bytes.
    public var size: UInt64
    /// Memory type.
    public var type: E820Type
    /// One past the last byte.
    public var end: UInt64 { address + size }
    /// Creates an entry.
    public init(address: UInt64, size: UInt64, type: E820Type) {
        self.address = address; self.size = size; self.type = type
    }
}

/// An E820 memory map, as the firmware hands it to Xen and Xen to dom0.
public struct E820Map: Sendable, Hashable {
    /// The entries in address order.
    public var entries: [E820Entry]

    /// Wraps entries (sorted by address).
    public init(_ entries: [E820Entry]) { self.entries = entries.sorted { $0.address < $1.address } }

    /// The RAM sizes the model takes for a QEMU `pc` host (`xenpv layout --ram`, a scenario's
    /// `host.ram`): from 64 MiB (less leaves Xen and dom0 next to nothing) to 64 TiB (x86-64
    /// Linux's `MAXMEM` with 4-level paging, the most a PV dom0 can map). The one limit for both.
    public static let qemuPCRAMBytes: ClosedRange<UInt64> = (64 << 20)...(1 << 46)

    /// `a size between 64M and 64T`: how a refused RAM size is told, from ``qemuPCRAMBytes``
    /// (e.g. `--ram: expected a size between 64M and 64T, got '4096T'`).
    public static var qemuPCRAMExpectation: String {
        func text(_ bytes: UInt64) -> String {
            for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes >= 1 << UInt64(shift) && bytes % (1 << UInt64(shift)) == 0 {
                return "\(bytes >> UInt64(shift))\(unit)"
            }
            return "\(bytes)"
        }
        return "a size between \(text(qemuPCRAMBytes.lowerBound)) and \(text(qemuPCRAMBytes.upperBound))"
    }

    /// A QEMU `pc` machine with `-m <ramBytes>` as SeaBIOS reports it: the 640 KiB hole, the
    /// BIOS area, all RAM below 4 GiB when there is less than 3.5 GiB (else 3 GiB below and the
    /// rest from 4 GiB), SeaBIOS's 140 KiB at the top of low RAM, the 256 KiB BIOS flash below
    /// 4 GiB and the reserved window at 0xfd00000000 that QEMU 7.2 adds. `ramBytes` must lie in
    /// ``qemuPCRAMBytes`` (callers refuse other sizes first).
    public static func qemuPC(ramBytes: UInt64) -> E820Map {
        let low: UInt64 = ramBytes >= 0xe000_0000 ? 0xc000_0000 : ramBytes
        var e: [E820Entry] = [
            E820Entry(address: 0, size: 0x9fc00, type: .ram),
            E820Entry(address: 0x9fc00, size: 0x400, type: .reserved),
            E820Entry(address: 0xf0000, size: 0x10000, type: .reserved),
            E820Entry(address: 0x100000, size: low - 0x100000 - 0x23000, type: .ram),
            E820Entry(address: low - 0x23000, size: 0x23000, type: .reserved),
            E820Entry(address: 0xfffc_0000, size: 0x40000, type: .reserved),
        ]
        if ramBytes > low {
            e.append(E820Entry(address: 1 << 32, size: ramBytes - low, type: .ram))
        }
        e.append(E820Entry(address: 0xfd_0000_0000, size: 0x3_0000_0000, type: .reserved))
        return E820Map(e)
    }

    /// RAM as page-frame ranges, rounded inwards to whole pages.
    public var ramFrames: [Range<UInt64>] {
        entries.compactMap { e in
            guard e.type == .ram else { return nil }
            let s = (e.address + Page.offsetMask) >> Page.shift, t = e.end >> Page.shift
            return s < t ? s..<t : nil
        }
    }

    /// RAM as page-frame ranges with touching or overlapping ones joined, in order.
    public var mergedRAMFrames: [Range<UInt64>] {
        var out: [Range<UInt64>] = []
        for r in ramFrames.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, r.lowerBound <= last.upperBound {
                out[out.count - 1] = last.lowerBound..<Swift.max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// Total RAM pages.
    public var ramPages: UInt64 { ramFrames.reduce(0) { $0 + UInt64($1.count) } }

    /// One past the highest RAM frame (Xen's `max_page`).
    public var maxRAMFrame: UInt64 { ramFrames.map(\.upperBound).max() ?? 0 }

    /// Xen 4.17's `RAM map:` lines: ` [%016Lx, %016Lx] (type)` with an inclusive end.
    public var xenLines: [String] {
        entries.map { " [\(Hex.padded($0.address, 16)), \(Hex.padded($0.end - 1, 16))] \($0.type.xenName)" }
    }

    /// Linux's `e820__print_table("Xen")` lines: `Xen: [mem 0x%016llx-0x%016llx] <type>`, inclusive.
    public var linuxLines: [String] {
        entries.map { "Xen: [mem 0x\(Hex.padded($0.address, 16))-0x\(Hex.padded($0.end - 1, 16))] \($0.type.linuxName)" }
    }

    /// `e820__update_table`: resolve overlaps (the higher type number wins, as Linux's
    /// sanitiser does), drop empty entries and merge adjacent entries of the same type.
    public func sanitized() -> E820Map {
        var points = Set<UInt64>()
        for e in entries where e.size > 0 { points.insert(e.address); points.insert(e.end) }
        let cuts = points.sorted()
        var out: [E820Entry] = []
        for (a, b) in zip(cuts, cuts.dropFirst()) {
            var best: E820Type?
            for e in entries where e.size > 0 && e.address <= a && e.end >= b {
                if best == nil || e.type.rawValue > best!.rawValue { best = e.type }
            }
            guard let t = best else { continue }
            if let last = out.last, last.end == a, last.type == t {
                out[out.count - 1].size += b - a
            } else {
                out.append(E820Entry(address: a, size: b - a, type: t))
            }
        }
        return E820Map(out)
    }
}
