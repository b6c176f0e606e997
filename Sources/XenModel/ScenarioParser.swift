import Swiotlb
import XenMemory
import Yams

/// Reads a scenario (YAML, or JSON which is YAML too) into a ``Scenario``; unknown keys are
/// errors and every error names the file, the line and the field's path.
public enum ScenarioParser {
    /// Reads a trace file named by a `trace` stream (relative paths are the caller's business);
    /// its error names the file as it was opened, so the parser does not name it again.
    public typealias TraceLoader = @Sendable (String) throws -> [String]

    /// Parses `text` read from `file`.
    public static func parse(_ text: String, file: String, loadTrace: TraceLoader? = nil) throws(ScenarioError) -> Scenario {
        let root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: file, line: 1, path: "", message: "empty document")
            }
            root = n
        } catch let e as ScenarioError {
            throw e
        } catch let e as YamlError {
            throw yamlError(e, file: file)
        } catch {
            throw ScenarioError(file: file, line: nil, path: "", message: "not valid YAML/JSON: \(ErrorToken.clipped(String(describing: error)))")
        }
        let r = Reader(file: file, loadTrace: loadTrace)
        return try r.scenario(Field(node: root, path: ""))
    }

    /// Yams' error as `<file>:<line>: not valid YAML/JSON: <problem>[ (<context> at line <n>)]`.
    static func yamlError(_ e: YamlError, file: String) -> ScenarioError {
        func located(_ line: Int?, _ problem: String, _ context: YamlError.Context?) -> ScenarioError {
            let inContext = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return ScenarioError(file: file, line: line, path: "", message: "not valid YAML/JSON: \(problem)\(inContext)")
        }
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return located(mark.line, problem, context)
        case .reader(let problem, let offset, _, let yaml):
            // `offset` counts characters from the start of the text.
            let line = offset.map { o in 1 + yaml.prefix(o).reduce(0) { $1 == "\n" ? $0 + 1 : $0 } }
            return located(line, problem, nil)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "'\(ErrorToken.clipped($0))'" }.joined(separator: ", ")
            return located(context.mark.line, "repeated key \(keys)", nil)
        default:
            let text = String(describing: e).split(separator: "\n").first.map(String.init) ?? ""
            return located(nil, ErrorToken.clipped(text), nil)
        }
    }
}

/// A node and where it is.
struct Field {
    var node: Node
    var path: String
    var line: Int? { node.mark?.line }
    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// The schema, field by field; it collects the warnings and the lines of the fields a boot may
/// find impossible as it reads.
final class Reader {
    let file: String
    let loadTrace: ScenarioParser.TraceLoader?
    /// Warnings so far (``Scenario/warnings``).
    var warnings: [String] = []
    /// Lines of the fields a boot may blame (``Scenario/fieldLines``).
    var fieldLines: [String: Int] = [:]

    init(file: String, loadTrace: ScenarioParser.TraceLoader?) {
        self.file = file
        self.loadTrace = loadTrace
    }

    func fail(_ f: Field, _ message: String) -> ScenarioError {
        ScenarioError(file: file, line: f.line, path: f.path, message: message)
    }

    // MARK: Shapes

