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

    @Test("Hex.value(digits:) reads 1 to 16 ASCII hex digits without 0x and nothing else")
    func bareDigits() {
        #expect(Hex.value(digits: "0000000000100000") == 0x10_0000)  // Xen's `RAM map:` start of 1 MiB
        #expect(Hex.value(digits: "000000007ffdcfff") == 0x7ffd_cfff)
        #expect(Hex.value(digits: "FFFFFFFFFFFFFFFF") == UInt64.max)
        #expect(Hex.value(digits: "a") == 0xa)
        for bad in ["", "0x10", "00000000000000001", "1ffffffffffffffff", "+5", "-1", " 5", "5 ", "1g", "\u{FF11}", "１"] {
            #expect(Hex.value(digits: Substring(bad)) == nil, "\(bad)")
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

@Suite("byte sizes in text")
struct ByteSizeTextTests {
    @Test("ByteText.size: decimal with a binary unit, or 0x and 1 to 16 hex digits")
    func sizes() throws {
        #expect(try ByteText.size("4096") == 4096)
        #expect(try ByteText.size("768m") == 768 << 20)
        #expect(try ByteText.size("2G") == 2 << 30)
        #expect(try ByteText.size("16T") == 16 << 40)
        #expect(try ByteText.size("0x1000") == 0x1000)
        #expect(try ByteText.size("0XFFFFFFFFFFFFFFFF") == UInt64.max)
        #expect(try ByteText.size("0x00000000004000000") == 64 << 20)  // 17 digits, leading zeros
        #expect(try ByteText.size("0x0000000000000000000") == 0)
        #expect(try ByteText.size("0004096") == 4096)
    }

    @Test("ByteText.size refuses what is not a size, and says when it is too large")
    func refusals() {
        for bad in ["", "0x", "0x1g", "0x+5", "-1", "+1", "1.5G", "1 G", "2P", "G", "0x 5", "１"] {
            #expect(throws: ByteSizeTextError.malformed, "\(bad)") { try ByteText.size(Substring(bad)) }
        }
        for big in ["18446744073709551616", "16777216T", "0x10000000000000000", "0x0000000000000000010000000000000000"] {
            #expect(throws: ByteSizeTextError.tooLarge, "\(big)") { try ByteText.size(Substring(big)) }
        }
    }
}
