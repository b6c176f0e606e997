/// What of a host shapes Xen's own heap allocations while it boots, besides its memory map.
public struct XenBootHost: Sendable, Hashable {
    /// Present CPUs (`num_present_cpus()`); dom0 gets a vCPU on each (no `dom0_max_vcpus`).
    public var cpus: Int
    /// GSIs of the IO-APICs ("IRQ limits: 24 GSI" on QEMU's `pc`).
    public var gsis: Int = 24
    /// `xenlog_lower_thresh`: 4 with `loglvl=all`, the captured hosts' option (2 without).
    public var logLowerThreshold: Int = 4

    /// A host with `cpus` CPUs and QEMU `pc`'s IO-APIC.
    public init(cpus: Int) { self.cpus = max(cpus, 1) }

    /// `nr_irqs` (`init_ioapic_mappings`): a vector range per CPU or 8 per GSI, the larger.
    public var irqs: Int { max(cpus * 208, 8 * gsis) }

    /// `console_init_postirq`: `num_present_cpus() << (9 + xenlog_lower_thresh)` bytes, at
    /// least the 16 KiB static ring; the order `console_init_ring` allocates.
    public var consoleRingOrder: Int {
        BitMath.pageOrder(bytes: max(UInt64(cpus) << UInt64(9 + logLowerThreshold), 16 << 10))
    }

    /// Xen 4.17's heap allocations of its own between `end_boot_allocator` and dom0's initial
    /// block, in the order `__start_xen` makes them on this host (read from the source and
    /// checked against a traced boot of the build: docs/memory-model.md).
    public func heapSteps(build: XenBuild) -> [XenHeapStep] {
        var s: [XenHeapStep] = [
            .table("vm_init_type: the vmap bitmap"), .table("vm_init_type: L2 of the vmap area"),
            .table("vm_init_type: L1 of the vmap area"), .stack("cpu_alloc_stack(0)"), .machineToPhys,
            .allocate(order: 1, by: "xmem_pool_create (dmi_scan_machine's first xmalloc)"), .poolPage("dmi_save_ident"),
            .allocate(order: 0, addressBits: 44, by: "alloc_domain_struct (dom_xen)"),
            .allocate(order: 0, addressBits: 44, by: "alloc_domain_struct (dom_io)"),
            .table("vm_alloc: L1"), .table("map_pages_to_xen: L3"), .table("map_pages_to_xen: L2"), .table("map_pages_to_xen: L1"),
            .xmalloc(pages: (UInt64(irqs) * build.irqDescBytes + Page.size - 1) >> Page.shift, by: "init_irq_data: irq_desc[nr_irqs]"),
            .poolPage("arch_init_one_irq_desc"),
            .xmalloc(pages: build.machineCheckTelemetryPages, by: "mctelem_init"),
            .poolPage("cpu_schedule_up"), .allocate(order: 0, addressBits: 44, by: "alloc_domain_struct (idle domain)"),
            .allocate(order: 0, by: "alloc_vcpu_struct (idle vCPU 0)"), .table("alloc_stub_page (CPU 0)"),
            .poolPage("console_init_postirq"), .allocate(order: 2, by: "serial_async_transmit (16 KiB)"),
            .allocate(order: consoleRingOrder, by: "console_init_ring"),
            .table("svm_cpu_up_prepare: host save area"), .table("svm_cpu_up_prepare: VMCB"),
        ]
        for _ in 1..<cpus {
            s += [
                .allocate(order: build.perCPUOrder, by: "cpu_percpu_callback"), .allocate(order: 0, by: "alloc_vcpu_struct (idle vCPU)"),
                .poolPage("xstate_alloc_save_area"), .stack("cpu_smpboot_alloc"),
                .allocate(order: 0, by: "cpu_smpboot_alloc: GDT"), .allocate(order: 0, by: "cpu_smpboot_alloc: compat GDT"),
                .table("svm_cpu_up_prepare: host save area"), .table("svm_cpu_up_prepare: VMCB"),
            ]
        }
        s += [.table("livepatch_init: vm_init_type bitmap")]
        s += Array(repeating: .allocate(order: 2, by: "nestedhvm_setup: I/O bitmaps"), count: 3)
        s += [
            .allocate(order: 0, addressBits: 44, by: "alloc_domain_struct (dom0)"), .poolPage("init_domain_cpu_policy"),
            .allocate(order: 0, addressBits: 32, by: "arch_domain_create: shared_info"),
            .allocate(order: 0, by: "pv_domain_initialise"), .table("create_perdomain_mapping: L3"),
            .table("create_perdomain_mapping: L2"), .allocate(order: 0, by: "evtchn_init"), .poolPage("grant_table_init"),
            .table("vzalloc: maptrack"), .table("vzalloc: maptrack"),
        ]
        s += Array(repeating: .allocate(order: 0, by: "gnttab_grow_table"), count: 7)
        s += Self.vcpu(first: true)
        s += [.xmallocAndFree(pages: build.xzDecoderPages, by: "xz_dec_init (dom0's XZ kernel)")]
        return s
    }

    /// `vcpu_create` of one of dom0's vCPUs: its structure, wait queue, FPU save area and PV
    /// set-up (vCPU 0 also its per-domain L1).
    static func vcpu(first: Bool) -> [XenHeapStep] {
        [.allocate(order: 0, by: "alloc_vcpu_struct"), .allocate(order: 0, by: "init_waitqueue_vcpu"), .poolPage("xstate_alloc_save_area")]
            + (first ? [.allocate(order: 0, by: "create_perdomain_mapping (vCPU 0)")] : [])
            + [.allocate(order: 0, by: "pv_vcpu_initialise")]
    }

    /// What Xen allocates between dom0's initial block and the kernel's loading:
    /// `sched_setup_dom0_vcpus` creating dom0's other vCPUs.
    public var afterInitialBlock: [XenHeapStep] {
        (1..<cpus).flatMap { _ in Self.vcpu(first: false) }
    }
}

/// One of Xen's own heap operations while it boots, named after the function that makes it.
public enum XenHeapStep: Sendable, Hashable {
    /// `alloc_xenheap_pages` / `alloc_domheap_pages` with `MEMF_no_scrub`: a block kept;
    /// `addressBits` limits it to frames below 2^bits bytes (`MEMF_bits`).
    case allocate(order: Int, addressBits: Int? = nil, by: String)
    /// An order-0 page without `MEMF_no_scrub` (page tables, `alloc_stub_page`, SVM pages).
    case table(String)
    /// A page the xmalloc pool grows by (`xmem_pool_alloc`), made `MEMF_no_scrub`.
    case poolPage(String)
    /// `xmalloc_whole_pages`: the order that holds `pages`, the tail beyond them freed.
    case xmalloc(pages: UInt64, by: String)
    /// An xmalloc of whole pages, freed again (`xfree`) before dom0's initial block.
    case xmallocAndFree(pages: UInt64, by: String)
    /// An 8-page stack (`STACK_ORDER`) and the page tables `memguard_guard_stack` needs to map
    /// its guard pages in 4 KiB pages.
    case stack(String)
    /// `paging_init`: the M2P's L3, an order-9 block per 2 MiB that covers RAM, and its L2s.
    case machineToPhys
}
