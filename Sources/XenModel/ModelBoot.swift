import Swiotlb
import XenMemory
import XenSwiotlb

/// What booting a scenario produced: the lines Xen and the guest kernel print, and either a
/// running DMA engine or the failure the kernel stopped at.
public struct BootResult: Sendable {
    /// Xen's console lines (`(XEN)` prefix not included).
    public var xenLog: [String]
    /// The guest kernel's lines.
    public var kernelLog: [String]
    /// The DMA API, nil when boot failed.
    public var engine: DMAEngine?
    /// Free guest memory after boot (buffers and coherent pages come from here).
    public var memory: PseudoPhysicalAllocator
    /// The guest's usable pseudo-physical RAM, in pfns, without the swiotlb pools.
    public var bufferRanges: [Range<UInt64>]
    /// The host after boot (nil for a native guest).
    public var host: XenHost?
    /// The guest's P2M (PV guests).
    public var p2m: GuestP2M?
    /// xen-swiotlb's fixup exchanges (PV guests).
    public var exchanges: [FixupExchange]
    /// Why the guest did not come up, in the kernel's or Xen's words.
    public var failure: String?
    /// The scenario field the failure comes from, when the scenario asked for a guest that
    /// cannot be (see ``Scenario/refusal(for:)``); nil when the guest failed as it would on a
    /// real machine.
    public var fault: FieldFault?
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
        let e820 = E820Map.qemuPC(ramBytes: s.guest.memory ?? 1 << 30)
        var memory = PseudoPhysicalAllocator(e820: e820)
        memory.reserve(0..<0x100)
        if let fault = reserveEarly(&memory, s.guest.earlyReserved) {
            return BootResult(xenLog: [], kernelLog: [], engine: nil, memory: memory, bufferRanges: [], host: nil, p2m: nil,
                              exchanges: [], failure: "\(fault.path): \(fault.message)", fault: fault)
        }
        var log = e820.linuxLines.map { $0.replacingOccurrences(of: "Xen: ", with: "BIOS-e820: ") }
        if s.guest.memoryEncryption { log.append("AMD Memory Encryption Features active: SEV") }
        guard var d = DirectDMA.boot(e820: e820, commandLine: cmd, kernel: s.guest.kernel, memoryEncryption: s.guest.memoryEncryption,
                                     iommuSoft: s.guest.iommuSoft, memory: &memory) else {
            return BootResult(xenLog: [], kernelLog: log + ["software IO TLB: Cannot allocate buffer"], engine: nil, memory: memory,
                              bufferRanges: [], host: nil, p2m: nil, exchanges: [], failure: "no memory below 4 GiB for the swiotlb pool")
        }
        log += d.log
        d.tlb.copiesData = false
        return BootResult(xenLog: [], kernelLog: log, engine: DMAEngine(native: d), memory: memory,
                          bufferRanges: bufferRanges(memory: e820.ramFrames, pools: d.tlb.pools), host: nil, p2m: nil, exchanges: [], failure: nil)
    }

    static func bootPV(_ s: Scenario, _ cmd: SwiotlbCommandLine) -> BootResult {
        let taken: [Range<UInt64>] = s.host.takenBelow4G > 0 ? [0x100..<(0x100 + s.host.takenBelow4G)] : []
        let modules = [s.xen.kernelModule, s.xen.initrd].compactMap { $0 }
        var host: XenHost
        do {
            host = try s.host.bootRegions.map { (regions) throws(XenHostError) in
                try XenHost(e820: s.host.e820, dmaBits: s.host.dmaBits, bootRegions: regions, inventory: s.host.inventory)
            } ?? XenHost(e820: s.host.e820, dmaBits: s.host.dmaBits, reserved: taken + modules)
        } catch {
            return BootResult(xenLog: [], kernelLog: [], engine: nil, memory: PseudoPhysicalAllocator(e820: E820Map([])),
                              bufferRanges: [], host: nil, p2m: nil, exchanges: [], failure: "the host cannot be set up: \(error)")
        }
        host.memopMaxOrder = s.xen.memopMaxOrder
        var xenLog = ["Xen-e820 RAM map:"] + s.host.e820.xenLines
        var guest: PVDomain
        var nrPages: UInt64, maxPages: UInt64
        var map: E820Map
        if s.guest.kind == .pvDom0 {
            var cfg = Dom0BuildConfig()
            cfg.memory = s.xen.dom0Memory
            cfg.debugBuild = s.xen.debugBuild
            cfg.kernelModule = s.xen.kernelModule
            cfg.initrd = s.xen.initrd
            if let m = s.xen.initialMapping { cfg.initialMappingBytes = m }
            do {
                let layout = try host.buildDom0(cfg)
                xenLog += layout.log
                guest = layout.domain
                nrPages = layout.nrPages
                maxPages = layout.maxPages
            } catch {
                xenLog.append("Panic on CPU 0: \(error.panicMessage)")
                var r = failed(xenLog, [], host, "Xen could not build dom0 (\(error))")
                switch error {
                case .tooSmallForKernel: r.fault = FieldFault(path: "xen.dom0_mem", message: error.description)
                case .moduleOutsideRAM(let m, _), .moduleInUse(let m, _):
                    r.fault = FieldFault(path: m == .kernel ? "xen.kernel_module" : "xen.initrd", message: error.description)
                case .initialBlock, .notEnoughRAM: break
                }
                return r
            }
            map = host.machineMemoryMap
        } else {
            let pages = (s.guest.memory ?? 1 << 30) >> Page.shift
            do { guest = try host.buildPVDomU(id: DomID(1), pages: pages) } catch {
                return failed(xenLog, [], host, "Xen could not populate the domU (\(error))")
            }
            nrPages = pages
            maxPages = pages
            map = E820Map([E820Entry(address: 0, size: pages << Page.shift, type: .ram)])
            guard s.guest.iommuSoft || cmd.force == .force else {
                return failed(xenLog, [], host, "a PV domU uses xen-swiotlb only with iommu=soft or swiotlb=force")
            }
        }
        let setup = LinuxPVMemorySetup.run(host: &host, domain: &guest, nrPages: nrPages, maxReservation: maxPages,
                                           map: map, isInitialDomain: s.guest.kind == .pvDom0)
        var memory = PseudoPhysicalAllocator(e820: setup.e820, p2m: guest.p2m)
        memory.reserve(0..<0x1000)
        var fault = reserveEarly(&memory, s.guest.earlyReserved)
        if fault == nil, let end = s.guest.swiotlbEnd {
            let top = setup.e820.maxRAMFrame
            if end >> Page.shift > top {
                fault = FieldFault(path: "guest.swiotlb_end", message: "\(Hex.plain(end)) is beyond the guest's memory (its RAM ends at \(Hex.plain(top << Page.shift)))")
            } else {
                memory.reserve((end >> Page.shift)..<top)
            }
        }
        if let fault {
            var r = failed(xenLog, setup.log, host, "\(fault.path): \(fault.message)")
            r.fault = fault
            return r
        }
        let config = XenSwiotlbConfig(kernel: s.guest.kernel, commandLine: cmd, early: true, cpus: s.guest.cpus)
        switch XenSwiotlb.initialize(host: host, dom0: guest, memory: memory, config: config) {
        case .success(var x):
            // A model run carries no data: count the copies, do not make them.
            x.tlb.copiesData = false
            return BootResult(xenLog: xenLog, kernelLog: setup.log + x.log, engine: DMAEngine(xen: x), memory: x.memory,
                              bufferRanges: bufferRanges(memory: setup.e820.ramFrames.compactMap { $0.upperBound > 0x1000 ? max($0.lowerBound, 0x1000)..<$0.upperBound : nil }, pools: x.tlb.pools),
                              host: x.host, p2m: x.dom0.p2m, exchanges: x.exchanges, failure: nil)
        case .failure(let e):
            var r = failed(xenLog, setup.log + e.log, host, "xen-swiotlb set-up failed (rc:\(e.rc))")
            r.exchanges = e.exchanges
            r.p2m = guest.p2m
            return r
        }
    }

    static func failed(_ xen: [String], _ kernel: [String], _ host: XenHost, _ why: String) -> BootResult {
        BootResult(xenLog: xen, kernelLog: kernel, engine: nil, memory: PseudoPhysicalAllocator(e820: E820Map([])),
                   bufferRanges: [], host: host, p2m: nil, exchanges: [], failure: why)
    }

    /// Keeps `bytes` at the top of free memory away from later allocations (`guest.early_reserved`);
    /// the fault when the guest has no free range that large.
    static func reserveEarly(_ memory: inout PseudoPhysicalAllocator, _ bytes: UInt64) -> FieldFault? {
        guard bytes > 0 else { return nil }
        // At most 2^50 bytes (the schema's bound): no overflow.
        guard memory.allocate(pages: (bytes + Page.offsetMask) >> Page.shift) == nil else { return nil }
        let largest = memory.free.map { UInt64($0.count) }.max() ?? 0
        return FieldFault(path: "guest.early_reserved",
                          message: "\(bytes >> 20) MiB does not fit in the guest's free memory (its largest free range is \((largest << Page.shift) >> 20) MiB)")
    }

    /// RAM pfns minus the pools.
    static func bufferRanges(memory: [Range<UInt64>], pools: [SlotPool]) -> [Range<UInt64>] {
        pools.reduce(memory.filter { !$0.isEmpty }) { $0.subtracting((($1.start >> Page.shift)..<($1.end >> Page.shift))) }
    }
}
