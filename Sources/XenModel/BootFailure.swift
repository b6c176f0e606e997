import XenMemory

/// Why a scenario's guest did not come up: what the boot stopped at, as a value. Its
/// `description` is the line reports print (in the kernel's or Xen's words where there are any).
public enum BootFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A scenario value the boot found impossible (``Scenario/refusal(for:)`` names its line).
    case impossibleField(FieldFault)
    /// A native guest found no memory below 4 GiB for its swiotlb pool.
    case noPoolBelow4GiB
    /// The host's E820 or boot regions do not give Xen a heap.
    case hostSetUp(XenHostError)
    /// A PV domU without `iommu=soft` or `swiotlb=force` does not set up xen-swiotlb.
    case domUWithoutSoftIOMMU
    /// Xen's dom0 builder stopped (`construct_dom0`).
    case dom0Build(Dom0BuildError)
    /// libxenguest could not populate the domU.
    case domUPopulate(DomUBuildError)
    /// `xen_swiotlb_init` failed with `rc` (a negative errno).
    case xenSwiotlbSetUp(rc: Int32)

    /// The scenario field the failure comes from, when the scenario asked for a guest that
    /// cannot be; nil when the guest failed as it would on a real machine.
    public var fault: FieldFault? {
        switch self {
        case .impossibleField(let f): return f
        case .dom0Build(let e):
            switch e {
            case .tooSmallForKernel: return FieldFault(path: "xen.dom0_mem", message: e.description)
            case .moduleOutsideRAM(let m, _), .moduleInUse(let m, _):
                return FieldFault(path: m == .kernel ? "xen.kernel_module" : "xen.initrd", message: e.description)
            case .initialBlock, .notEnoughRAM: return nil
            }
        case .noPoolBelow4GiB, .hostSetUp, .domUWithoutSoftIOMMU, .domUPopulate, .xenSwiotlbSetUp: return nil
        }
    }

    /// The report's line.
    public var description: String {
        switch self {
        case .impossibleField(let f): return "\(f.path): \(f.message)"
        case .noPoolBelow4GiB: return "no memory below 4 GiB for the swiotlb pool"
        case .hostSetUp(let e): return "the host cannot be set up: \(e)"
        case .domUWithoutSoftIOMMU: return "a PV domU uses xen-swiotlb only with iommu=soft or swiotlb=force"
        case .dom0Build(let e): return "Xen could not build dom0 (\(e))"
        case .domUPopulate(let e): return "Xen could not populate the domU (\(e))"
        case .xenSwiotlbSetUp(let rc): return "xen-swiotlb set-up failed (rc:\(rc))"
        }
    }
}
