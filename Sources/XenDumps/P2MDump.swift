import XenMemory

/// A page type nibble (`XEN_DOMCTL_PFINFO_*` >> 28), constant over a run of pfns.
public struct PageTypeRun: ExtentValue, Hashable {
    /// The nibble: 0 ordinary, 1–4 L1–L4 tables, 9–c pinned tables, d broken, e xalloc, f XTAB.
    public var type: UInt8
    /// Constant over a run.
    public func advanced(by offset: UInt64) -> PageTypeRun { self }
    /// Wraps a nibble.
    public init(_ type: UInt8) { self.type = type }

    /// ``suffix`` of each nibble 0…15 as bytes.
    static let suffixBytes: [[UInt8]] = (0..<16).map { Array(PageTypeRun(UInt8($0)).suffix.utf8) }

    /// The suffix xen-mfndump prints after `(type 0x<T>)`.
    public var suffix: String {
        switch type {
        case 0: return ""
        case 1...4: return " L\(type)"
        case 9...12: return " pinned L\(type - 8)"
        case 13: return " broken"
        case 14: return " xalloc"
        case 15: return " invalid"
        default: return " <invalid type>"
        }
    }
}

/// A domain's P2M as `xen-mfndump dump-p2m` shows it.
public struct P2MDumpContents: Sendable {
    /// The domain.
    public var domid: DomID
    /// Bytes per P2M entry (8 for 64-bit PV).
    public var guestWidth: UInt32
    /// Page-table levels (4).
    public var ptLevels: UInt32
    /// Entries.
    public var size: UInt64
    /// The raw words as runs.
    public var entries: ExtentMap<P2MRun>
    /// The page types as runs.
    public var types: ExtentMap<PageTypeRun>

    /// Creates the contents.
    public init(domid: DomID, guestWidth: UInt32 = 8, ptLevels: UInt32 = 4, size: UInt64, entries: ExtentMap<P2MRun>, types: ExtentMap<PageTypeRun>) {
        self.domid = domid; self.guestWidth = guestWidth; self.ptLevels = ptLevels; self.size = size; self.entries = entries; self.types = types
    }

    /// What the model knows of a PV guest's P2M up to `size` entries: raw words as a tool reads
    /// them (shared leaves read ~0), type 0 for frames the domain owns, 0xf (XTAB) otherwise.
    public init(domain: PVDomain, host: XenHost, size: UInt64) {
        var entries = ExtentMap<P2MRun>(), types = ExtentMap<PageTypeRun>()
        func emit(_ pfn: UInt64, _ count: UInt64, _ value: P2MRun) {
            entries.append(start: pfn, count: count, value: value)
            if case .machine(let first) = value {
                let base = first.rawValue
                // Ownership decides the type, run by run.
                var k: UInt64 = 0
                for o in host.owners.extents(start: base, count: count) {
                    if o.start > base + k { types.append(start: pfn + k, count: o.start - base - k, value: PageTypeRun(15)) }
                    types.append(start: pfn + (o.start - base), count: o.count, value: PageTypeRun(o.value.domain == domain.id ? 0 : 15))
                    k = o.end - base
                }
                if k < count { types.append(start: pfn + k, count: count - k, value: PageTypeRun(15)) }
            } else {
                types.append(start: pfn, count: count, value: PageTypeRun(15))
            }
        }
        let p2m = domain.p2m
        let perLeaf = GuestP2M.entriesPerLeaf
        let listEnd = min(size, p2m.p2mSize)
        var pfn: UInt64 = 0
        while pfn < listEnd {
            let leaf = pfn / perLeaf
            if let shared = p2m.sharedLeaves.run(from: leaf) {
                // Shared leaves read ~0 whatever they stand for.
                let n = min(shared.end * perLeaf, listEnd) - pfn
                emit(pfn, n, .missing)
                pfn += n
                continue
            }
            // Private leaves up to the next shared one hold the stored runs.
            let nextShared = p2m.sharedLeaves.extents(start: leaf, count: UInt64.max - leaf).first?.start
            let stretchEnd = min(nextShared.map { $0 * perLeaf } ?? listEnd, listEnd)
            var covered = pfn
            for run in p2m.entries.extents(start: pfn, count: stretchEnd - pfn) {
                if run.start > covered { emit(covered, run.start - covered, .missing) }
                emit(run.start, run.count, run.value)
                covered = run.end
            }
            if covered < stretchEnd { emit(covered, stretchEnd - covered, .missing) }
            pfn = stretchEnd
        }
        if pfn < size { emit(pfn, size - pfn, .missing) }
        self.init(domid: domain.id, size: size, entries: entries, types: types)
    }
}