    func mapping(_ f: Field, allowed: [String]) throws(ScenarioError) -> [String: Field] {
        guard case .mapping(let m) = f.node else { throw fail(f, "expected a mapping") }
        var out: [String: Field] = [:]
        for (k, v) in m {
            guard case .scalar(let ks) = k else { throw fail(Field(node: k, path: f.path), "keys must be plain words") }
            let key = ks.string
            let field = Field(node: v, path: f.child(ErrorToken.clipped(key)))
            guard allowed.contains(key) else {
                throw ScenarioError(
                    file: file, line: k.mark?.line, path: field.path, message: "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
            }
            guard out[key] == nil else { throw ScenarioError(file: file, line: k.mark?.line, path: field.path, message: "repeated key") }
            out[key] = field
        }
        return out
    }

    func sequence(_ f: Field) throws(ScenarioError) -> [Field] {
        guard case .sequence(let s) = f.node else { throw fail(f, "expected a list") }
        return s.enumerated().map { Field(node: $0.element, path: "\(f.path)[\($0.offset)]") }
    }

    func scalar(_ f: Field) throws(ScenarioError) -> String {
        guard case .scalar(let s) = f.node else { throw fail(f, "expected a single value") }
        return s.string
    }

    func required(_ m: [String: Field], _ key: String, in parent: Field) throws(ScenarioError) -> Field {
        guard let f = m[key] else { throw ScenarioError(file: file, line: parent.line, path: parent.child(key), message: "missing") }
        return f
    }

    func string(_ f: Field) throws(ScenarioError) -> String { try scalar(f) }

    /// An unsigned integer: decimal or `0x` hex.
    func integer(_ f: Field, in range: ClosedRange<UInt64> = 0...UInt64.max, what: String = "an integer") throws(ScenarioError) -> UInt64 {
        let s = try scalar(f)
        guard let n = Hex.number(Substring(s)), range.contains(n) else {
            throw fail(f, "expected \(what) in \(range.lowerBound)…\(range.upperBound), got '\(ErrorToken.clipped(s))'")
        }
        return n
    }

    /// A byte size (``ByteText/size(_:)``): a number with an optional K/M/G/T suffix (binary),
    /// or `0x` hex bytes, between `min` and `max`.
    func size(_ f: Field, min: UInt64 = 0, max: UInt64 = 1 << 50) throws(ScenarioError) -> UInt64 {
        let s = try scalar(f)
        // Malformed and too large are one refusal here: its line says what a size looks like and its bounds.
        guard let n = try? ByteText.size(Substring(s)), (min...max).contains(n) else {
            throw fail(f, "expected a size like 4K, 768M or 20G between \(min) and \(max) bytes, got '\(ErrorToken.clipped(s))'")
        }
        return n
    }

    func bool(_ f: Field) throws(ScenarioError) -> Bool {
        switch try scalar(f) {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case let s: throw fail(f, "expected true or false, got '\(ErrorToken.clipped(s))'")
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ f: Field, _ type: T.Type) throws(ScenarioError) -> T where T.RawValue == String {
        let s = try scalar(f)
        guard let v = T(rawValue: s) else {
            throw fail(f, "expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(ErrorToken.clipped(s))'")
        }
        return v
    }

    // MARK: Sections

    func scenario(_ f: Field) throws(ScenarioError) -> Scenario {
        let m = try mapping(f, allowed: ["schema", "name", "host", "xen", "guest", "devices", "workload"])
        let schemaField = try required(m, "schema", in: f)
        let schema = try integer(schemaField, what: "the schema version")
        guard schema == 1 else { throw fail(schemaField, "this xenpv reads schema 1, got \(schema)") }
        let host = try self.host(try required(m, "host", in: f))
        let xen =
            try m["xen"].map { (x) throws(ScenarioError) in try self.xen(x) }
            ?? XenSpec(dom0Memory: Dom0MemoryOption(), dom0MemoryText: nil, debugBuild: false, memopMaxOrder: MemopMaxOrder())
        if xen.package != nil, host.takenBelow4G > 0, let h = m["host"],
            let t = try mapping(h, allowed: ["ram", "e820", "dma_bits", "taken_below_4g", "boot_regions", "heap_inventory"])["taken_below_4g"]
        {
            throw fail(t, "give taken_below_4g or xen.package, not both (the build's own boot allocations say what Xen took)")
        }
        let guest = try self.guest(try required(m, "guest", in: f))
        var devices: [DeviceSpec] = []
        var names = Set<String>()
        for d in try m["devices"].map({ (x) throws(ScenarioError) in try sequence(x) }) ?? [] {
            let dev = try device(d)
            guard names.insert(dev.name).inserted else { throw fail(d, "two devices named '\(ErrorToken.clipped(dev.name))'") }
            devices.append(dev)
        }
        let workload =
            try m["workload"].map { (x) throws(ScenarioError) in try self.workload(x, devices: names, kernel: guest.kernel) }
            ?? WorkloadSpec(seed: 1, streams: [])
        var scenario = Scenario(
            name: try m["name"].map { (x) throws(ScenarioError) in try string(x) } ?? "unnamed",
            host: host, xen: xen, guest: guest, devices: devices, workload: workload, warnings: warnings)
        scenario.file = file
        // dom0_mem's default is blamed on the xen section, or the top.
        scenario.fieldLines = fieldLines
        if fieldLines["xen.dom0_mem"] == nil { scenario.fieldLines["xen.dom0_mem"] = m["xen"]?.line ?? f.line }
        return scenario
    }

    /// The host, checked as Xen's heap needs it (XenHost.validate), its faults named by field.
    func host(_ f: Field) throws(ScenarioError) -> HostSpec {
        let m = try mapping(f, allowed: ["ram", "e820", "dma_bits", "taken_below_4g", "boot_regions", "heap_inventory"])
        let e820: HostE820
        var entryFields: [Field] = []
        switch (m["ram"], m["e820"]) {
        case (let r?, nil): e820 = .qemuPC(ramBytes: try size(r, min: HostE820.qemuPCRAMBytes.lowerBound, max: HostE820.qemuPCRAMBytes.upperBound))
        case (nil, let e?): (e820, entryFields) = try e820Entries(e)
        case (nil, nil): throw ScenarioError(file: file, line: f.line, path: f.child("ram"), message: "missing (give ram or e820)")
        case (_?, let e?): throw fail(e, "give either ram or e820, not both")
        }
        let dma = try m["dma_bits"].map { (x) throws(ScenarioError) in Int(try integer(x, in: 13...52, what: "an address width")) }
        let taken = try m["taken_below_4g"].map { (x) throws(ScenarioError) in try size(x, max: (4 << 30) - (1 << 20)) } ?? 0
        var spec = HostSpec(e820: e820, dmaBits: dma, takenBelow4G: taken >> Page.shift)
        let pieces = try heapPieces(m, into: &spec)
        do {
            try XenHost.validate(e820: e820, bootRegions: spec.bootRegions ?? [], inventory: spec.inventory)
        } catch {
            // Entries are in address order as given; pieces are the boot regions, then the blocks.
            let at: Field
            switch error {
            case .badEntry(let i, _, _), .ramBeyondHeap(let i, _): at = i < entryFields.count ? entryFields[i] : m["ram"] ?? f
            case .outsideRAM(let p), .badOrder(let p), .misaligned(let p), .overlap(_, let p): at = pieces[pieceIndex(p, regions: spec.bootRegions?.count ?? 0)]
            case .noRoomForXen, .bootMemoryExhausted: at = f  // not thrown by validate
            }
            throw fail(at, error.description)
        }
        return spec
    }

    /// An `e820:` list: its entries in address order with at least one RAM entry, and each
    /// entry's field (to name it in a fault).
    func e820Entries(_ e: Field) throws(ScenarioError) -> (HostE820, [Field]) {
        var entryFields: [Field] = []
        var entries: [E820Entry<MachineAddress>] = []
        for item in try sequence(e) {
            let im = try mapping(item, allowed: ["start", "size", "type"])
            let t: E820Type
            switch try string(try required(im, "type", in: item)) {
            case "ram", "usable": t = .ram
            case "reserved": t = .reserved
            case "acpi": t = .acpi
            case "nvs": t = .nvs
            case "unusable": t = .unusable
            case let s: throw fail(im["type"]!, "expected ram, reserved, acpi, nvs or unusable, got '\(ErrorToken.clipped(s))'")
            }
            let start = MachineAddress(try integer(try required(im, "start", in: item), in: 0...(1 << 52), what: "an address"))
            let len = try size(try required(im, "size", in: item), min: 1, max: 1 << 52)
            if let last = entries.last, start < last.end { throw fail(im["start"]!, "entries must be in address order without overlaps") }
            entries.append(E820Entry(address: start, size: len, type: t))
            entryFields.append(item)
        }
        guard entries.contains(where: { $0.type == .ram }) else { throw fail(e, "needs at least one ram entry") }
        return (HostE820(entries), entryFields)
    }

    /// `boot_regions` and `heap_inventory` (what Xen's heap holds) into `spec`: the fields of the
    /// boot regions, then of the inventory blocks.
    func heapPieces(_ m: [String: Field], into spec: inout HostSpec) throws(ScenarioError) -> [Field] {
        var pieces: [Field] = []
        if let regionsField = m["boot_regions"] {
            if let t = m["taken_below_4g"] { throw fail(t, "give taken_below_4g or boot_regions, not both (boot_regions say what the heap holds)") }
            for x in try sequence(regionsField) { pieces.append(x) }
            spec.bootRegions = try pieces.map { (x) throws(ScenarioError) in try frameRange(x, from: 0x100) }
        } else if let inv = m["heap_inventory"] {
            throw fail(inv, "needs boot_regions (without them the heap holds all RAM)")
        }
        if let inv = m["heap_inventory"] {
            for item in try sequence(inv) {
                let im = try mapping(item, allowed: ["mfn", "order"])
                let mfn = try integer(try required(im, "mfn", in: item), in: 0x100...(1 << 40), what: "a machine frame")
                let order = Int(try integer(try required(im, "order", in: item), in: 0...18, what: "a buddy order"))
                spec.inventory.append((MFN(mfn), order))
                pieces.append(item)
            }
        }
        return pieces
    }

    /// Where `piece` is among the boot regions (`regions` of them) followed by the inventory blocks.
    func pieceIndex(_ piece: HeapPiece, regions: Int) -> Int {
        switch piece {
        case .bootRegion(let i, _): return i
        case .inventoryBlock(let i, _, _): return regions + i
        }
    }

    /// `{start: <mfn>, end: <mfn>}`, end exclusive, starting at `from` or above.
    func frameRange(_ f: Field, from: UInt64 = 0) throws(ScenarioError) -> Range<MFN> {
        let m = try mapping(f, allowed: ["start", "end"])
        let s = try integer(try required(m, "start", in: f), in: from...(1 << 40), what: "a frame number")
        let e = try integer(try required(m, "end", in: f), in: 0...(1 << 40), what: "a frame number")
        guard s < e else { throw fail(m["end"]!, "end must be above start") }
        return MFN(s)..<MFN(e)
    }

    /// `{start: <address>, end: <address>}` (bytes, end exclusive) below 2^52.
    func addressRange(_ f: Field) throws(ScenarioError) -> Range<UInt64> {
        let m = try mapping(f, allowed: ["start", "end"])
        let s = try integer(try required(m, "start", in: f), in: 0...(1 << 52), what: "an address")
        let end = try required(m, "end", in: f)
        let e = try integer(end, in: 0...(1 << 52), what: "an address")
        guard s < e else { throw fail(end, "end must be above start") }
        return s..<e
    }

    /// Xen's options (its boot modules are checked against the host when dom0 is built).
    func xen(_ f: Field) throws(ScenarioError) -> XenSpec {
        let m = try mapping(f, allowed: ["version", "dom0_mem", "build", "package", "memop_max_order", "kernel_module", "initrd", "initial_mapping"])
        if let v = m["version"], try string(v) != "4.17" { throw fail(v, "only Xen 4.17 is modelled, got '\(ErrorToken.clipped(try string(v)))'") }
        var opt = Dom0MemoryOption()
        var text: String?
        if let d = m["dom0_mem"] {
            fieldLines[d.path] = d.line
            text = try string(d)
            do { opt = try Dom0MemoryOption(parsing: text!) } catch { throw fail(d, error.description) }
        }
        var debug = false
        if let b = m["build"] {
            switch try string(b) {
            case "release": debug = false
            case "debug": debug = true
            case let s: throw fail(b, "expected release or debug, got '\(ErrorToken.clipped(s))'")
            }
        }
        var order = MemopMaxOrder()
        if let o = m["memop_max_order"] {
            let parts = try string(o).split(separator: ",").map { Int($0) }
            guard parts.count == 4, parts.allSatisfy({ $0 != nil && (0...18).contains($0!) }) else {
                throw fail(o, "expected four orders 0…18 as domU,ctldom,hwdom,ptdom (e.g. 9,18,12,12)")
            }
            order = MemopMaxOrder(domU: parts[0]!, control: parts[1]!, hardware: parts[2]!, passthrough: parts[3]!)
        }
        var spec = XenSpec(dom0Memory: opt, dom0MemoryText: text, debugBuild: debug, memopMaxOrder: order)
        spec.kernelModule = try m["kernel_module"].map { (x) throws(ScenarioError) in try frameRange(x) }
        spec.initrd = try m["initrd"].map { (x) throws(ScenarioError) in try frameRange(x) }
        for key in ["kernel_module", "initrd"] { fieldLines[f.child(key)] = m[key]?.line }
        spec.initialMapping = try m["initial_mapping"].map { (x) throws(ScenarioError) in try size(x, min: 4096, max: 1 << 36) }
        if let p = m["package"] {
            let name = try string(p)
            guard let known = XenBuild.named(name) else {
                throw fail(
                    p,
                    "the model knows the boot allocations of \(XenBuild.known.map { "'\($0.name)'" }.joined(separator: ", ")), got '\(ErrorToken.clipped(name))'"
                )
            }
            if debug { throw fail(p, "\(known.name) is a release build (build: debug contradicts it)") }
            spec.package = known
            fieldLines[p.path] = p.line
        }
        return spec
    }

    /// The guest; tokens its `swiotlb=` has that the kernel ignores become warnings.
    func guest(_ f: Field) throws(ScenarioError) -> GuestSpec {
        let m = try mapping(
            f, allowed: ["type", "kernel", "cmdline", "memory", "memory_encryption", "early_reserved", "swiotlb_end", "cpus", "swiotlb_dynamic"])
        for key in ["early_reserved", "swiotlb_end", "kernel", "swiotlb_dynamic"] { fieldLines[f.child(key)] = m[key]?.line }
        let kind = try choice(try required(m, "type", in: f), GuestKind.self)
        let kernel = try m["kernel"].map { (x) throws(ScenarioError) in try choice(x, SwiotlbKernel.self) } ?? .default
        let memory = try m["memory"].map { (x) throws(ScenarioError) in try size(x, min: 16 << 20, max: 1 << 46) }
        if kind != .pvDom0 && memory == nil {
            throw ScenarioError(file: file, line: f.line, path: f.child("memory"), message: "missing (a \(kind.rawValue) guest needs its RAM size)")
        }
        if kind == .pvDom0, let mm = m["memory"] { throw fail(mm, "dom0's memory comes from xen.dom0_mem") }
        var encryption: MemoryEncryption?
        if let e = m["memory_encryption"] {
            let s = try string(e)
            if s != "none" {
                guard let kind = MemoryEncryption(rawValue: s) else { throw fail(e, "expected none, sev or tdx, got '\(ErrorToken.clipped(s))'") }
                encryption = kind
            }
            if let encryption, kind != .native { throw fail(e, "\(encryption.rawValue.uppercased()) applies to a native guest") }
        }
        var spec = GuestSpec(
            kind: kind, kernel: kernel, cmdline: try m["cmdline"].map { (x) throws(ScenarioError) in try string(x) } ?? "",
            memory: memory, encryption: encryption,
            earlyReserved: try m["early_reserved"].map { (x) throws(ScenarioError) in try size(x) } ?? 0)
        spec.cpus = Int(try m["cpus"].map { (x) throws(ScenarioError) in try integer(x, in: 1...4096, what: "a CPU count") } ?? 1)
        spec.swiotlbDynamic = try m["swiotlb_dynamic"].map { (x) throws(ScenarioError) in
            let r = try addressRange(x)
            guard r.lowerBound & 0xfff == 0, r.upperBound & 0xfff == 0 else { throw fail(x, "start and end must be page aligned") }
            return Range<PhysicalAddress>(raw: r)
        }
        if let refusal = spec.kernelRefusal, let at = m["kernel"] ?? m["memory_encryption"] ?? m["swiotlb_dynamic"] { throw fail(at, refusal) }
        if let p = spec.swiotlbParameter, let c = m["cmdline"] {
            // Read as the scenario's kernel reads it.
            let cmd = SwiotlbCommandLine(parsing: p, kernel: spec.kernel)
            let slots = cmd.effectiveNslabs.addingReportingOverflow(cmd.highNslabs ?? 0)
            guard !slots.overflow, slots.partialValue <= UInt64(IOTLB.maxModelSlots) else {
                let total = slots.overflow ? "more than 2^64" : String(slots.partialValue)
                throw fail(c, "swiotlb=\(ErrorToken.clipped(p)) asks for \(total) slots; the model holds at most \(IOTLB.maxModelSlots) in all (64 GiB)")
            }
            if !cmd.ignored.isEmpty {
                warnings.append(
                    fail(c, "swiotlb=\(ErrorToken.clipped(p)): ignored='\(ErrorToken.clipped(cmd.ignored))' (the kernel accepts and ignores it)").description)
            }
        }
        spec.swiotlbEnd = try m["swiotlb_end"].map { (x) throws(ScenarioError) in
            let v = try integer(x, in: 0x100000...(1 << 52), what: "a pseudo-physical address")
            guard v & 0xfff == 0 else { throw fail(x, "must be page aligned") }
            guard kind != .native else { throw fail(x, "applies to a PV guest (a native guest's buffer is placed by its kernel)") }
            return PhysicalAddress(v)
        }
        return spec
    }

    func device(_ f: Field) throws(ScenarioError) -> DeviceSpec {
        let m = try mapping(
            f,
            allowed: [
                "name", "driver", "dma_bits", "dma_mask", "coherent_bits", "coherent_mask", "bus_limit", "segment_boundary", "max_segment", "coherent",
                "min_align_mask", "boot_coherent",
            ])
        let name = try string(try required(m, "name", in: f))
        guard !name.isEmpty, !name.contains(" ") else { throw fail(m["name"]!, "expected a name without spaces") }
        let driver = try m["driver"].map { (x) throws(ScenarioError) in
            let d = try string(x)
            guard !d.isEmpty, !d.contains(" ") else { throw fail(x, "expected a name without spaces") }
            return d
        }
        func mask(_ bitsKey: String, _ maskKey: String) throws(ScenarioError) -> UInt64? {
            switch (m[bitsKey], m[maskKey]) {
            case (let b?, nil): return BitMath.dmaBitMask(Int(try integer(b, in: 12...64, what: "a bit count")))
            case (nil, let k?):
                let v = try integer(k, what: "a mask")
                guard v >= 0xfff else { throw fail(k, "expected a mask of at least 0xfff (a page), got \(Hex.plain(v))") }
                return v
            case (nil, nil): return nil
            case (_?, let k?): throw fail(k, "give either \(bitsKey) or \(maskKey)")
            }
        }
        let dmaMask = try mask("dma_bits", "dma_mask") ?? BitMath.dmaBitMask(32)
        let coherentMask = try mask("coherent_bits", "coherent_mask") ?? dmaMask
        return DeviceSpec(
            name: name,
            dma: DMADevice(
                name: name, dmaMask: dmaMask,
                busDMALimit: try m["bus_limit"].map { (x) throws(ScenarioError) in try integer(x, what: "an address limit") } ?? 0,
                segmentBoundaryMask: try m["segment_boundary"].map { (x) throws(ScenarioError) in
                    let v = try integer(x, what: "a mask")
                    guard v == .max || (v &+ 1) & v == 0 else { throw fail(x, "expected 2^n-1, got \(Hex.plain(v))") }
                    return v
                } ?? 0xffff_ffff,
                coherentDMAMask: coherentMask,
                maxSegmentSize: try m["max_segment"].map { (x) throws(ScenarioError) in try size(x, min: 512) } ?? 65536,
                isCoherent: try m["coherent"].map { (x) throws(ScenarioError) in try bool(x) } ?? true,
                minAlignMask: try m["min_align_mask"].map { (x) throws(ScenarioError) in
                    let v = try integer(x, in: 0...0xffff_ffff, what: "a mask")
                    guard (v &+ 1) & v == 0 else { throw fail(x, "expected 2^n-1, got \(Hex.plain(v))") }
                    return v
                } ?? 0,
                driver: driver),
            bootCoherent: try m["boot_coherent"].map { (x) throws(ScenarioError) in try bootCoherent(x) } ?? [])
    }

    /// A device's `boot_coherent` list: `{pfn: <first pfn>, size: <bytes>}` each, the pfn
    /// aligned to the allocation's power-of-two pages (as the page allocator hands them out).
    func bootCoherent(_ f: Field) throws(ScenarioError) -> [BootCoherentAllocation] {
        var out: [BootCoherentAllocation] = []
        for item in try sequence(f) {
            let m = try mapping(item, allowed: ["pfn", "size"])
            let sizeField = try required(m, "size", in: item)
            let bytes = try size(sizeField, min: 1, max: 4 << 20)
            let pfnField = try required(m, "pfn", in: item)
            let pfn = try integer(pfnField, in: 0...(1 << 40), what: "a pfn")
            let pages = UInt64(1) << UInt64(BitMath.pageOrder(bytes: bytes))
            guard pfn % pages == 0 else { throw fail(pfnField, "\(Hex.plain(pfn)) is not aligned to the allocation's \(pages) pages") }
            out.append(BootCoherentAllocation(pfn: PFN(pfn), size: bytes))
        }
        return out
    }

    /// The most buffers a workload maps in all its streams (each costs the model about a
    /// microsecond, more for large buffers): a run stays within seconds.
    static let maxMaps: UInt64 = 2_000_000
    /// The most bytes a workload maps in all (xen-swiotlb checks every page of a buffer).
    static let maxMappedBytes: UInt64 = 1 << 38

    func workload(_ f: Field, devices: Set<String>, kernel: SwiotlbKernel) throws(ScenarioError) -> WorkloadSpec {
        let m = try mapping(f, allowed: ["seed", "streams", "op_time"])
        var streams: [StreamSpec] = []
        var maps: UInt64 = 0, bytes: UInt64 = 0
        for s in try m["streams"].map({ (x) throws(ScenarioError) in try sequence(x) }) ?? [] {
            let stream = try self.stream(s, devices: devices, kernel: kernel)
            // Every count is at most 10^8 and every size at most 16 MiB, so no sum or product overflows.
            let (n, size) = stream.mapsAndBytes
            maps += n
            bytes += size
            guard maps <= Self.maxMaps else {
                throw fail(s, "the workload maps \(maps) buffers up to here; a model run maps at most \(Self.maxMaps)")
            }
            guard bytes <= Self.maxMappedBytes else {
                throw fail(s, "the workload maps \(bytes >> 20) MiB up to here; a model run maps at most \(Self.maxMappedBytes >> 30) GiB")
            }
            streams.append(stream)
        }
        return WorkloadSpec(
            seed: try m["seed"].map { (x) throws(ScenarioError) in try integer(x, what: "a seed") } ?? 1, streams: streams,
            operationNanoseconds: try m["op_time"].map { (x) throws(ScenarioError) in try duration(x) } ?? WorkloadSpec.defaultOperationNanoseconds)
    }

    /// A duration of at most one second in nanoseconds: a decimal with the unit `ns`, `us`,
    /// `ms` or `s` (`10us`).
    func duration(_ f: Field) throws(ScenarioError) -> UInt64 {
        let s = try scalar(f)
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        let units: [String: UInt64] = ["ns": 1, "us": 1000, "ms": 1_000_000, "s": 1_000_000_000]
        guard digits.count <= 10, let n = UInt64(digits), let unit = units[String(s.dropFirst(digits.count))], n <= 1_000_000_000 / unit else {
            throw fail(f, "expected a duration like 10us, 2ms or 500ns of at most 1s, got '\(ErrorToken.clipped(s))'")
        }
        return n * unit
    }

    func stream(_ f: Field, devices: Set<String>, kernel: SwiotlbKernel) throws(ScenarioError) -> StreamSpec {
        let outer = try mapping(f, allowed: ["fio", "network", "sg", "coherent", "trace"])
        guard outer.count == 1, let (kind, body) = outer.first else { throw fail(f, "expected exactly one of fio, network, sg, coherent, trace") }
        func dev(_ m: [String: Field]) throws(ScenarioError) -> String {
            let d = try required(m, "device", in: body)
            let name = try string(d)
            guard devices.contains(name) else { throw fail(d, "no device named '\(ErrorToken.clipped(name))'") }
            return name
        }
        func count(_ m: [String: Field], _ key: String, _ range: ClosedRange<UInt64>, default def: UInt64? = nil) throws(ScenarioError) -> Int {
            if let x = m[key] { return Int(try integer(x, in: range, what: key.replacingOccurrences(of: "_", with: " "))) }
            guard let d = def else { throw ScenarioError(file: file, line: body.line, path: body.child(key), message: "missing") }
            return Int(d)
        }
        switch kind {
        case "fio":
            let m = try mapping(body, allowed: ["device", "block_size", "queue_depth", "read_percent", "ops"])
            return .fio(
                device: try dev(m),
                blockSize: Int(try m["block_size"].map { (x) throws(ScenarioError) in try size(x, min: 512, max: 16 << 20) } ?? 4096),
                queueDepth: try count(m, "queue_depth", 1...65536, default: 32),
                readPercent: try count(m, "read_percent", 0...100, default: 100),
                ops: try count(m, "ops", 1...100_000_000))
        case "network":
            let m = try mapping(body, allowed: ["device", "mtu", "in_flight", "ops"])
            return .network(
                device: try dev(m), mtu: try count(m, "mtu", 68...65535, default: 1500),
                inFlight: try count(m, "in_flight", 1...65536, default: 256), ops: try count(m, "ops", 1...100_000_000))
        case "sg":
            let m = try mapping(body, allowed: ["device", "segments", "segment_size", "queue_depth", "ops"])
            return .scatterGather(
                device: try dev(m), segments: try count(m, "segments", 1...4096, default: 16),
                segmentSize: Int(try m["segment_size"].map { (x) throws(ScenarioError) in try size(x, min: 1, max: 1 << 20) } ?? 4096),
                queueDepth: try count(m, "queue_depth", 1...65536, default: 8), ops: try count(m, "ops", 1...100_000_000))
        case "coherent":
            let m = try mapping(body, allowed: ["device", "size", "count"])
            return .coherent(
                device: try dev(m), size: Int(try m["size"].map { (x) throws(ScenarioError) in try size(x, min: 1, max: 4 << 20) } ?? 4096),
                count: try count(m, "count", 1...1_000_000, default: 1))
        default:
            let m = try mapping(body, allowed: ["device", "file"])
            let fileField = try required(m, "file", in: body)
            let path = try string(fileField)
            guard let load = loadTrace else { throw fail(fileField, "trace files cannot be read here") }
            let device = try dev(m)
            let lines: [String]
            do { lines = try load(path) } catch { throw fail(fileField, "\(error)") }
            return .trace(device: device, ops: try traceOps(lines, path: path, field: fileField, kernel: kernel), file: path)
        }
    }

    /// A trace stream's operations: `lines` read by the guest kernel's rules and fields, as
    /// replay reads them; its pool lines are checked, then dropped (the pools are the scenario's).
    func traceOps(_ lines: [String], path: String, field: Field, kernel: SwiotlbKernel) throws(ScenarioError) -> [TraceOp] {
        var ops: [TraceOp] = []
        var reader = TraceReader(kernel: kernel)
        for (i, l) in lines.enumerated() {
            do throws(TraceError) {
                if let op = try reader.read(Substring(l), line: i + 1) { if case .pool = op {} else { ops.append(op) } }
            } catch {
                throw ScenarioError(
                    file: path, line: error.line, path: "", message: "\(error.message): '\(error.token)' (trace of \(file) \(field.path))")
            }
        }
        return ops
    }
}
