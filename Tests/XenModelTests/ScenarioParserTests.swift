import Swiotlb
import Testing
import XenMemory
import XenPVTestSupport

@testable import XenModel

@Suite("scenario files")
struct ScenarioParserTests {
    static let good = """
        schema: 1
        name: t
        host: {ram: 2G}
        xen: {dom0_mem: "768M,max:768M"}
        guest: {type: pv-dom0, kernel: v5.11, cmdline: "swiotlb=1024,force iommu=soft"}
        devices:
          - {name: a, dma_bits: 32}
          - {name: b, dma_mask: 0xffffffffff, bus_limit: 0xffffffff, segment_boundary: 0xffff, max_segment: 64K, coherent: false}
        workload:
          seed: 7
          streams:
            - {fio: {device: a, block_size: 8K, queue_depth: 4, ops: 10}}
            - {network: {device: b, ops: 5}}
            - {sg: {device: a, segments: 2, ops: 3}}
            - {coherent: {device: b, size: 16K, count: 2}}
        """

    @Test("a scenario with every section reads as written")
    func reads() throws {
        let s = try ScenarioParser.parse(Self.good, file: "t.yaml")
        #expect(s.name == "t" && s.host.e820 == .qemuPC(ramBytes: 2 << 30))
        #expect(s.xen.dom0Memory.dom0Pages(available: 0x100000) == 196608)
        #expect(s.guest.swiotlbParameter == "1024,force" && s.guest.iommuSoft)
        #expect(s.devices[0].dma.dmaMask == 0xffff_ffff && s.devices[0].dma.coherentDMAMask == 0xffff_ffff)
        #expect(s.devices[1].dma.effectiveLimit == 0xffff_ffff && s.devices[1].dma.segmentBoundaryMask == 0xffff)
        #expect(s.devices[1].dma.maxSegmentSize == 65536 && !s.devices[1].dma.isCoherent)
        #expect(s.workload.seed == 7 && s.workload.streams.count == 4)
        if case .fio(let d, let bs, let qd, let read, let ops) = s.workload.streams[0] {
            #expect(d == "a" && bs == 8192 && qd == 4 && read == 100 && ops == 10)
        } else {
            Issue.record("not fio")
        }
        // The same in JSON.
        let json = #"{"schema": 1, "host": {"ram": "1G"}, "guest": {"type": "native", "memory": "1G"}}"#
        let j = try ScenarioParser.parse(json, file: "t.json")
        #expect(j.guest.kind == .native && j.guest.memory == 1 << 30)
        let r = WorkloadRunner.run(s)
        #expect(r.boot.failure == nil && r.kernelBug == nil)
        #expect(r.devices[1].coherentAllocations == 2)
    }

    static let bad: [(String, String)] = [
        (
            "schema: 1\ncolour: red\nhost: {ram: 1G}\nguest: {type: pv-dom0}",
            "s.yaml:2: colour: unknown key (expected one of: schema, name, host, xen, guest, devices, workload)"
        ),
        (
            "schema: 1\nhost: {ram: 1G}\nguest: {type: pv-dom0}\ndevices:\n  - {name: a}\n  - {name: b, dma_bits: sixty}",
            "s.yaml:6: devices[1].dma_bits: expected a bit count in 12…64, got 'sixty'"
        ),
        ("schema: 1\nguest: {type: pv-dom0}", "s.yaml:1: host: missing"),
        ("schema: 2\nhost: {ram: 1G}\nguest: {type: pv-dom0}", "s.yaml:1: schema: this xenpv reads schema 1, got 2"),
        (
            "schema: 1\nhost: {ram: 1G}\nguest: {type: pv-dom0}\ndevices: [{name: a}]\nworkload:\n  streams:\n    - {fio: {device: z, ops: 1}}",
            "s.yaml:7: workload.streams[0].fio.device: no device named 'z'"
        ),
        (
            "schema: 1\nhost: {ram: 1G}\nxen: {dom0_mem: 100%}\nguest: {type: pv-dom0}",
            "s.yaml:3: xen.dom0_mem: dom0_mem: percentage 100 is not below 100 in '100%'"
        ),
        (
            "schema: 1\nhost: {ram: 1G}\nguest: {type: hvm}",
            "s.yaml:3: guest.type: expected one of pv-dom0, pv-domu, native, got 'hvm'"
        ),
        (
            "schema: 1\nhost: {ram: 12Q}\nguest: {type: pv-dom0}",
            "s.yaml:2: host.ram: expected a size like 4K, 768M or 20G between 67108864 and 70368744177664 bytes, got '12Q'"
        ),
        ("schema: 1\nhost: {ram: 1G}\nguest: {type: native}", "s.yaml:3: guest.memory: missing (a native guest needs its RAM size)"),
        (
            "schema: 1\nhost: {ram: 1G}\nguest: {type: pv-dom0}\ndevices: [{name: a}]\nworkload: {streams: [{fio: {device: a, ops: 1}, sg: {device: a, ops: 1}}]}",
            "s.yaml:5: workload.streams[0]: expected exactly one of fio, network, sg, coherent, trace"
        ),
    ]

