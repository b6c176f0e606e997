import XenDumps
import XenMemory

/// Where Xen placed dom0's kernel module, for a written scenario: from dom0's kernel image when
/// there is one (its size as Xen 4.17 computes it, the module ending where the initrd starts),
/// else from dom0's P2M (``HostScenarioWriter/kernelModuleStart(evidence:p2m:)``: the physmap frame after
/// the initrd whose modelled boot gives the frames the P2M holds).
enum KernelModulePlacement {
    /// The module's first frame: `image` (its path and reading) places it; without it, `p2mStart`.
    /// An image whose module does not fit below the initrd in one RAM entry is an error naming it.
    static func start(image: (String, BzImage)?, p2mStart: () throws -> MFN?, initrd: Range<MFN>, e820: HostE820) throws -> MFN? {
        guard let (path, bz) = image else { return try p2mStart() }
        guard let frames = bz.xenModuleFrames(belowInitrd: initrd, e820: e820) else {
            throw CLIError(
                "\(path): its \(bz.xenModulePages)-page boot module does not fit below the initrd (\(initrd.lowerBound)) in one RAM entry: not this host's kernel?"
            )
        }
        return frames.lowerBound
    }
}
