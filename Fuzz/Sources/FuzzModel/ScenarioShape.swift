/// Draws the choices of a generated scenario from the fuzzer's bytes (0 once they run out), so
/// a small change of input makes a small change of scenario.
struct Choices {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var next = 0

    /// Choices read from `bytes`.
    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// A byte.
    mutating func byte() -> UInt8 {
        guard next < bytes.count else { return 0 }
        defer { next += 1 }
        return bytes[next]
    }

    /// A number in `0..<n` (n ≤ 2^16).
    mutating func below(_ n: Int) -> Int {
        guard n > 1 else { return 0 }
        return (Int(byte()) << 8 | Int(byte())) % n
    }

    /// Whether a one-in-`n` choice is taken.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }

    /// One of `options`.
    mutating func pick<T>(_ options: [T]) -> T { options[below(options.count)] }
}

/// A scenario (YAML text) and its trace files, shaped like the schema so that most inputs
/// parse, small enough that a run takes well under the fuzzer's time limit: hosts of at most
/// 2 GiB, a few devices, streams of at most a few thousand maps.
struct ScenarioShape {
    /// The scenario.
    var yaml = ""
    /// Trace files by name.
    var traces: [String: [String]] = [:]

    /// The scenario `c` chooses.
    init(_ c: inout Choices) {
        let ramMiB = c.pick([64, 96, 128, 256, 512, 768, 1024, 1536, 2048])
        var host = "{ram: \(ramMiB)M"
        if c.oneIn(6) { host += ", dma_bits: \(c.pick([13, 24, 30, 32, 40, 52]))" }
        let ramFrames = ramMiB << 8
        if c.oneIn(4) {
            // Boot regions and inventory blocks, now and then overlapping or outside RAM.
            let end = c.pick([ramFrames / 2, ramFrames - 0x100, ramFrames + 0x1000, 0x79200])
            host += ", boot_regions: [{start: 0x\(String(c.pick([0x100, 0x80, 0x1000]), radix: 16)), end: 0x\(String(max(end, 0x200), radix: 16))}]"
            if c.oneIn(2) {
                let order = c.below(9)
                let mfn = (c.pick([ramFrames - 0x400, ramFrames / 2, 0x1000, ramFrames + 0x100]) >> order) << order
                host += ", heap_inventory: [{mfn: 0x\(String(max(mfn, 0x100), radix: 16)), order: \(order)}]"
            }
        } else if c.oneIn(4) {
            host += ", taken_below_4g: \(c.pick([16, 256, 1024, 3000]))M"
        }
        host += "}"

        var xen = "{dom0_mem: \"\(c.pick(["768M,max:768M", "512M", "max:0", "1G,max:1G", "90%", "256M,max:2G", "min:128M", "64M"]))\""
        if c.oneIn(8) { xen += ", build: debug" }
        if c.oneIn(8) { xen += ", memop_max_order: \"9,18,12,12\"" }
        if c.oneIn(6) { xen += ", initial_mapping: \(c.pick(["0x4c00000", "0x1000000", "0x10000000", "4096"]))" }
        if c.oneIn(6) {
            let s = c.pick([0x7a000, ramFrames / 2, ramFrames + 0x10])
            xen += ", initrd: {start: 0x\(String(s, radix: 16)), end: 0x\(String(s + c.pick([0x10, 0x400, 0x4000]), radix: 16))}"
        }
        xen += "}"

        let kind = c.pick(["pv-dom0", "pv-dom0", "pv-domu", "native"])
        let kernel = kind == "pv-dom0" ? c.pick(["v5.11", "rfc-v1", "v6.1"]) : c.pick(["v5.11", "rfc-v1"])
        let slots = c.pick(["", "1024", "2048", "8192", "65536", "0x800", "128", "1"])
        var swiotlb = slots.isEmpty ? "" : "swiotlb=\(slots)"
        if kernel == "rfc-v1" && !slots.isEmpty && c.oneIn(2) { swiotlb += ",\(c.pick(["4096", "16384", "131072"]))" }
        if kernel == "v6.1" && !slots.isEmpty && c.oneIn(2) { swiotlb += ",\(c.pick(["1", "2", "4", "64", "4096"]))" }
        let force = c.pick(["", ",force", ",noforce", ",forse"])
        swiotlb = swiotlb.isEmpty ? (force.isEmpty ? "" : "swiotlb=" + force.dropFirst()) : swiotlb + force
        let cmdline = [swiotlb, c.oneIn(2) ? "iommu=soft" : ""].filter { !$0.isEmpty }.joined(separator: " ")
        var guest = "{type: \(kind), kernel: \(kernel), cmdline: \"\(cmdline)\""
        if kind != "pv-dom0" { guest += ", memory: \(c.pick([64, 256, 512, 1024, 2048]))M" }
        if kind == "native" && c.oneIn(2) { guest += ", memory_encryption: sev" }
        if c.oneIn(4) { guest += ", cpus: \(c.pick([1, 2, 3, 8, 64, 4096]))" }
        if c.oneIn(5) { guest += ", early_reserved: \(c.pick([16, 128, 512, 760, 2000]))M" }
        if c.oneIn(6) { guest += ", swiotlb_end: 0x\(String(c.pick([0x2ec0_0000, 0x100000, 0x40_0000_0000, 0x1000_0000]), radix: 16))" }
        guest += "}"

        var devices: [String] = []
        for i in 0..<(1 + c.below(3)) {
            var d = "{name: d\(i)"
            switch c.below(3) {
            case 0: d += ", dma_bits: \(c.pick([12, 24, 30, 32, 36, 40, 64]))"
            case 1: d += ", dma_mask: 0x\(String(c.pick([0xfff, 0xffffff, 0xffff_ffff, UInt64.max, 0x3fff_ffff]), radix: 16))"
            default: break
            }
            if c.oneIn(3) { d += ", coherent_bits: \(c.pick([24, 32, 64]))" }
            if c.oneIn(4) { d += ", bus_limit: 0x\(String(c.pick([0xffff_ffff, 0xfffff, 0]), radix: 16))" }
            if c.oneIn(3) { d += ", segment_boundary: 0x\(String(c.pick([0xfff, 0xffff, 0xffff_ffff, 0x0]), radix: 16))" }
            if c.oneIn(3) { d += ", max_segment: \(c.pick(["512", "4K", "64K", "1M"]))" }
            if c.oneIn(4) { d += ", coherent: false" }
            if c.oneIn(4) { d += ", min_align_mask: 0x\(String(c.pick([0, 0xfff, 0x7ff, 0x1ff]), radix: 16))" }
            devices.append(d + "}")
        }

        var streams: [String] = []
        for i in 0..<(1 + c.below(3)) {
            let dev = "d\(c.below(devices.count))"
            switch c.below(5) {
            case 0:
                streams.append(
                    "{fio: {device: \(dev), block_size: \(c.pick(["512", "4K", "64K", "256K", "1M"])), queue_depth: \(1 + c.below(64)), read_percent: \(c.below(101)), ops: \(1 + c.below(2000))}}"
                )
            case 1:
                streams.append(
                    "{network: {device: \(dev), mtu: \(c.pick([68, 1500, 9000, 65535])), in_flight: \(1 + c.below(512)), ops: \(1 + c.below(2000))}}")
            case 2:
                streams.append(
                    "{sg: {device: \(dev), segments: \(1 + c.below(64)), segment_size: \(c.pick(["1", "512", "4K", "64K"])), queue_depth: \(1 + c.below(16)), ops: \(1 + c.below(100))}}"
                )
            case 3:
                streams.append("{coherent: {device: \(dev), size: \(c.pick(["1", "4K", "16K", "4M"])), count: \(1 + c.below(64))}}")
            default:
                let name = "t\(i).trace"
                traces[name] = Self.trace(&c)
                streams.append("{trace: {device: \(dev), file: \(name)}}")
            }
        }
        yaml = """
            schema: 1
            host: \(host)
            xen: \(xen)
            guest: \(guest)
            devices: [\(devices.joined(separator: ", "))]
            workload: {seed: \(c.below(1000)), streams: [\(streams.joined(separator: ", "))]}
            """
    }