    @Test("malformed scenarios name the file, the line, the field and what was expected", arguments: bad)
    func errors(text: String, message: String) {
        #expect(throws: ScenarioError.self) { try ScenarioParser.parse(text, file: "s.yaml") }
        do { _ = try ScenarioParser.parse(text, file: "s.yaml") } catch { #expect(error.description == message) }
    }

    @Test("YAML syntax errors are one line with the position")
    func syntax() {
        do {
            _ = try ScenarioParser.parse("schema: 1\nhost: {ram: 1G\n", file: "x.yaml")
            Issue.record("parsed")
        } catch {
            #expect(error.description.hasPrefix("x.yaml"))
            #expect(error.message.hasPrefix("not valid YAML/JSON"))
            #expect(!error.description.contains("\n"))
        }
    }

    /// A dom0 whose one device replays the trace `t.trace` (line 6).
    static let traceScenario =
        "schema: 1\nhost: {ram: 2G}\nxen: {dom0_mem: 768M}\nguest: {type: pv-dom0, cmdline: swiotlb=force}\ndevices: [{name: a, dma_bits: 64}]\nworkload: {streams: [{trace: {device: a, file: t.trace}}]}"

    @Test("trace streams are parsed up front; a bad trace line names the trace file and line")
    func traces() throws {
        let ok = try ScenarioParser.parse(Self.traceScenario, file: "s.yaml") { _ in
            ["pool nslabs=128 start=0x0", "map id=1 orig=0x2000000 size=4096 dir=to_device", "sync id=1 target=device", "unmap id=1"]
        }
        let r = WorkloadRunner.run(ok)
        #expect(r.devices[0].bounced == 1 && r.pools[0].finalUsed == 0)
        #expect(
            errorMessage { try ScenarioParser.parse(Self.traceScenario, file: "s.yaml") { _ in ["map id=1 orig=zz size=1 dir=none"] } }
                == "t.trace:1: expected 0x-prefixed hex that fits in 64 bits: 'orig=zz' (trace of s.yaml workload.streams[0].trace.file)")
    }

    static let badTraces: [([String], String)] = [
        (
            ["map id=1 orig=0x2000000 size=4096 dir=to_device", "unmap id=2"],
            "t.trace:2: unknown id: 'id=2' (trace of s.yaml workload.streams[0].trace.file)"
        ),
        (
            ["map id=1 orig=0x2000000 size=4096 dir=to_device", "map id=1 orig=0x2000000 size=4096 dir=to_device"],
            "t.trace:2: duplicate id (still mapped): 'id=1' (trace of s.yaml workload.streams[0].trace.file)"
        ),
        (
            ["map id=1 orig=0x2000000 size=4096 dir=to_device", "unmap id=1", "# again", "unmap id=1"],
            "t.trace:4: unknown id: 'id=1' (trace of s.yaml workload.streams[0].trace.file)"
        ),
        (["sync id=3 target=cpu"], "t.trace:1: unknown id: 'id=3' (trace of s.yaml workload.streams[0].trace.file)"),
        (
            ["map id=1 orig=0x2000000 size=4096 dir=to_device", "pool nslabs=128 start=0x0"],
            "t.trace:2: pool lines must come before every other op: 'pool' (trace of s.yaml workload.streams[0].trace.file)"
        ),
        (
            ["pool nslabs=100 start=0x0"],
            "t.trace:1: nslabs must be 1 or a multiple of 128 up to 33554432: 'nslabs=100' (trace of s.yaml workload.streams[0].trace.file)"
        ),
    ]

    @Test("a scenario's trace follows swiotlb replay's rules; the error names the trace file and line", arguments: badTraces)
    func traceRules(lines: [String], message: String) {
        #expect(errorMessage { try ScenarioParser.parse(Self.traceScenario, file: "s.yaml") { _ in lines } } == message)
    }

    @Test("sizing finds the smallest pool without failures, and it is exact")
    func sizing() throws {
        let s = try example("fragmentation.yaml")
        let answers = PoolSizer.size(s)
        #expect(answers.count == 1)
        let a = try #require(answers.first)
        let slots = try #require(a.slots)
        #expect(slots % 128 == 0)
        #expect(WorkloadRunner.run(s.withPoolSlots(0, slots)).pools[0].fullFailures == 0)
        #expect(WorkloadRunner.run(s.withPoolSlots(0, slots - 128)).pools[0].fullFailures > 0)
        #expect(a.margin == slots - (a.peakUsed ?? 0))
        #expect(s.withPoolSlots(0, 2048).guest.cmdline == "swiotlb=2048,force")
    }

    @Test("compare puts two runs side by side")
    func compare() throws {
        let a = WorkloadRunner.run(try example("fragmentation.yaml"))
        let b = WorkloadRunner.run(try example("fragmentation.yaml").withPoolSlots(0, 4096))
        let rows = Comparison.render(a, b)
        func cells(_ label: String) -> [Substring] {
            rows.first { $0.hasPrefix(label) }.map { Array($0.split(separator: " ").suffix(2)) } ?? []
        }
        #expect(cells("swiotlb: slots") == ["1024", "4096"])
        #expect(cells("swiotlb: full failures") == ["299", "0"])
        #expect(cells("bounced") == ["21701", "22000"])
    }
}
