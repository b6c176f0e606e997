import XenMemory

/// What went wrong talking to Xen, and what to do about it.
public enum XenLiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// xenpv was built without the libxenctrl shim.
    case builtWithoutXen
    /// `/dev/xen/privcmd` and `/proc/xen/privcmd` are missing (ENOENT on open).
    case notOnXen
    /// Opening privcmd was refused (EACCES): not root.
    case notRoot
    /// Hypercalls refused with EPERM: this is not the control domain.
    case notControlDomain
    /// A sysctl/domctl refused with EACCES: the tools and the hypervisor are different versions.
    case versionMismatch(operation: String)
    /// No domain with that id.
    case domainNotFound(DomID)
    /// An HVM or PVH guest: Xen translates its memory; there is no guest P2M to read.
    case notPV(DomID)
    /// A foreign mapping of the caller's own domain was refused (ESRCH).
    case selfMappingRefused(operation: String)
    /// Anything else: the operation and the errno.
    case failed(operation: String, errno: Int32)

    /// One line: what happened and what to do.
    public var description: String {
        switch self {
        case .builtWithoutXen:
            return "built without Xen support: rebuild with `swift build --traits XenCtrl` (needs libxen-dev)"
        case .notOnXen:
            return "not running on Xen: /dev/xen/privcmd is missing (run this in a Xen dom0 with the xen-privcmd module and xenfs mounted)"
        case .notRoot:
            return "permission denied opening /dev/xen/privcmd: run as root in dom0"
        case .notControlDomain:
            return "Xen refused the request (EPERM): run this in the control domain (dom0), not in a domU"
        case .versionMismatch(let op):
            return "Xen refused \(op) (EACCES): the Xen tools libraries and the hypervisor are different versions; use the tools of the running Xen (4.17)"
        case .domainNotFound(let d):
            return "no domain \(d.rawValue) on this host (see `xl list`)"
        case .notPV(let d):
            return "domain \(d.rawValue) is an HVM or PVH guest: Xen translates its memory, there is no guest P2M to read"
        case .selfMappingRefused(let op):
            return "Xen refused to map the caller's own memory for \(op) (ESRCH)"
        case .failed(let op, let e):
            return "\(op) failed: errno \(e)"
        }
    }

    /// Classifies an errno returned by `operation` after the interface was opened.
    static func from(_ errno: Int32, operation: String) -> XenLiveError {
        switch errno {
        case XenErrno.eperm.rawValue: return .notControlDomain
        case XenErrno.eacces.rawValue: return .versionMismatch(operation: operation)
        case XenErrno.esrch.rawValue: return .selfMappingRefused(operation: operation)
        case XenErrno.enosys.rawValue: return .builtWithoutXen  // from the stub shim
        default: return .failed(operation: operation, errno: errno)
        }
    }
}
