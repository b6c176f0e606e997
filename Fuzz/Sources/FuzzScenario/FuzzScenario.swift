import XenModel

/// libFuzzer entry: the input as a scenario; small ones are also run.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScenario(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard var s = try? ScenarioParser.parse(text, file: "fuzz.yaml") else { return 0 }
    // Keep runs small: a fuzzer should find parser bugs, not wait for 20 GiB hosts.
    if s.host.e820.ramPages <= (4 << 30) >> 12 {
        s.workload.streams = Array(s.workload.streams.prefix(2))
        _ = WorkloadRunner.run(s)
    }
    return 0
}
