import XenDumps
import XenLive

/// libFuzzer entry: the input as each kind of dump, as a kernel log and as a debugfs capture.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDumps(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    func reader() -> () -> Substring? {
        var it = lines.makeIterator()
        return { it.next() }
    }
    _ = try? M2PDump.read(reader())
    _ = try? P2MDump.read(reader())
    let pools = (try? SwiotlbPoolLocation.parse(kernelLog: lines)) ?? []
    if let p = try? PFNListDump.read(reader()) {
        _ = P2MSummary(p, source: .dump, m2p: nil, pools: pools)
    }
    _ = try? SwiotlbDebugfs.read(lines: lines)
    return 0
}
