import Swiotlb
import XenDumps
import XenMemory

/// Writes the scenario of a real host from what its logs (or, live, its hypervisor) say (``HostLogEvidence``): the E820,
/// Xen's build and `dom0_mem`, the boot modules, dom0's kernel, command line, vCPUs and bounce
/// buffer. No calibration: Xen's own boot allocations follow from its build (``XenBootMemory``).
public enum HostScenarioWriter {
    /// What the scenario needs besides the logs.
    public struct Placement: Sendable {
        /// The kernel module's first frame, when known (Xen places the module directly below
        /// the initrd; its size comes from the kernel image, which a capture rarely holds).
        public var kernelModuleStart: MFN?
        /// DMA devices: each written with its name, DMA mask and boot-time coherent
        /// allocations (a host's devices have the parser's other defaults: ``DMADevice/pci(_:bits:)``).
        public var devices: [DeviceSpec]
        /// Creates a placement.
        public init(kernelModuleStart: MFN? = nil, devices: [DeviceSpec] = []) {
            self.kernelModuleStart = kernelModuleStart; self.devices = devices
        }
    }

    /// The scenario as YAML (schema 1). Throws, in one line, what the logs lack.
    public static func yaml(name: String, evidence e: HostLogEvidence, placement: Placement) throws(HostScenarioError) -> String {
        guard !e.e820.isEmpty else { throw .missing("Xen's 'Xen-e820 RAM map:' lines") }
        guard e.xenVersion?.hasPrefix("4.17.") == true else {
            throw .unsupported("Xen \(e.xenVersion ?? "of unknown version") (only 4.17 is modelled)")
        }
        guard let kernelText = e.kernelVersion else { throw .missing("dom0's 'Linux version' line") }
        guard let kernel = kernel(kernelText) else {
            throw .unsupported("Linux \(kernelText) (the model has \(SwiotlbKernel.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var out = [
            "# Written by `xenpv scenario` from the logs of a real host: no calibration.", "schema: 1",
            "name: \(JSONValue.quote(name))", "host:", "  e820:",
        ]
        for entry in e.e820 {
            out.append("    - {start: \(entry.address), size: \(Hex.plain(entry.size)), type: \(typeName(entry.type))}")
        }
        out += ["xen:", "  version: \"4.17\""]
        if let p = e.xenPackage, XenBuild.named(p) != nil {
            out.append("  package: \(JSONValue.quote(p))")
        } else {
            out.append("  # Xen build \(JSONValue.quote(e.xenPackage ?? "unknown")): its own boot allocations are not modelled, the heap holds all RAM")
        }
        if e.xenDebug { out.append("  build: debug") }
        if let d = e.dom0Mem { out.append("  dom0_mem: \(JSONValue.quote(d))") }
        if let rd = e.initrd {
            if let k = placement.kernelModuleStart, k < rd.lowerBound {
                out.append("  kernel_module: {start: \(k), end: \(rd.lowerBound)}")
            }
            out.append("  initrd: {start: \(rd.lowerBound), end: \(rd.upperBound)}")
        }
        if let m = e.initialMapping { out.append("  initial_mapping: \(Hex.plain(m))") }
        out += ["guest:", "  type: pv-dom0", "  kernel: \(kernel.rawValue)"]
        if let c = e.kernelCommandLine { out.append("  cmdline: \(JSONValue.quote(c))") }
        if let n = e.dom0VCPUs { out.append("  cpus: \(n)") }
        if let end = e.swiotlbEnd { out.append("  swiotlb_end: \(end)") }
        if !placement.devices.isEmpty {
            out.append("devices:")
            for d in placement.devices { out += deviceLines(d) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// A device's entry of the `devices` list; its DMA mask is written as its width (`dma_bits`:
    /// a host's masks are `DMA_BIT_MASK(n)`, sysfs `dma_mask_bits`).
    static func deviceLines(_ d: DeviceSpec) -> [String] {
        let mask = "dma_bits: \(BitMath.fls64(d.dma.dmaMask))"
        guard !d.bootCoherent.isEmpty else { return ["  - {name: \(JSONValue.quote(d.name)), \(mask)}"] }
        return ["  - name: \(JSONValue.quote(d.name))", "    \(mask)", "    boot_coherent:"]
            + d.bootCoherent.map { "      - {pfn: \($0.pfn), size: \(Hex.plain($0.size))}" }
    }

    /// The modelled kernel of a version (`6.1.192` → v6.1).
    static func kernel(_ version: String) -> SwiotlbKernel? {
        let parts = version.split(separator: ".")
        guard parts.count >= 2 else { return nil }
        return SwiotlbKernel(rawValue: "v\(parts[0]).\(parts[1])")
    }

    static func typeName(_ t: E820Type) -> String {
        switch t {
        case .ram: return "ram"
        case .reserved: return "reserved"
        case .acpi: return "acpi"
        case .nvs: return "nvs"
        case .unusable: return "unusable"
        }
    }
}

/// Why a host's scenario cannot be written.
public enum HostScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The logs lack a line the scenario needs.
    case missing(String)
    /// The host runs something the model does not have.
    case unsupported(String)

    /// One line.
    public var description: String {
        switch self {
        case .missing(let what): return "no \(what)"
        case .unsupported(let what): return "\(what) is not modelled"
        }
    }
}
