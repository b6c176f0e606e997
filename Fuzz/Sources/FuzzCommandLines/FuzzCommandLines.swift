import Swiotlb
import XenMemory

/// libFuzzer entry: the input as a `swiotlb=` value (every kernel) and a `dom0_mem=` value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandLines(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for k in SwiotlbKernel.allCases { _ = SwiotlbCommandLine(parsing: text, kernel: k).effectiveNslabs }
    if let d = try? Dom0MemoryOption(parsing: text) {
        for avail: UInt64 in [0, 1, 0x100000, UInt64.max >> 12] { _ = d.dom0Pages(available: avail); _ = d.dom0MaxPages(available: avail) }
    }
    return 0
}