    /// A trace of up to 200 lines over a few ids, now and then breaking a rule.
    static func trace(_ c: inout Choices) -> [String] {
        var lines: [String] = []
        if c.oneIn(3) { lines.append("pool nslabs=\(c.pick([128, 1024, 100])) start=0x\(String(c.pick([0x0, 0x1000000, 0x1001]), radix: 16))") }
        var live = Set<Int>()
        for _ in 0..<c.below(200) {
            let id = c.below(8)
            switch c.below(4) {
            case 0, 1:
                if live.contains(id) && !c.oneIn(20) { continue }
                live.insert(id)
                let size = c.pick([1, 512, 2048, 4096, 5000, 65536, 262144])
                let dir = c.pick(["to_device", "from_device", "bidirectional", "none"])
                var l = "map id=\(id) orig=0x\(String(c.below(1 << 16) << 12 | c.below(4096), radix: 16)) size=\(size) dir=\(dir)"
                if c.oneIn(4) { l += " seg_mask=0x\(String(c.pick([0xffff, 0xffff_ffff, 0x1234]), radix: 16))" }
                if c.oneIn(4) { l += " dma_mask=0x\(String(c.pick([0xffff_ffff, UInt64.max]), radix: 16))" }
                lines.append(l)
            case 2:
                if !live.contains(id) && !c.oneIn(20) { continue }
                live.remove(id)
                lines.append("unmap id=\(id)")
            default:
                if !live.contains(id) && !c.oneIn(20) { continue }
                lines.append("sync id=\(id) target=\(c.pick(["cpu", "device"]))")
            }
        }
        return lines
    }
}
