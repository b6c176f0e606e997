import Benchmark

/// Every benchmark of xenpv, by area; targets and results in docs/performance.md.
let benchmarks: @Sendable () -> Void = {
    allocatorBenchmarks()
    translationBenchmarks()
    extentMapBenchmarks()
    endToEndBenchmarks()
}
