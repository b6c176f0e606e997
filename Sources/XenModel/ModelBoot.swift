import Swiotlb
import XenBoot
import XenMemory
import XenSwiotlb

/// What booting a scenario produced: the lines Xen and the guest kernel print, the guest's
/// memory, and where the guest stands (``state``): up with its DMA engine, up with the engine
/// taken by a workload run, or failed.
public struct BootResult: Sendable {
    /// Xen's console lines (`(XEN)` prefix not included).
    public var xenLog: [String]
    /// The guest kernel's lines.
    public var kernelLog: [String]
    /// Whether the guest came up, and who holds its DMA engine.
    public internal(set) var state: BootState
    /// Free guest memory after boot (buffers and coherent pages come from here).
    public var memory: PseudoPhysicalAllocator
    /// The guest's usable pseudo-physical RAM without the swiotlb pools.
    public var bufferRanges: [Range<PFN>]
    /// The host after boot (nil for a native guest).
    public var host: XenHost?
    /// The guest's P2M (PV guests).
    public var p2m: GuestP2M?
    /// xen-swiotlb's fixup exchanges (PV guests).
    public var exchanges: [FixupExchange]

    /// Why the guest did not come up (``BootState/failed(_:)``); nil when it did, whether or not
    /// a run has taken its engine since. Its ``BootFailure/fault`` names the scenario field when
    /// the scenario asked for a guest that cannot be (see ``Scenario/refusal(for:)``).
    public var failure: BootFailure? {
        guard case .failed(let f) = state else { return nil }
        return f
    }
}

/// Where a booted guest stands: the three states of a ``BootResult``, exactly one at a time.
///
/// ```swift
/// let boot = ModelBoot.boot(scenario)
/// switch boot.state {
/// case .ready(var engine): _ = try engine.map(device, PhysicalAddress(0x200_0000), size: 4096, direction: .toDevice)
/// case .consumedByRun: break                     // only in a ``RunResult``: the run drove it
/// case .failed(let why): print("boot failed: \(why)")
/// }
/// ```
public enum BootState: Sendable {
    /// The guest came up: its DMA API, ready to map and unmap.
    case ready(DMAEngine)
    /// The guest came up and a workload run (``WorkloadRunner/run(_:progress:)``) took its DMA
    /// engine: moved out rather than copied, so that the run holds the only reference to the slot
    /// tables. The ``RunResult`` holding this boot has what the run did.
    case consumedByRun
    /// The guest did not come up: what the boot stopped at.
    case failed(BootFailure)
}

/// A scenario value the boot found impossible: the field's path and what is wrong with it.
public struct FieldFault: Sendable, Equatable {
    /// The field's path, e.g. `guest.early_reserved`.
    public var path: String
    /// What is wrong.
    public var message: String
}

/// Boots the machine a scenario describes.
public enum ModelBoot {
    /// Builds host, hypervisor and guest, and sets up (xen-)swiotlb.
    public static func boot(_ s: Scenario) -> BootResult {
        let cmd = SwiotlbCommandLine(parsing: s.guest.swiotlbParameter ?? "", kernel: s.guest.kernel)
        switch s.guest.kind {
        case .native: return bootNative(s, cmd)
        case .pvDom0, .pvDomU: return bootPV(s, cmd)
        }
    }

