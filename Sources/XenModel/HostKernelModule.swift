import XenDumps
import XenMemory

extension HostScenarioWriter {
    /// Where Xen placed the kernel module, from dom0's P2M and what the logs say (``HostLogEvidence``):
    /// the first physmap pages after the initrd (its L3, L2 and L1 tables) are the first order-0
    /// blocks the heap had once Xen gave the module back, so the module starts at one of them or
    /// a few pages below one (the top of its first block). Each such frame is tried as the start
    /// with Xen's boot and dom0's build modelled (a known Xen build, ``XenBootMemory``), and the
    /// first whose model puts those same frames there wins: on the default capture the module's
    /// own first frame (0x7a7f7), on a 6 GiB capture the L2's (the L3 was a page Xen's boot
    /// left). Without a modelled build, the L3's frame. Nil without the initrd and initial
    /// mapping, or when that page is not a frame below the initrd (another host's P2M).
    public static func kernelModuleStart(evidence e: HostLogEvidence, p2m: ExtentMap<P2MRun>) -> MFN? {
        guard let rd = e.initrd, let mapping = e.initialMapping else { return nil }
        let pfn = (UInt64(1) << UInt64(BitMath.pageOrder(bytes: mapping))) + rd.span
        let real: [MFN?] = (0..<UInt64(3)).map { i in
            if case .machine(let m)? = p2m.run(from: pfn + i)?.value, m < rd.lowerBound { return m } else { return nil }
        }
        guard let first = real[0] else { return nil }
        let candidates = real.compactMap { $0 }.flatMap { f in (0...min(f.rawValue, 3)).map { MFN(f.rawValue - $0) } }
        return candidates.first { modelledPhysmapStart(e, moduleStart: $0, initrd: rd) == real } ?? first
    }

    /// The first three physmap frames of dom0 built on the host of `e`, the kernel module
    /// starting at `moduleStart`; nil when the build is not modelled or the model cannot build it.
    /// Its `try?`s are that "no": a candidate start the modelled boot or build refuses is not
    /// where Xen put the module, and ``kernelModuleStart(evidence:p2m:)`` tries the next.
    static func modelledPhysmapStart(_ e: HostLogEvidence, moduleStart: MFN, initrd rd: Range<MFN>) -> [MFN?]? {
        guard let name = e.xenPackage, let build = XenBuild.named(name), moduleStart < rd.lowerBound,
            let mapping = e.initialMapping, let memory = try? Dom0MemoryOption(parsing: e.dom0Mem ?? "")
        else { return nil }
        let module = moduleStart..<rd.lowerBound
        guard
            let (booted, boot) = try? XenBootMemory.boot(
                e820: HostE820(e.e820), modules: [module, rd], build: build, host: XenBootHost(cpus: e.dom0VCPUs ?? 1))
        else { return nil }
        var host = booted
        var cfg = Dom0BuildConfig()
        cfg.memory = memory
        cfg.kernelModule = module
        cfg.initrd = rd
        cfg.initialMappingBytes = mapping
        cfg.afterInitialBlock = boot.afterInitialBlock
        guard let layout = try? host.buildDom0(cfg) else { return nil }
        let frames = layout.physmapFrames.flatMap { e -> [MFN?] in
            guard case .machine(let m) = e.value else { return [nil] }
            return (0..<min(e.count, 3)).map { m.advanced(by: $0) }
        }
        return Array(frames.prefix(3))
    }
}
