import XenMemory

/// `xen-mfndump dump-m2p` text: ` --- Dumping M2P ---`, ` Max MFN: <n>`, one
/// `  mfn=0x<mfn> ==> pfn=0x<entry>` line per MFN below n, ` --- End of M2P ---`.
public enum M2PDump {
    /// The first header line.
    public static let header = " --- Dumping M2P ---"
    /// The footer line.
    public static let footer = " --- End of M2P ---"

    /// Writes the dump of `m2p` line by line (without newlines) to `emit`.
    public static func write(_ m2p: HostM2P, to emit: (String) -> Void) {
        emit(header)
        let maxPage = m2p.maxPage.rawValue
        emit(" Max MFN: \(maxPage)")
        var mfn: UInt64 = 0
        for run in m2p.runs.extents + [Extent(start: maxPage, count: 0, value: .invalid)] {
            while mfn < min(run.start, maxPage) {
                emit("  mfn=\(Hex.plain(mfn)) ==> pfn=0xffffffffffffffff")
                mfn += 1
            }
            var k: UInt64 = 0
            while k < run.count && mfn < maxPage {
                emit("  mfn=\(Hex.plain(mfn)) ==> pfn=\(Hex.plain(run.value.advanced(by: k).rawEntry))")
                mfn += 1; k += 1
            }
        }
        emit(footer)
    }

    /// Reads a dump from a stream of lines (without newlines), building the M2P as runs.
    public static func read(_ next: @escaping () -> Substring?) throws(DumpError) -> HostM2P {
        try read(lines: LineCopy.lines(next))
    }

    /// Reads a dump from a stream of byte lines, building the M2P as runs.
    public static func read(lines next: DumpLineSource) throws(DumpError) -> HostM2P {
        guard let h = next() else { throw DumpError(line: 0, message: "empty file") }
        guard h.elementsEqual(header.utf8) else { throw DumpError(line: 1, message: "expected '\(header)' (an xen-mfndump dump-m2p header)") }
        guard let mx = next() else { throw DumpError(line: 2, message: "truncated: missing ' Max MFN: <n>'") }
        var i = 0
        guard Bytes.literal(mx, &i, " Max MFN: "), let maxPage = ByteNumber.decimal(mx, &i), i == mx.count else {
            throw .unexpected(2, "' Max MFN: <decimal>'", mx)
        }
        guard maxPage <= PhysicalLimits.frames else {
            throw DumpError(line: 2, message: "Max MFN \(maxPage) is beyond x86-64's 2^40 machine frames (52-bit physical addresses)")
        }
        var m2p = HostM2P(maxPage: MFN(maxPage))
        var runs = RunAccumulator<M2PRun>()
        var expect: UInt64 = 0
        var n = 2
        while let b = next() {
            n += 1
            var i = 0
            guard Bytes.literal(b, &i, "  mfn=0x"), let mfn = ByteNumber.hex(b, &i),
                Bytes.literal(b, &i, " ==> pfn=0x"), let pfn = ByteNumber.hex(b, &i), i == b.count
            else {
                if b.elementsEqual(footer.utf8) {
                    guard expect == maxPage else { throw DumpError(line: n, message: "truncated: \(expect) of \(maxPage) entries before the footer") }
                    m2p.replaceRuns(runs.finish())
                    return m2p
                }
                throw .unexpected(n, "'  mfn=0x<hex> ==> pfn=0x<hex>'", b)
            }
            guard mfn == expect else { throw DumpError(line: n, message: "mfn \(Hex.plain(mfn)) out of order (expected \(Hex.plain(expect)))") }
            guard mfn < maxPage else { throw DumpError(line: n, message: "mfn \(Hex.plain(mfn)) is not below Max MFN \(maxPage)") }
            if pfn != HostM2P.invalidEntry {
                runs.add(mfn, pfn == HostM2P.sharedEntry ? .shared : .pfn(base: PFN(pfn)))
            }
            expect += 1
        }
        throw DumpError(line: n, message: "truncated: no '\(footer)' after \(expect) of \(maxPage) entries")
    }

    /// M2P entries per 2 MiB chunk of the table (the unit `XENMEM_machphys_mfn_list` maps).
    public static let chunkEntries: UInt64 = 1 << 18

    /// Chunks that repeat the previous chunk entry for entry: where the host has a hole in RAM
    /// (e.g. the PCI hole), Xen reports the previous chunk's frame again, so a dump shows a copy
    /// of the previous 262144 entries there. Those ranges are not RAM and not mappings.
    public static func repeatedChunks(_ m2p: HostM2P) -> [Range<UInt64>] {
        var out: [Range<UInt64>] = []
        var c: UInt64 = 1
        while c * chunkEntries < m2p.maxPage.rawValue {
            let here = m2p.runs.extents(start: c * chunkEntries, count: chunkEntries)
            let prev = m2p.runs.extents(start: (c - 1) * chunkEntries, count: chunkEntries)
            if !here.isEmpty && here.count == prev.count
                && zip(here, prev).allSatisfy({ $0.start == $1.start + chunkEntries && $0.count == $1.count && $0.value == $1.value })
            {
                out.append((c * chunkEntries)..<((c + 1) * chunkEntries))
            }
            c += 1
        }
        return out
    }
}