    static func bootNative(_ s: Scenario, _ cmd: SwiotlbCommandLine) -> BootResult {
        var guest = NativeGuestBoot(e820: .qemuPC(ramBytes: s.guest.memory ?? 1 << 30))
        if let fault = reserveEarly(&guest.memory, s.guest.earlyReserved) {
            return BootResult(
                xenLog: [], kernelLog: [], state: .failed(.impossibleField(fault)), memory: guest.memory, bufferRanges: [], host: nil,
                p2m: nil, exchanges: [])
        }
        let dynamic = s.guest.swiotlbDynamic
        let dynamicFrames = dynamic.map { $0.lowerBound.pfn..<$0.upperBound.pfn }
        if let dynamic, let frames = dynamicFrames {
            guard guest.memory.isFree(frames) else {
                let fault = FieldFault(
                    path: "guest.swiotlb_dynamic",
                    message: "\(dynamic.lowerBound)-\(dynamic.upperBound) is not free guest RAM (the first MiB, a hole or early_reserved)"
                )
                return BootResult(
                    xenLog: [], kernelLog: [], state: .failed(.impossibleField(fault)), memory: guest.memory, bufferRanges: [],
                    host: nil, p2m: nil, exchanges: [])
            }
            guest.memory.reserve(frames)
        }
        var log = guest.e820Lines
        guard
            var d = guest.swiotlb(
                commandLine: cmd, kernel: s.guest.kernel, encryption: s.guest.encryption,
                iommuSoft: s.guest.iommuSoft, cpus: s.guest.cpus, dynamicPools: dynamic, coherentPool: s.guest.coherentPool)
        else {
            return BootResult(
                xenLog: [], kernelLog: log + [SwiotlbKernelText.messagePrefix + "Cannot allocate buffer"], state: .failed(.noPoolBelow4GiB),
                memory: guest.memory, bufferRanges: [], host: nil, p2m: nil, exchanges: [])
        }
        log += d.log
        d.tlb.copiesData = false
        return BootResult(
            xenLog: [], kernelLog: log, state: .ready(.native(d)), memory: guest.memory,
            bufferRanges: bufferRanges(memory: dynamicFrames.map { guest.usableFrames.subtracting($0) } ?? guest.usableFrames, pools: d.tlb.pools),
            host: nil, p2m: nil, exchanges: [])
    }

    static func bootPV(_ s: Scenario, _ cmd: SwiotlbCommandLine) -> BootResult {
        var host: XenHost
        var afterInitialBlock: [XenHeapStep] = []
        do { (host, afterInitialBlock) = try bootXen(s) } catch {
            return BootResult(
                xenLog: [], kernelLog: [], state: .failed(.hostSetUp(error)), memory: PseudoPhysicalAllocator(e820: GuestE820([])),
                bufferRanges: [], host: nil, p2m: nil, exchanges: [])
        }
        host.memopMaxOrder = s.xen.memopMaxOrder
        var guest: PVGuestBoot
        do {
            if s.guest.kind == .pvDom0 {
                var cfg = Dom0BuildConfig()
                cfg.memory = s.xen.dom0Memory
                cfg.debugBuild = s.xen.debugBuild
                cfg.kernelModule = s.xen.kernelModule
                cfg.initrd = s.xen.initrd
                if let m = s.xen.initialMapping { cfg.initialMappingBytes = m }
                cfg.afterInitialBlock = afterInitialBlock
                guest = try PVGuestBoot.dom0(on: host, cfg)
            } else {
                guard s.guest.iommuSoft || cmd.force == .force else {
                    return failed(PVGuestBoot.e820Lines(of: host), [], host, .domUWithoutSoftIOMMU)
                }
                guest = try PVGuestBoot.domU(on: host, pages: (s.guest.memory ?? 1 << 30) >> Page.shift)
            }
        } catch {
            return failed(error)
        }
        if let fault = reserveGuestMemory(&guest, s) {
            return failed(guest.xenLog, guest.setup.log, guest.host, .impossibleField(fault))
        }
        let config = XenSwiotlbConfig(kernel: s.guest.kernel, commandLine: cmd, early: true, cpus: s.guest.cpus, dynamicPools: s.guest.swiotlbDynamic)
        switch guest.xenSwiotlb(config) {
        case .success(var x):
            // A model run carries no data: count the copies, do not make them.
            x.tlb.copiesData = false
            if let fault = allocateBootCoherent(&x, s) {
                return failed(guest.xenLog, guest.setup.log + x.log, x.host, .impossibleField(fault))
            }
            return BootResult(
                xenLog: guest.xenLog, kernelLog: guest.setup.log + x.log, state: .ready(.xen(x)), memory: x.memory,
                bufferRanges: bufferRanges(memory: guest.usableFrames, pools: x.tlb.pools),
                host: x.host, p2m: x.dom0.p2m, exchanges: x.exchanges)
        case .failure(let e):
            var r = failed(guest.xenLog, guest.setup.log + e.log, guest.host, .xenSwiotlbSetUp(rc: e.rc))
            r.exchanges = e.exchanges
            r.p2m = guest.domain.p2m
            return r
        }
    }

