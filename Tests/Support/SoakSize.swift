#if canImport(Glibc)
    import Glibc
#endif

/// The positive count in environment variable `name` (a soak run's size), or `fallback` when the
/// variable is unset or holds no positive integer.
public func soakCount(_ name: String, default fallback: Int) -> Int {
    guard let v = getenv(name), let n = Int(String(cString: v)), n > 0 else { return fallback }
    return n
}