/// `xen-mfndump dump-p2m <domid>` text.
public enum P2MDump {
    /// ` --- Dumping P2M for domain <domid> ---`.
    public static func header(_ domid: DomID) -> String { " --- Dumping P2M for domain \(domid.rawValue) ---" }
    /// ` --- End of P2M for domain <domid> ---`.
    public static func footer(_ domid: DomID) -> String { " --- End of P2M for domain \(domid.rawValue) ---" }

    /// Writes the dump line by line (without newlines) to `emit`.
    public static func write(_ d: P2MDumpContents, to emit: (String) -> Void) {
        emit(header(d.domid))
        emit(" Guest Width: \(d.guestWidth), PT Levels: \(d.ptLevels) P2M size: = \(d.size)")
        var typeRuns = d.types.extents[...]
        for run in d.entries.extents {
            for k in 0..<run.count {
                let pfn = run.start + k
                while let t = typeRuns.first, t.end <= pfn { typeRuns = typeRuns.dropFirst() }
                let type = typeRuns.first.map { $0.start <= pfn ? $0.value.type : 15 } ?? 15
                let word = run.value.advanced(by: k).word(at: PFN(pfn)).rawValue
                emit("  pfn=\(Hex.plain(pfn)) ==> mfn=\(Hex.plain(word)) (type \(Hex.plain(type)))\(PageTypeRun(type).suffix)")
            }
        }
        emit(footer(d.domid))
    }

    /// Reads a dump from a stream of lines (without newlines).
    public static func read(_ next: @escaping () -> Substring?) throws(DumpError) -> P2MDumpContents {
        try read(lines: LineCopy.lines(next))
    }