    /// The devices' coherent allocations at probe (`boot_coherent`), device by device in the
    /// scenario's order, through `xen_swiotlb_alloc_coherent` at the pages the scenario names;
    /// pages that are not free dom0 memory, or an exchange Xen refuses, are the field's fault.
    static func allocateBootCoherent(_ x: inout XenSwiotlb, _ s: Scenario) -> FieldFault? {
        for (i, d) in s.devices.enumerated() {
            for (k, c) in d.bootCoherent.enumerated() where x.allocCoherent(d.dma, size: Int(c.size), at: c.pfn) == nil {
                return FieldFault(
                    path: "devices[\(i)].boot_coherent[\(k)]",
                    message: "pfn \(c.pfn) (\(c.size) bytes): not free dom0 memory aligned to the allocation's pages, or Xen refused the exchange")
            }
        }
        return nil
    }

    /// Xen's heap at boot: the scenario's boot regions and inventory, Xen's own boot from its
    /// build's figures (dom0's vCPUs being the host's CPUs, Xen's default), or all RAM but what
    /// the scenario says is taken and the boot modules; and what Xen allocates after dom0's
    /// initial block.
    static func bootXen(_ s: Scenario) throws(XenHostError) -> (XenHost, [XenHeapStep]) {
        let modules = [s.xen.kernelModule, s.xen.initrd].compactMap { $0 }
        if let regions = s.host.bootRegions {
            return (try XenHost(e820: s.host.e820, dmaBits: s.host.dmaBits, bootRegions: regions, inventory: s.host.inventory), [])
        } else if let build = s.xen.package {
            let (host, memory) = try XenBootMemory.boot(
                e820: s.host.e820, modules: modules, build: build, host: XenBootHost(cpus: s.guest.cpus), dmaBits: s.host.dmaBits)
            return (host, memory.afterInitialBlock)
        }
        let taken: [Range<MFN>] = s.host.takenBelow4G > 0 ? [MFN(0x100)..<MFN(0x100 + s.host.takenBelow4G)] : []
        return (try XenHost(e820: s.host.e820, dmaBits: s.host.dmaBits, reserved: taken + modules), [])
    }

    /// The guest's memory its kernel takes before swiotlb (`early_reserved`, and all above
    /// `swiotlb_end`); the scenario field that cannot be, if one cannot.
    static func reserveGuestMemory(_ guest: inout PVGuestBoot, _ s: Scenario) -> FieldFault? {
        if let fault = reserveEarly(&guest.memory, s.guest.earlyReserved) { return fault }
        guard let end = s.guest.swiotlbEnd else { return nil }
        let top = guest.setup.e820.maxRAMFrame
        guard end.pfn <= top else {
            return FieldFault(
                path: "guest.swiotlb_end", message: "\(end) is beyond the guest's memory (its RAM ends at \(top.address))")
        }
        guest.memory.reserve(end.pfn..<top)
        return nil
    }

    /// A guest Xen could not build.
    static func failed(_ error: PVGuestBootError) -> BootResult {
        switch error.reason {
        case .dom0(let e): return failed(error.xenLog, [], error.host, .dom0Build(e))
        case .domU(let e): return failed(error.xenLog, [], error.host, .domUPopulate(e))
        }
    }

    static func failed(_ xen: [String], _ kernel: [String], _ host: XenHost, _ why: BootFailure) -> BootResult {
        BootResult(
            xenLog: xen, kernelLog: kernel, state: .failed(why), memory: PseudoPhysicalAllocator(e820: GuestE820([])),
            bufferRanges: [], host: host, p2m: nil, exchanges: [])
    }

    /// Keeps `bytes` at the top of free memory away from later allocations (`guest.early_reserved`);
    /// the fault when the guest has no free range that large.
    static func reserveEarly(_ memory: inout PseudoPhysicalAllocator, _ bytes: UInt64) -> FieldFault? {
        guard bytes > 0 else { return nil }
        // At most 2^50 bytes (the schema's bound): no overflow.
        guard memory.allocate(pages: (bytes + Page.offsetMask) >> Page.shift) == nil else { return nil }
        let largest = memory.free.map(\.span).max() ?? 0
        return FieldFault(
            path: "guest.early_reserved",
            message: "\(bytes >> 20) MiB does not fit in the guest's free memory (its largest free range is \((largest << Page.shift) >> 20) MiB)")
    }

    /// RAM pfns minus the pools.
    static func bufferRanges(memory: [Range<PFN>], pools: [SlotPool]) -> [Range<PFN>] {
        pools.reduce(memory.filter { !$0.isEmpty }) { $0.subtracting($1.start.pfn..<$1.end.pfn) }
    }
}
