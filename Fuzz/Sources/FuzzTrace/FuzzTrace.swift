import Swiotlb

/// libFuzzer entry: every line of the input through the trace parser and replayer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrace(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var replayer = TraceReplayer(kernel: SwiotlbKernel.allCases[size % SwiotlbKernel.allCases.count], movesBytes: size % 2 == 0)
    var out = ReplayOutput(capacity: 64)
    var start = 0, line = 0
    for i in 0...size where i == size || bytes[i] == 0x0a {
        line += 1
        do throws(TraceError) {
            try replayer.feed(bytes: UnsafeBufferPointer(rebasing: bytes[start..<i]), line: line, into: &out)
            out.removeAll()
        } catch {
            return 0
        }
        start = i + 1
    }
    _ = try? replayer.finish()
    return 0
}
