import Testing
import XenMemory

@testable import XenLive

@Suite("live errors classified by Xen's errno names")
struct XenLiveErrorTests {
    @Test("EPERM, EACCES, ESRCH, ENOSYS and anything else")
    func classified() {
        #expect(XenLiveError.from(XenErrno.eperm.rawValue, operation: "x") == .notControlDomain)
        #expect(XenLiveError.from(13, operation: "xc_physinfo") == .versionMismatch(operation: "xc_physinfo"))
        #expect(XenLiveError.from(3, operation: "map") == .selfMappingRefused(operation: "map"))
        #expect(XenLiveError.from(38, operation: "x") == .builtWithoutXen)
        #expect(XenLiveError.from(12, operation: "x") == .failed(operation: "x", errno: 12))
        #expect([XenErrno.enoent, .eacces, .enosys].map(\.description) == ["ENOENT", "EACCES", "ENOSYS"])
    }
}
