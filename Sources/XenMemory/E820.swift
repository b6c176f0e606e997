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

/// One E820 entry: `[address, address + size)` of one type, in the address space `Address`
/// (``MachineAddress`` in the host's map, ``PhysicalAddress`` in a guest's).
public struct E820Entry<Address: PagedAddress>: Sendable, Hashable {
    /// First byte.
    public var address: Address
    /// Length in bytes.
    public var size: UInt64
    /// Memory type.
    public var type: E820Type
    /// One past the last byte.
    public var end: Address { address.advanced(by: size) }
    /// Creates an entry.
    public init(address: Address, size: UInt64, type: E820Type) {
        self.address = address; self.size = size; self.type = type
    }
}

/// An E820 memory map over the addresses `Address`: the firmware's map as Xen reads it and hands
/// it to dom0 (`XENMEM_machine_memory_map`) is in machine addresses (``HostE820``); the map a PV
/// guest's Linux builds its pseudo-physical memory from (`XENMEM_memory_map`, `xen_memory_setup`)
/// and a native kernel's firmware map are in physical addresses (``GuestE820``). Its frames come
/// out in the matching frame type (``MFN``, ``PFN``).
public struct E820Map<Address: PagedAddress>: Sendable, Hashable {
    /// The entries in address order.
    public var entries: [E820Entry<Address>]

    /// Wraps entries (sorted by address).
    public init(_ entries: [E820Entry<Address>]) { self.entries = entries.sorted { $0.address < $1.address } }

    /// A QEMU `pc` machine with `-m <ramBytes>` as SeaBIOS reports it: the 640 KiB hole, the
    /// BIOS area, all RAM below 4 GiB when there is less than 3.5 GiB (else 3 GiB below and the
    /// rest from 4 GiB), SeaBIOS's 140 KiB at the top of low RAM, the 256 KiB BIOS flash below
    /// 4 GiB and the reserved window at 0xfd00000000 that QEMU 7.2 adds. Machine addresses when
    /// Xen reads it, physical ones when a native kernel boots on the machine. `ramBytes` must lie
    /// in ``HostE820/qemuPCRAMBytes`` (callers refuse other sizes first).
    public static func qemuPC(ramBytes: UInt64) -> E820Map {
        let low: UInt64 = ramBytes >= 0xe000_0000 ? 0xc000_0000 : ramBytes
        func entry(_ address: UInt64, _ size: UInt64, _ type: E820Type) -> E820Entry<Address> {
            E820Entry(address: Address(address), size: size, type: type)
        }
        var e: [E820Entry<Address>] = [
            entry(0, 0x9fc00, .ram),
            entry(0x9fc00, 0x400, .reserved),
            entry(0xf0000, 0x10000, .reserved),
            entry(0x100000, low - 0x100000 - 0x23000, .ram),
            entry(low - 0x23000, 0x23000, .reserved),
            entry(0xfffc_0000, 0x40000, .reserved),
        ]
        if ramBytes > low {
            e.append(entry(1 << 32, ramBytes - low, .ram))
        }
        e.append(entry(0xfd_0000_0000, 0x3_0000_0000, .reserved))
        return E820Map(e)
    }

    /// RAM as page-frame ranges, rounded inwards to whole pages.
    public var ramFrames: [Range<Address.Frame>] {
        entries.compactMap { e in
            guard e.type == .ram else { return nil }
            let s = (e.address.rawValue + Page.offsetMask) >> Page.shift, t = e.end.rawValue >> Page.shift
            return s < t ? Address.Frame(s)..<Address.Frame(t) : nil
        }
    }

    /// RAM as page-frame ranges with touching or overlapping ones joined, in order.
    public var mergedRAMFrames: [Range<Address.Frame>] {
        var out: [Range<Address.Frame>] = []
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
    public var ramPages: UInt64 { ramFrames.reduce(0) { $0 + $1.span } }

    /// One past the highest RAM frame (Xen's `max_page`; frame 0 when there is no RAM).
    public var maxRAMFrame: Address.Frame { ramFrames.map(\.upperBound).max() ?? Address.Frame(0) }

    /// Xen 4.17's `RAM map:` lines: ` [%016Lx, %016Lx] (type)` with an inclusive end.
    public var xenLines: [String] {
        entries.map { " [\(Hex.padded($0.address.rawValue, 16)), \(Hex.padded($0.end.rawValue - 1, 16))] \($0.type.xenName)" }
    }

    /// Linux's `e820__print_table("Xen")` lines: `Xen: [mem 0x%016llx-0x%016llx] <type>`, inclusive.
    public var linuxLines: [String] {
        entries.map { "Xen: [mem 0x\(Hex.padded($0.address.rawValue, 16))-0x\(Hex.padded($0.end.rawValue - 1, 16))] \($0.type.linuxName)" }
    }

    /// `e820__update_table`: resolve overlaps (the higher type number wins, as Linux's
    /// sanitiser does), drop empty entries and merge adjacent entries of the same type.
    public func sanitized() -> E820Map {
        var points = Set<Address>()
        for e in entries where e.size > 0 { points.insert(e.address); points.insert(e.end) }
        let cuts = points.sorted()
        var out: [E820Entry<Address>] = []
        for (a, b) in zip(cuts, cuts.dropFirst()) {
            var best: E820Type?
            for e in entries where e.size > 0 && e.address <= a && e.end >= b {
                if best == nil || e.type.rawValue > best!.rawValue { best = e.type }
            }
            guard let t = best else { continue }
            if let last = out.last, last.end == a, last.type == t {
                out[out.count - 1].size += b.rawValue - a.rawValue
            } else {
                out.append(E820Entry(address: a, size: b.rawValue - a.rawValue, type: t))
            }
        }
        return E820Map(out)
    }
}

/// The host's memory map in machine addresses: the firmware's E820 as Xen keeps it (`e820` in
/// xen/arch/x86/e820.c) and gives it to dom0 (`XENMEM_machine_memory_map`); RAM in ``MFN``s.
public typealias HostE820 = E820Map<MachineAddress>

/// A guest's memory map in pseudo-physical (or, natively, physical) addresses: what
/// `XENMEM_memory_map` gives a domU, what Linux's `xen_memory_setup` leaves, a native kernel's
/// firmware map; RAM in ``PFN``s.
public typealias GuestE820 = E820Map<PhysicalAddress>

extension E820Map where Address == MachineAddress {
    /// The RAM sizes the model takes for a QEMU `pc` host (`xenpv layout --ram`, a scenario's
    /// `host.ram`): from 64 MiB (less leaves Xen and dom0 next to nothing) to 64 TiB (x86-64
    /// Linux's `MAXMEM` with 4-level paging, the most a PV dom0 can map). The one limit for both.
    public static var qemuPCRAMBytes: ClosedRange<UInt64> { (64 << 20)...(1 << 46) }

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
}

extension E820Map where Address == PhysicalAddress {
    /// Dom0's pseudo-physical layout from the host's machine map, the same numbers: in the
    /// initial domain Linux's `xen_memory_setup` asks for `XENMEM_machine_memory_map` (a domU
    /// for `XENMEM_memory_map`) and lays its own pseudo-physical memory out along it (RAM
    /// where the host has RAM, the host's holes identity-mapped, the pages there remapped).
    public init(dom0Layout machine: HostE820) {
        self.init(machine.entries.map { E820Entry(address: PhysicalAddress($0.address.rawValue), size: $0.size, type: $0.type) })
    }
}
