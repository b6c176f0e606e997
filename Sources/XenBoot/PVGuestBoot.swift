import XenMemory
import XenSwiotlb

/// A Xen PV guest booted as far as its DMA API: Xen built the domain on the host and Linux ran
/// its PV memory set-up; (xen-)swiotlb comes next. The one way the model, `xenpv layout` and the
/// tests boot a PV guest.
///
/// ```swift
/// let host = try XenHost(e820: .qemuPC(ramBytes: 2 << 30))
/// var config = Dom0BuildConfig()
/// config.memory = try Dom0MemoryOption(parsing: "768M,max:768M")
/// let dom0 = try PVGuestBoot.dom0(on: host, config)
/// for line in dom0.xenLog { print("(XEN) \(line)") }        // Xen-e820 RAM map:, Dom0 alloc.: …
/// for line in dom0.setup.log { print(line) }                // Released …, Xen: [mem …]
/// switch dom0.xenSwiotlb(XenSwiotlbConfig(commandLine: SwiotlbCommandLine(parsing: "65536"))) {
/// case .success(let swiotlb): print(swiotlb.log)            // software IO TLB: mapped [mem …]
/// case .failure(let error): print(error.log)                // Failed to get contiguous memory …
/// }
/// ```
public struct PVGuestBoot: Sendable {
    /// The host after the build and the guest's set-up.
    public private(set) var host: XenHost
    /// The guest, its P2M as Linux left it.
    public private(set) var domain: PVDomain
    /// Xen's console lines (`(XEN) ` not included): the host's E820 and, for dom0, the
    /// builder's `PHYSICAL MEMORY ARRANGEMENT:` lines.
    public let xenLog: [String]
    /// What Linux's PV memory set-up did and printed.
    public let setup: PVMemorySetupResult
    /// The guest's free pseudo-physical memory: the usable E820 minus the ballooned extra
    /// regions and ``EarlyReservedFrames/pv``. Reserve more before ``xenSwiotlb(_:)`` to model
    /// what else the kernel took.
    public var memory: PseudoPhysicalAllocator

    init(host: XenHost, domain: PVDomain, xenLog: [String], setup: PVMemorySetupResult) {
        self.host = host; self.domain = domain; self.xenLog = xenLog; self.setup = setup
        memory = PseudoPhysicalAllocator(e820: setup.e820, p2m: domain.p2m)
        memory.reserve(EarlyReservedFrames.pv)
    }

    /// Xen's first console lines: the host's E820 (`Xen-e820 RAM map:` and one line an entry).
    public static func e820Lines(of host: XenHost) -> [String] { ["Xen-e820 RAM map:"] + host.e820.xenLines }

    /// Builds dom0 on `host` as Xen 4.17 does (``XenHost/buildDom0(_:)``), then runs Linux's PV
    /// memory set-up on the host's machine memory map. On failure Xen panics: the error carries
    /// its lines, the `Panic on CPU 0:` line last.
    public static func dom0(on host: XenHost, _ config: Dom0BuildConfig = Dom0BuildConfig()) throws(PVGuestBootError) -> PVGuestBoot {
        var host = host
        var log = e820Lines(of: host)
        let layout: Dom0Layout
        do { layout = try host.buildDom0(config) } catch {
            log.append("Panic on CPU 0: \(error.panicMessage)")
            throw PVGuestBootError(reason: .dom0(error), xenLog: log, host: host)
        }
        log += layout.log
        var domain = layout.domain
        let setup = LinuxPVMemorySetup.run(
            host: &host, domain: &domain, nrPages: layout.nrPages,
            maxReservation: layout.maxPages, map: GuestE820(dom0Layout: host.machineMemoryMap))
        return PVGuestBoot(host: host, domain: domain, xenLog: log, setup: setup)
    }

    /// Builds a PV domU of `pages` pages on `host` as libxenguest does
    /// (``XenHost/buildPVDomU(id:pages:maxPages:)``), its E820 one RAM range, then runs Linux's
    /// PV memory set-up as a domU.
    public static func domU(on host: XenHost, id: DomID = DomID(1), pages: UInt64) throws(PVGuestBootError) -> PVGuestBoot {
        var host = host
        let log = e820Lines(of: host)
        var domain: PVDomain
        do { domain = try host.buildPVDomU(id: id, pages: pages) } catch {
            throw PVGuestBootError(reason: .domU(error), xenLog: log, host: host)
        }
        let map = GuestE820([E820Entry(address: PhysicalAddress(0), size: pages << Page.shift, type: .ram)])
        let setup = LinuxPVMemorySetup.run(
            host: &host, domain: &domain, nrPages: pages, maxReservation: pages,
            map: map, isInitialDomain: false)
        return PVGuestBoot(host: host, domain: domain, xenLog: log, setup: setup)
    }

    /// The guest's RAM pfns that buffers may use: the usable E820 above
    /// ``EarlyReservedFrames/pv`` (the pools not taken out).
    public var usableFrames: [Range<PFN>] {
        setup.e820.ramFrames.subtracting(EarlyReservedFrames.pv)
    }

    /// Sets up xen-swiotlb early in boot (``XenSwiotlb/initialize(host:dom0:memory:config:)``)
    /// on this guest's host, P2M and free memory.
    public func xenSwiotlb(_ config: XenSwiotlbConfig) -> Result<XenSwiotlb, XenSwiotlbInitError> {
        XenSwiotlb.initialize(host: host, dom0: domain, memory: memory, config: config)
    }
}

/// Why a PV guest could not be built, with what Xen printed and the host as the failure left it.
public struct PVGuestBootError: Error, Sendable, CustomStringConvertible {
    /// The builder's error.
    public enum Reason: Sendable, Equatable {
        /// Xen could not build dom0 (it panics).
        case dom0(Dom0BuildError)
        /// libxenguest could not populate the domU.
        case domU(DomUBuildError)
    }
    /// What failed.
    public var reason: Reason
    /// Xen's console lines up to the failure.
    public var xenLog: [String]
    /// The host after the failed build.
    public var host: XenHost

    /// The builder's words.
    public var description: String {
        switch reason {
        case .dom0(let e): return e.description
        case .domU(let e): return "\(e)"
        }
    }
}
