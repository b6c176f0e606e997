import Testing

@testable import XenModel

@Suite("compare-real percentages")
struct AgreementPercentTests {
    @Test("100% only when every item agrees; otherwise rounded down to hundredths")
    func percent() {
        #expect(Agreement.percent(1_310_743, of: 1_310_852) == "99.99%")
        #expect(Agreement.percent(999_999_999, of: 1_000_000_000) == "99.99%")
        #expect(Agreement.percent(196_705, of: 196_705) == "100%")
        #expect(Agreement.percent(1, of: 3) == "33.33%")
        #expect(Agreement.percent(1, of: 20) == "5.00%")
        #expect(Agreement.percent(0, of: 7) == "0.00%")
        #expect(Agreement.percent(0, of: 0) == "-")
        #expect(
            Agreement(name: "P2M entries", identical: 1_310_743, total: 1_310_852, differences: []).line
                == "P2M entries: 1310743 of 1310852 identical (99.99%)")
    }
}