    /// Reads a dump from a stream of byte lines.
    public static func read(lines next: DumpLineSource) throws(DumpError) -> P2MDumpContents {
        guard let h = next() else { throw DumpError(line: 0, message: "empty file") }
        var i = 0
        guard Bytes.literal(h, &i, " --- Dumping P2M for domain "), let d = ByteNumber.decimal(h, &i), d <= UInt64(UInt16.max),
            Bytes.literal(h, &i, " ---"), i == h.count
        else {
            throw DumpError(line: 1, message: "expected ' --- Dumping P2M for domain <domid> ---' (an xen-mfndump dump-p2m header)")
        }
        let domid = DomID(UInt16(d))
        guard let g = next() else { throw DumpError(line: 2, message: "truncated: missing the Guest Width line") }
        i = 0
        guard Bytes.literal(g, &i, " Guest Width: "), let width = ByteNumber.decimal(g, &i),
            Bytes.literal(g, &i, ", PT Levels: "), let levels = ByteNumber.decimal(g, &i),
            Bytes.literal(g, &i, " P2M size: = "), let size = ByteNumber.decimal(g, &i), i == g.count,
            width <= UInt64(UInt32.max), levels <= UInt64(UInt32.max)
        else {
            throw DumpError.unexpected(2, "' Guest Width: <n>, PT Levels: <n> P2M size: = <n>'", g)
        }
        guard size <= PhysicalLimits.frames else {
            throw DumpError(line: 2, message: "P2M size \(size) is beyond x86-64's 2^40 page frames (52-bit physical addresses)")
        }
        let foot = footer(domid)
        let suffixes = PageTypeRun.suffixBytes
        var entries = RunAccumulator<P2MRun>(), types = RunAccumulator<PageTypeRun>()
        var expect: UInt64 = 0
        var n = 2
        while let b = next() {
            n += 1
            var i = 0
            guard Bytes.literal(b, &i, "  pfn=0x"), let pfn = ByteNumber.hex(b, &i),
                Bytes.literal(b, &i, " ==> mfn=0x"), let mfn = ByteNumber.hex(b, &i),
                Bytes.literal(b, &i, " (type 0x"), let type = ByteNumber.hex(b, &i), type < 16,
                Bytes.literal(b, &i, ")")
            else {
                if b.count > 1 && b[0] == 0x20 && b[1] == 0x2d {
                    guard b.elementsEqual(foot.utf8) else { throw DumpError(line: n, message: "expected '\(foot)'") }
                    guard expect == size else { throw DumpError(line: n, message: "truncated: \(expect) of \(size) entries before the footer") }
                    return P2MDumpContents(
                        domid: domid, guestWidth: UInt32(width), ptLevels: UInt32(levels), size: size,
                        entries: entries.finish(), types: types.finish())
                }
                throw .unexpected(n, "'  pfn=0x<hex> ==> mfn=0x<hex> (type 0x<T>)[ suffix]'", b)
            }
            guard UnsafeBufferPointer(rebasing: b[i...]).elementsEqual(suffixes[Int(type)]) else {
                throw DumpError(line: n, message: "the type suffix does not match type \(Hex.plain(type))")
            }
            guard pfn == expect else { throw DumpError(line: n, message: "pfn \(Hex.plain(pfn)) out of order (expected \(Hex.plain(expect)))") }
            guard pfn < size else { throw DumpError(line: n, message: "pfn \(Hex.plain(pfn)) is beyond the P2M size \(size)") }
            entries.add(pfn, P2MRun(word: P2MWord(rawValue: mfn), at: PFN(pfn)))
            types.add(pfn, PageTypeRun(UInt8(type)))
            expect += 1
        }
        throw DumpError(line: n, message: "truncated: no '\(foot)' after \(expect) of \(size) entries")
    }
}

/// The `pfn raw_entry` list (hex, `#` comments) the fixtures use for a dom0 P2M read from
/// inside dom0.
public enum PFNListDump {
    /// Reads the list; pfns must run 0, 1, 2, ….
    public static func read(_ next: @escaping () -> Substring?) throws(DumpError) -> P2MDumpContents {
        try read(lines: LineCopy.lines(next))
    }

    /// Reads the list from byte lines; pfns must run 0, 1, 2, ….
    public static func read(lines next: DumpLineSource) throws(DumpError) -> P2MDumpContents {
        var n = 0
        var entries = RunAccumulator<P2MRun>()
        var expect: UInt64 = 0
        while let b = next() {
            n += 1
            if b.isEmpty || b[0] == 0x23 { continue }
            var i = 0
            guard let pfn = ByteNumber.hex(b, &i), Bytes.literal(b, &i, " "), let word = ByteNumber.hex(b, &i), i == b.count else {
                throw .unexpected(n, "'<pfn hex> <raw entry hex>'", b)
            }
            guard pfn == expect else { throw DumpError(line: n, message: "pfn \(Hex.plain(pfn)) out of order (expected \(Hex.plain(expect)))") }
            entries.add(pfn, P2MRun(word: P2MWord(rawValue: word), at: PFN(pfn)))
            expect += 1
        }
        guard expect > 0 else { throw DumpError(line: 0, message: "no entries") }
        let map = entries.finish()
        var types = ExtentMap<PageTypeRun>()
        for r in map.extents {
            if case .machine = r.value {
                types.append(start: r.start, count: r.count, value: PageTypeRun(0))
            } else {
                types.append(start: r.start, count: r.count, value: PageTypeRun(15))
            }
        }
        return P2MDumpContents(domid: 0, size: expect, entries: map, types: types)
    }
}
