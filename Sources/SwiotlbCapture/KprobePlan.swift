/// The kprobe events a capture of Linux 6.1's swiotlb defines (group `xenpv`), from the running
/// kernel's struct offsets (BTF) and the probe points found in its code. Every probe is a
/// breakpoint probe: function entries are probed just past the first instruction (the 5-byte
/// ftrace call site), since a probe at the entry itself is handled through ftrace, whose handler
/// runs with interrupts on and makes a probe hit from an interrupt (an NVMe completion's unmap)
/// count as missed.
public struct KprobePlan: Sendable, Equatable {
    /// The event group; `kprobe_events` lines of another group are never touched.
    public static let group = "xenpv"
    /// Bytes from a function's symbol to the instruction after its ftrace call site.
    public static let pastEntry = 5

    /// The struct members the probes read, from the kernel's BTF.
    public struct Offsets: Sendable, Equatable {
        /// `struct device`: `kobj`, `dma_parms`, `dma_io_tlb_mem`.
        public var deviceKobj, deviceDMAParms, deviceIOTLBMem: UInt32
        /// `struct kobject`: `name`.
        public var kobjectName: UInt32
        /// `struct device_dma_parameters`: `min_align_mask`, `segment_boundary_mask`.
        public var minAlignMask, segmentBoundaryMask: UInt32
        /// `struct io_tlb_mem`: `start`, `nslabs`, `nareas`.
        public var memStart, memNslabs, memNareas: UInt32
        /// `struct io_tlb_area`: `used`, `lock`.
        public var areaUsed, areaLock: UInt32

        /// The structs the offsets come from.
        public static let structs: Set<String> = ["device", "kobject", "device_dma_parameters", "io_tlb_mem", "io_tlb_area"]

        /// Reads them from `btf`; a missing struct or member is a failure naming it.
        public init(btf: BTFLayout) throws(BTFLayout.Failure) {
            deviceKobj = try btf.offset("device", "kobj")
            deviceDMAParms = try btf.offset("device", "dma_parms")
            deviceIOTLBMem = try btf.offset("device", "dma_io_tlb_mem")
            kobjectName = try btf.offset("kobject", "name")
            minAlignMask = try btf.offset("device_dma_parameters", "min_align_mask")
            segmentBoundaryMask = try btf.offset("device_dma_parameters", "segment_boundary_mask")
            memStart = try btf.offset("io_tlb_mem", "start")
            memNslabs = try btf.offset("io_tlb_mem", "nslabs")
            memNareas = try btf.offset("io_tlb_mem", "nareas")
            areaUsed = try btf.offset("io_tlb_area", "used")
            areaLock = try btf.offset("io_tlb_area", "lock")
        }
    }

    /// Where the probes go: byte offsets from the function symbols.
    public struct Sites: Sendable, Equatable {
        /// Calls or tail jumps to `_raw_spin_unlock_irqrestore` in `swiotlb_tbl_map_single`
        /// (the area search, inlined: found and not found).
        public var mapUnlocks: [Int]
        /// The call to `swiotlb_bounce` in `swiotlb_tbl_map_single` (its `tlb_addr` argument is
        /// the address the map returns).
        public var mapBounce: Int
        /// Calls or tail jumps to `_raw_spin_unlock_irqrestore` in `swiotlb_tbl_unmap_single`
        /// (the release of the slots, inlined).
        public var unmapUnlocks: [Int]

        /// The sites.
        public init(mapUnlocks: [Int], mapBounce: Int, unmapUnlocks: [Int]) {
            self.mapUnlocks = mapUnlocks; self.mapBounce = mapBounce; self.unmapUnlocks = unmapUnlocks
        }
    }

    /// The functions probed, in the order their definitions are written.
    public static let mapFunction = "swiotlb_tbl_map_single", unmapFunction = "swiotlb_tbl_unmap_single"
    /// The sync entries probed.
    public static let syncForDevice = "swiotlb_sync_single_for_device", syncForCPU = "swiotlb_sync_single_for_cpu"
    /// The functions whose code is searched for the sites.
    public static let unlockFunction = "_raw_spin_unlock_irqrestore", bounceFunction = "swiotlb_bounce"

    /// The offsets.
    public var offsets: Offsets
    /// The sites.
    public var sites: Sites

    /// A plan.
    public init(offsets: Offsets, sites: Sites) { self.offsets = offsets; self.sites = sites }

    /// `+<off>(<inner>)` with a signed decimal offset.
    private static func deref(_ off: Int64, _ inner: String) -> String { "\(off >= 0 ? "+" : "")\(off)(\(inner))" }

    /// The `kprobe_events` lines, one per event, in a fixed order.
    public var definitions: [String] {
        let o = offsets
        let parms = Self.deref(Int64(o.deviceDMAParms), "%di")
        let mem = Self.deref(Int64(o.deviceIOTLBMem), "%di")
        // `:string` reads the string at the address its fetch computes: the name pointer is one
        // dereference further in.
        let name = Self.deref(0, Self.deref(Int64(o.deviceKobj) + Int64(o.kobjectName), "%di"))
        let used = Self.deref(Int64(o.areaUsed) - Int64(o.areaLock), "%di")
        let g = Self.group
        var lines = [
            "p:\(g)/map \(Self.mapFunction)+\(Self.pastEntry) dev=%di:x64 orig=%si:x64 size=%dx:u64 alloc=%cx:u64 align=%r8:x32 dir=%r9:u32 attrs=$stack1:x64"
                + " parms=\(parms):x64 min_align=\(Self.deref(Int64(o.minAlignMask), parms)):x32 seg=\(Self.deref(Int64(o.segmentBoundaryMask), parms)):x64"
                + " pool=\(mem):x64 start=\(Self.deref(Int64(o.memStart), mem)):x64 nslabs=\(Self.deref(Int64(o.memNslabs), mem)):u64"
                + " nareas=\(Self.deref(Int64(o.memNareas), mem)):u32 name=\(name):string"
        ]
        for (i, s) in sites.mapUnlocks.enumerated() {
            lines.append("p:\(g)/map_unlock\(i) \(Self.mapFunction)+\(s) lock=%di:x64 used=\(used):u64")
        }
        lines.append("p:\(g)/map_done \(Self.mapFunction)+\(sites.mapBounce) tlb=%si:x64")
        lines.append("p:\(g)/unmap \(Self.unmapFunction)+\(Self.pastEntry) dev=%di:x64 tlb=%si:x64 size=%dx:u64 dir=%cx:u32 attrs=%r8:x64 name=\(name):string")
        for (i, s) in sites.unmapUnlocks.enumerated() {
            lines.append("p:\(g)/unmap_unlock\(i) \(Self.unmapFunction)+\(s) lock=%di:x64 used=\(used):u64")
        }
        lines.append("p:\(g)/sync_device \(Self.syncForDevice)+\(Self.pastEntry) dev=%di:x64 tlb=%si:x64 size=%dx:u64 dir=%cx:u32")
        lines.append("p:\(g)/sync_cpu \(Self.syncForCPU)+\(Self.pastEntry) dev=%di:x64 tlb=%si:x64 size=%dx:u64 dir=%cx:u32")
        return lines
    }

    /// The event names the definitions create (without the group).
    public var eventNames: [String] {
        definitions.map { d in
            let head = d.split(separator: " ", maxSplits: 1)[0]
            return String(head.split(separator: "/", maxSplits: 1)[1])
        }
    }
}
