import XenMemory
import XenModel

#if canImport(Glibc)
    import Glibc
#endif

/// The devices of a capture folder whose drivers' coherent allocations at probe left a trace in
/// dom0's P2M (``BootCoherentEvidence``): a virtio device, named by dom0's kernel log (a
/// `virtio_blk virtio<N>:` line) and by `iomem.txt`, where its PCI device is the resource
/// above `virtio-pci-modern` or `virtio-pci-legacy`. Virtio PCI sets a 64-bit DMA and coherent
/// mask. A folder without a virtio device, or whose P2M shows no exchanged block, has none.
///
/// The P2M does not show the order the blocks were allocated in, which decides the Xen heap
/// frames each exchange gets. They are written from the highest pfn down: Linux hands order-1
/// blocks out of its per-CPU lists most recently freed first, and on the 6 GiB capture
/// (Tests/Fixtures/real-captures/bigmem-1) the ring at pfn 0x100996 holds the order-1 block
/// Xen's heap gave first (0x1b9c18), the one at 0x100986 the next (0x1b962a).
enum BootCoherentDevices {
    /// The scenario's devices for `folder`: its kernel log's lines and, when there is one, its P2M.
    static func read(folder: String, kernelLog: [Substring], p2m: ExtentMap<P2MRun>?) throws -> [DeviceSpec] {
        guard let p2m, let virtio = virtioName(kernelLog) else { return [] }
        let blocks = Array(BootCoherentEvidence.exchangedBlocks(in: p2m).reversed())
        guard !blocks.isEmpty else { return [] }
        let path = folder + "/iomem.txt"
        let pci = access(path, F_OK) == 0 ? pciName(iomem: try lines(path)) : nil
        return [DeviceSpec(name: pci ?? virtio, dma: .pci(pci ?? virtio, bits: 64), bootCoherent: blocks)]
    }

    /// `devices` (the live host's PCI devices, from sysfs) with the exchanged blocks of dom0's
    /// live P2M given to the PCI device above the kernel log's `virtio<N>` in sysfs
    /// (`/sys/bus/virtio/devices/virtio<N>` links into its PCI device's folder). Without a
    /// virtio device, or with no exchanged block, `devices` as they are. `pciOf` finds the
    /// PCI device of a virtio one (sysfs; a test gives its own).
    static func live(
        devices: [DeviceSpec], kernelLog: [Substring], p2m: ExtentMap<P2MRun>,
        pciOf: (String) -> String? = pciParent(ofVirtio:)
    ) -> [DeviceSpec] {
        guard let virtio = virtioName(kernelLog), let pci = pciOf(virtio) else { return devices }
        let blocks = Array(BootCoherentEvidence.exchangedBlocks(in: p2m).reversed())
        guard !blocks.isEmpty else { return devices }
        var out = devices.filter { $0.name != pci }
        out.append(DeviceSpec(name: pci, dma: .pci(pci, bits: 64), bootCoherent: blocks))
        return out.sorted { $0.name < $1.name }
    }

    /// The name of the folder above `/sys/bus/virtio/devices/<virtio>`'s target: the PCI
    /// device (`0000:00:03.0`) the virtio device sits on, when the link says one.
    static func pciParent(ofVirtio virtio: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/sys/bus/virtio/devices/" + virtio, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let target = String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let parts = target.split(separator: "/")
        guard parts.count >= 2, let parent = parts.dropLast().last, parent.contains(":") else { return nil }
        return String(parent)
    }

    /// `virtio<N>` of the kernel log's first `virtio_blk virtio<N>:` line.
    static func virtioName(_ log: [Substring]) -> String? {
        for line in log {
            guard let at = line.range(of: "virtio_blk virtio") else { continue }
            let rest = line[at.upperBound...]
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            if !digits.isEmpty, rest.dropFirst(digits.count).first == ":" { return "virtio" + digits }
        }
        return nil
    }

    /// The PCI device (`0000:00:03.0`) whose resource holds the first virtio-pci one in
    /// `/proc/iomem`'s nesting (two more spaces of indent per level).
    static func pciName(iomem: [Substring]) -> String? {
        var parents: [(indent: Int, name: Substring)] = []
        for line in iomem {
            let indent = line.prefix { $0 == " " }.count
            guard let colon = line.range(of: " : ") else { continue }
            let name = line[colon.upperBound...]
            while let last = parents.last, last.indent >= indent { parents.removeLast() }
            if name == "virtio-pci-modern" || name == "virtio-pci-legacy" {
                return parents.last.map { String($0.name) }
            }
            parents.append((indent, name))
        }
        return nil
    }

    private static func lines(_ path: String) throws -> [Substring] {
        try TextFile.read(path, limit: .log).split(whereSeparator: { $0.isNewline })
    }
}
