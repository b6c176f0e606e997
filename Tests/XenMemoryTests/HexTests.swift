import Testing
import XenMemory

@Suite("hex numbers in text")
struct HexTests {
    @Test("Hex.value reads 0x and 1 to 16 ASCII hex digits and nothing else")
    func value() {
        #expect(Hex.value("0x0") == 0)
        #expect(Hex.value("0X1f") == 0x1f)
        #expect(Hex.value("0xFFFFFFFFFFFFFFFF") == UInt64.max)
        for bad in ["", "0x", "1f", "0x1ffffffffffffffff", "0x+5", "0x-1", "0x 5", "0x1g", "0x\u{FF11}", " 0x5"] {
            #expect(Hex.value(Substring(bad)) == nil, "\(bad)")
        }
    }

    @Test("Hex.number: a hex value, or decimal digits that fit in 64 bits")
    func number() {
        #expect(Hex.number("0x10") == 16)
        #expect(Hex.number("10") == 10)
        #expect(Hex.number("18446744073709551615") == UInt64.max)
        for bad in ["", "+5", "-5", "18446744073709551616", "1e3", "5 ", "\u{0665}"] {
            #expect(Hex.number(Substring(bad)) == nil, "\(bad)")
        }
    }
}
