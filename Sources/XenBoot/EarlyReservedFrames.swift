import XenMemory

/// The low guest frames the model never hands out: the one place that says which and why.
///
/// The model does not place Linux's own early allocations one by one (see
/// `PseudoPhysicalAllocator`); it keeps the low frames they and the firmware occupy out of its
/// free memory, so that the bounce pools and the workload's buffers land where a real kernel
/// puts them.
public enum EarlyReservedFrames {
    /// A native x86 guest: the first MiB (pfns 0–0xff). Linux 6.1 reserves it whole in
    /// `reserve_real_mode` (arch/x86/realmode/init.c: `memblock_reserve(0, SZ_1M)` after taking
    /// the real-mode trampoline below 1 MiB; `setup_arch` had already reserved the first 64 KiB
    /// that BIOSes corrupt, page 0 among them, and the BIOS regions).
    public static let native = PFN(0)..<PFN(0x100)

    /// A Xen PV guest: the first 16 MiB (pfns 0–0xfff), the part of dom0's initial mapping that
    /// lies below the kernel image. Xen's PV builder (`dom0_construct_pv`) maps pfn
    /// `(va - v_start) >> PAGE_SHIFT` from `v_start = parms.virt_base`, and Linux x86-64 gives
    /// `XEN_ELFNOTE_VIRT_BASE = __START_KERNEL_map` while linking its text at
    /// `__START_KERNEL_map + CONFIG_PHYSICAL_START` (16 MiB), so the kernel starts at pfn 0x1000.
    /// A PV guest has no real-mode trampoline (Xen's `x86_platform.realmode_reserve` is a no-op),
    /// and the frames below the kernel are `ZONE_DMA` (`MAX_DMA_PFN` = 16 MiB), which neither
    /// memblock's top-down search nor the page allocator's ordinary requests reach while higher
    /// memory is free.
    public static let pv = PFN(0)..<PFN(0x1000)
}
