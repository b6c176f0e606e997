/// The figures of one Xen hypervisor build that shape what it takes of machine memory while it
/// boots: its image, the unused BSS it gives back, and the allocations of its own that the source
/// alone does not size (see docs/memory-model.md, "Xen's own boot allocations").
public struct XenBuild: Sendable, Hashable {
    /// The build as its banner names it (the Debian package version).
    public var name: String
    /// Its build id (`xl info`'s `build_id`, `XENVER_build_id`), in hex.
    public var buildID: String
    /// Pages from `xen_phys_start` to `__2M_rwdata_end` (the image's reserved end; the ELF's
    /// load segment ends 0x5a7000 bytes above the 2 MiB link base for Debian's 4.17.7).
    public var imageEndPages: UInt64
    /// `reloc_size`: the 2 MiB-rounded span Xen relocates itself into.
    public var relocationPages: UInt64 = 0x600
    /// The BSS range `free_ebmalloc_unused_mem` gives back ("Freed 1024kB unused BSS memory"),
    /// in pages from `xen_phys_start`.
    public var unusedBSSPages: Range<UInt64>
    /// Boot-allocator pages taken from the top of the highest region after the RAM walk and
    /// before the frame table (ACPI table copies, page tables for re-mapping Xen's image):
    /// fitted to the captured host, not derived.
    public var earlyBootPages: UInt64
    /// Xen's own heap allocations between `end_boot_allocator` and dom0's construction, in
    /// order. The stack, the M2P and the unused BSS are derived; the rest is fitted (to the
    /// default capture, and the address limit of two of them to the 6 GiB host).
    public var heapSteps: [XenHeapStep]

    // swift-format-ignore: AlwaysUseLowerCamelCase
    // (named after the Xen release it models: 4.17.7)
    /// Debian's `xen-hypervisor-4.17-amd64` 4.17.7+13-g2445b30a44-0+deb12u1 (release build,
    /// build-id 151b373f…), as captured in `fixtures/real-xen-default`.
    public static let debian4_17_7 = XenBuild(
        name: "4.17.7+13-g2445b30a44-0+deb12u1",
        buildID: "151b373fd64b321593bf987fd923cd10dabadac4",
        imageEndPages: 0x5a7,
        unusedBSSPages: 0x440..<0x540,
        earlyBootPages: 29,
        heapSteps: [
            .allocate(order: 3),  // cpu_alloc_stack(0): STACK_ORDER
            .allocate(order: 4), .allocate(order: 3), .allocate(order: 0), .allocate(order: 1),
            .allocate(order: 2),
            // Two 1 MiB blocks below 4 GiB: on a host with RAM above 4 GiB the real boot left
            // zone 21's order-10 block 0x1b7800 and order-12 block 0x1b6000 whole for the M2P
            // and dom0 (real-dom0-layout.md §3); which allocations these are is not identified.
            .allocate(order: 8, addressBits: 32), .allocate(order: 8, addressBits: 32),
            .allocateAndFree(order: 7), .allocate(order: 7),
            .machineToPhys,  // paging_init
            .freeUnusedBSS,  // free_ebmalloc_unused_mem
            .allocateAndFree(order: 6), .allocateAndFree(order: 6), .hold(order: 6), .allocate(order: 6),
            .allocateAndFree(order: 6), .releaseHeld,
        ])

    /// The builds the model knows, by ``name``.
    public static let known: [XenBuild] = [.debian4_17_7]

    /// The known build of this name.
    public static func named(_ name: String) -> XenBuild? { known.first { $0.name == name } }

    /// The known build with this build id.
    public static func withBuildID(_ id: String) -> XenBuild? { known.first { $0.buildID == id } }
}

/// One of Xen's own heap operations while it boots (``XenBuild/heapSteps``).
public enum XenHeapStep: Sendable, Hashable {
    /// `alloc_xenheap_pages(order)`: a block kept for good; `addressBits` limits it to frames
    /// below 2^bits bytes (`MEMF_bits`).
    case allocate(order: Int, addressBits: Int? = nil)
    /// A block allocated and freed again before dom0 is built (it goes to its list's tail).
    case allocateAndFree(order: Int, addressBits: Int? = nil)
    /// A block allocated now and freed at the next ``releaseHeld``.
    case hold(order: Int, addressBits: Int? = nil)
    /// Frees the oldest held block.
    case releaseHeld
    /// `paging_init`: one order-9 block per 2 MiB of the M2P that covers RAM.
    case machineToPhys
    /// The unused BSS given to the heap.
    case freeUnusedBSS
}
