import XenModel

/// libFuzzer entry: the input chooses a scenario shaped like the schema (ScenarioShape), which
/// is parsed and, when it parses, booted and run whole (the workload is small by
/// construction), so a trap in what the model does with a valid value is found as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var choices = Choices(UnsafeBufferPointer(start: data, count: size))
    let shape = ScenarioShape(&choices)
    let traces = shape.traces
    guard let scenario = try? ScenarioParser.parse(shape.yaml, file: "fuzz.yaml", loadTrace: { name in traces[name] ?? [] }) else {
        return 0
    }
    let result = WorkloadRunner.run(scenario)
    _ = scenario.refusal(for: result.boot)
    _ = TextReport.render(result)
    return 0
}
