/// How a kernel sizes the default pool of a guest whose memory is encrypted (AMD SEV, Intel TDX):
/// the architecture code asks for 6 % of the guest's memory, clamped to 64 MiB – 1 GiB
/// (`sev_setup_arch` in v5.11, `mem_encrypt_setup_arch` in 6.x: `total_mem * 6 / 100`,
/// `clamp_val(size, IO_TLB_DEFAULT_SIZE, SZ_1G)`), and `swiotlb_adjust_size` takes it unless the
/// user sized the pool. The kernels differ in what "the user sized it" means and in the rounding.
public enum EncryptedGuestSizing: Sendable, Hashable {
    /// v5.11's `swiotlb_adjust_size`: skipped when `swiotlb=` gave a size (`io_tlb_nslabs` set);
    /// the bytes aligned to a slot, the slots to a segment; the message gives the slot-aligned
    /// bytes in MiB.
    case unlessSizeGiven
    /// 6.x's `swiotlb_adjust_size`: skipped unless `default_nslabs` is still 32768, so an
    /// explicit `swiotlb=32768` is adjusted too (but not a default size that `swiotlb=,<areas>`
    /// already raised past 32768 for more than 256 areas); the bytes aligned to a slot, the slots to a
    /// segment, then `round_up_default_nslabs` when `swiotlb=` gave areas (at least 128 slots
    /// per area, a power of two) — the message then gives the rounded size.
    case whileDefaultSize

    /// Whether the rule sizes TDX guests too (6.x's `mem_encrypt_setup_arch` on
    /// `CC_ATTR_GUEST_MEM_ENCRYPT`); v5.11's `sev_setup_arch` is SEV's only.
    public var coversTDX: Bool { self == .whileDefaultSize }

    /// The encrypted guest's request: `ramBytes * 6 / 100` clamped to 64 MiB – 1 GiB.
    public static func requestedBytes(ramBytes: UInt64) -> UInt64 {
        // ramBytes * 6 / 100 without overflow: 6q + 6r/100 for ramBytes = 100q + r.
        let sixPercent = ramBytes / 100 * 6 + ramBytes % 100 * 6 / 100
        return min(max(sixPercent, UInt64(IOTLB.defaultSlots) << UInt64(IOTLB.shift)), 1 << 30)
    }

    /// The pool's slots after `swiotlb_adjust_size` and its line (`SWIOTLB bounce buffer size
    /// adjusted to %luMB`, without the `software IO TLB: ` prefix), for a guest with `ramBytes` of
    /// memory and `commandLine`; nil when the kernel keeps the size `swiotlb=` gave.
    public func adjust(ramBytes: UInt64, commandLine: SwiotlbCommandLine) -> (nslabs: UInt64, line: String)? {
        switch self {
        case .unlessSizeGiven: guard commandLine.nslabs == 0 else { return nil }
        case .whileDefaultSize:
            // `default_nslabs` after the command line, whose areas may have raised it already.
            let parsed =
                commandLine.areas.flatMap { Linux61PoolSetup(requested: commandLine.effectiveNslabs, areas: $0, limit: 1 << 52)?.nslabs }
                ?? commandLine.effectiveNslabs
            guard parsed == UInt64(IOTLB.defaultSlots) else { return nil }
        }
        var bytes = (Self.requestedBytes(ramBytes: ramBytes) + UInt64(IOTLB.slotSize - 1)) & ~UInt64(IOTLB.slotSize - 1)
        var nslabs = IOTLB.alignToSegment(bytes >> UInt64(IOTLB.shift))
        if self == .whileDefaultSize, let areas = commandLine.areas,
            let setup = Linux61PoolSetup(requested: nslabs, areas: areas), setup.roundedUp
        {
            nslabs = setup.nslabs
            bytes = nslabs << UInt64(IOTLB.shift)
        }
        return (nslabs, "SWIOTLB bounce buffer size adjusted to \(bytes >> 20)MB")
    }
}
