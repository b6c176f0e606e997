import Testing

@testable import xenpv

@Suite("kernel message limit")
struct KernelMessageLimitTests {
    @Test("the first 200 messages are shown and the rest counted in one closing line")
    func limited() {
        var limit = KernelMessageLimit(unlimited: false)
        limit.write(Array(repeating: "software IO TLB: swiotlb buffer is full", count: 150))
        #expect(limit.summary == nil)
        limit.write(Array(repeating: "software IO TLB: swiotlb buffer is full", count: 120))
        #expect(limit.suppressed == 70)
        #expect(limit.summary == "xenpv: 70 more kernel messages not shown (the first 200 were; --all-messages shows every one)")
    }

    @Test("--all-messages holds nothing back")
    func unlimited() {
        var limit = KernelMessageLimit(unlimited: true)
        limit.write(Array(repeating: "x", count: 500))
        #expect(limit.suppressed == 0)
        #expect(limit.summary == nil)
    }
}
