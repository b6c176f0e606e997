/// The figures of one Xen hypervisor build that shape what it takes of machine memory while it
/// boots: its image and the hole in it the boot allocator gets, and the page-table pages its
/// own layout needs (see docs/memory-model.md, "Xen's own boot allocations"). The sequence of
/// its heap allocations is ``XenBootHost/heapSteps(build:)``.
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
    /// `ebmalloc_mem` (1 MiB of BSS), in pages from `xen_phys_start`: on a multiboot boot none
    /// of it is used, so `__start_xen` leaves it out of the image's reservation and the RAM
    /// walk hands it to the boot allocator ("Freed 1024kB unused BSS memory" only reports it).
    public var bootMallocPages: Range<UInt64>
    /// Page-table pages `modify_xen_mappings` takes from the boot allocator when `__start_xen`
    /// remaps the image's sections (text RX, rodata RO) in 4 KiB pages.
    public var imageRemapTablePages: Int
    /// Pages of `acpi_tb_resize_root_table_list`'s first table list (`acpi_os_alloc_memory`
    /// from the boot allocator: PFN_UP of ACPI_MAX_TABLES descriptors).
    public var acpiRootTablePages: UInt64
    /// `sizeof(struct irq_desc)`: `init_irq_data` allocates `nr_irqs` of them.
    public var irqDescBytes: UInt64
    /// Pages of `mctelem_init`'s telemetry array (an xmalloc of whole pages).
    public var machineCheckTelemetryPages: UInt64
    /// Order of one CPU's per-CPU data area (`cpu_percpu_callback`).
    public var perCPUOrder: Int
    /// Pages of the xmalloc that `xz_dec_init` makes while the dom0 kernel (XZ) is unpacked,
    /// freed again before the initial block is allocated.
    public var xzDecoderPages: UInt64

    // swift-format-ignore: AlwaysUseLowerCamelCase
    // (named after the Xen release it models: 4.17.7)
    /// Debian's `xen-hypervisor-4.17-amd64` 4.17.7+13-g2445b30a44-0+deb12u1 (release build,
    /// build-id 151b373f…), as captured in `fixtures/real-xen-default`. The offsets are those
    /// of the symbols in the image's own symbol table (`__2M_rwdata_end`, `ebmalloc_mem`).
    public static let debian4_17_7 = XenBuild(
        name: "4.17.7+13-g2445b30a44-0+deb12u1",
        buildID: "151b373fd64b321593bf987fd923cd10dabadac4",
        imageEndPages: 0x5a7, bootMallocPages: 0x472..<0x572, imageRemapTablePages: 2, acpiRootTablePages: 1,
        irqDescBytes: 256, machineCheckTelemetryPages: 6, perCPUOrder: 2, xzDecoderPages: 7)

    /// The builds the model knows, by ``name``.
    public static let known: [XenBuild] = [.debian4_17_7]

    /// The known build of this name.
    public static func named(_ name: String) -> XenBuild? { known.first { $0.name == name } }

    /// The known build with this build id.
    public static func withBuildID(_ id: String) -> XenBuild? { known.first { $0.buildID == id } }
}
