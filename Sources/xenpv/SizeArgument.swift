import ArgumentParser
import XenMemory

/// Byte sizes on the command line, read by ``ByteText/size(_:)``: a number with an optional
/// K/M/G/T suffix (binary units) or `0x` hex bytes.
enum SizeArgument {
    /// Parses `2G`, `768M`, `4096` (bytes) and the like; anything else (a sign, a fraction, a
    /// size over 2^64 - 1 bytes) is refused naming what is expected.
    static func parse(_ text: String) throws -> UInt64 {
        do {
            return try ByteText.size(Substring(text))
        } catch .malformed {
            throw ValidationError("expected a size such as 2G, 768M or 4096 (bytes), got \(RefusalLine.quoted(text))")
        } catch .tooLarge {
            throw ValidationError("\(RefusalLine.quoted(text)) is more than 2^64 - 1 bytes")
        }
    }
}
