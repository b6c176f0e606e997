import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// The `xenpv` command: Xen PV machine-address translation and xen-swiotlb, modelled.
@main
struct XenPV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xenpv",
        abstract: "Model Xen PV P2M/M2P translation and the Linux (xen-)swiotlb bounce buffer.",
        discussion: """
        Model runs need no Xen: they build a host, a PV dom0 and its P2M the way Xen 4.17 and \
        Linux do, and replay DMA against a swiotlb that is faithful to Linux v5.11 slot for slot.
        """,
        version: XenPVVersion.current,
        subcommands: [SimulateCommand.self, SizeCommand.self, CompareCommand.self, LayoutCommand.self, SwiotlbCommand.self,
                      HostCommand.self, P2MCommand.self, DumpCommand.self, ImportCommand.self, CompareRealCommand.self]
    )

    /// Parses the command line and runs the command. A refusal is one line on standard error
    /// (`Error: <what>`, and for a usage error the help command to read), never a usage screen;
    /// `--help` and `--version` print as usual.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let status = exitCode(for: error)
            if status == .success { exit(withError: error) }
            let message = message(for: error)
            if !message.isEmpty {
                StandardError.write(["Error: " + RefusalLine.join(message) + RefusalLine.helpHint(fullMessage(for: error, columns: 1000))])
            }
            Glibc.exit(status.rawValue)
        }
    }
}

/// How a refusal is written: one line, whatever the message it comes from.
enum RefusalLine {
    /// The message's lines joined into one.
    static func join(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline)
            .map { $0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed() }
            .filter { !$0.isEmpty }.map { String($0) }.joined(separator: "; ")
    }

    /// ` (see 'xenpv <command> --help')` when ArgumentParser's full message points at a help
    /// screen (usage errors), else nothing.
    static func helpHint(_ fullMessage: String) -> String {
        guard let line = fullMessage.split(whereSeparator: \.isNewline).first(where: { $0.contains("See '") }),
              let open = line.firstIndex(of: "'"),
              let close = line[line.index(after: open)...].firstIndex(of: "'") else { return "" }
        return " (see \(line[open...close]))"
    }
}

/// The tool's version string.
enum XenPVVersion {
    /// Semantic version of this build.
    static let current = "0.1.0"
}
