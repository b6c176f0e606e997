#!/usr/bin/env python3
"""Writes xenpv's man page (man(7) roff) from the command tree the binary describes.

Usage: Scripts/manpage.py XENPV OUTPUT [DATE]

XENPV --experimental-dump-help prints swift-argument-parser's ToolInfo JSON (serialization
version 0): every command, subcommand, argument and help text. The page has one section per
command, in the order the tool lists them, so it cannot drift from `xenpv --help`. DATE (e.g.
the commit date, for a reproducible page) goes into the title line. The page is written to a
temporary file beside OUTPUT and renamed over it.
"""
import json
import os
import subprocess
import sys
import tempfile


def escape(text):
    """Text as roff reads it literally: backslashes, hyphens, and anything not ASCII by code point."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\e")
        elif ch == "-":
            out.append("\\-")
        elif ord(ch) > 126:
            out.append("\\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def paragraph(text):
    """Lines of running text: blank lines start a new paragraph; no line may begin with a control character."""
    lines = []
    for block in text.strip().split("\n\n"):
        if lines:
            lines.append(".PP")
        for line in block.split("\n"):
            line = escape(line.strip())
            if line:
                lines.append("\\&" + line if line[0] in ".'" else line)
    return lines


def flag_names(arg):
    names = []
    for n in arg.get("names", []):
        prefix = "-" if n["kind"] in ("short", "longWithSingleDash") else "--"
        names.append("\\fB" + escape(prefix + n["name"]) + "\\fR")
    return ", ".join(names)


def argument_usage(arg):
    """How one argument is written in a synopsis: `--name <value>`, `<value>`, optional in brackets."""
    if arg["kind"] == "positional":
        text = "\\fI" + escape(arg.get("valueName", "value")) + "\\fR"
    else:
        text = flag_names({"names": [arg["preferredName"]]})
        if arg["kind"] == "option":
            text += " \\fI" + escape(arg.get("valueName", "value")) + "\\fR"
    if arg.get("isRepeating"):
        text += " ..."
    return "[" + text + "]" if arg.get("isOptional") else text


def shown(items):
    return [i for i in items or [] if i.get("shouldDisplay", True)]


def own_arguments(cmd):
    """A command's arguments without --version and --help, which every command takes (said once, at the top)."""
    common = {"version", "help"}
    return [a for a in shown(cmd.get("arguments")) if not common & {n["name"] for n in a.get("names", [])}]


def command_section(cmd, path, out):
    """A command's synopsis, description and arguments, then its subcommands' sections."""
    name = " ".join(path)
    arguments = own_arguments(cmd)
    subcommands = [s for s in shown(cmd.get("subcommands")) if s["commandName"] != "help"]
    usage = ["\\fB" + escape(name) + "\\fR"] + [argument_usage(a) for a in arguments]
    if subcommands:
        usage.append("\\fIcommand\\fR")
    out.append('.SS "' + escape(name) + '"')
    out.append(".nf")
    out.append(" ".join(usage))
    out.append(".fi")
    out.append(".PP")
    out += paragraph(cmd.get("abstract", ""))
    if cmd.get("discussion"):
        out.append(".PP")
        out += paragraph(cmd["discussion"])
    for arg in arguments:
        out.append(".TP")
        if arg["kind"] == "positional":
            out.append("\\fI" + escape(arg.get("valueName", "value")) + "\\fR")
        elif arg["kind"] == "option":
            out.append(flag_names(arg) + " \\fI" + escape(arg.get("valueName", "value")) + "\\fR")
        else:
            out.append(flag_names(arg))
        out += paragraph(arg.get("abstract", "") or "(no description)")
        facts = []
        if arg.get("allValues"):
            facts.append("values: " + ", ".join(arg["allValues"]))
        if arg.get("defaultValue") and arg["kind"] != "flag":
            facts.append("default: " + arg["defaultValue"])
        if facts:
            out += paragraph("(" + "; ".join(facts) + ")")
        if arg.get("discussion"):
            out += paragraph(arg["discussion"])
    for sub in subcommands:
        command_section(sub, path + [sub["commandName"]], out)


def page(info, version, date):
    root = info["command"]
    tool = root["commandName"]
    out = ['.TH %s 1 "%s" "%s %s" "User Commands"' % (tool.upper(), date, tool, version)]
    out += [".SH NAME", escape(tool) + " \\- " + escape(root.get("abstract", ""))]
    out += [".SH SYNOPSIS", "\\fB%s\\fR \\fIcommand\\fR [\\fIoptions\\fR]" % escape(tool)]
    out += [".br", "\\fB%s\\fR \\fB\\-\\-version\\fR | \\fB\\-\\-help\\fR" % escape(tool)]
    out += [".SH DESCRIPTION"] + paragraph(root.get("discussion", ""))
    out += [".PP", "Every command also takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR (its help; \\fB%s help\\fR \\fIcommand\\fR "
            "prints the same) and \\fB\\-\\-version\\fR (the version, also the Debian package's)." % escape(tool)]
    out.append(".SH COMMANDS")
    for sub in shown(root.get("subcommands")):
        if sub["commandName"] != "help":
            command_section(sub, [tool, sub["commandName"]], out)
    out += [".SH EXIT STATUS",
            "0 on success. A refused input or a failed run prints one line on standard error, "
            "\\fBError:\\fR and what was refused (file:line and field where there is one), "
            "and exits non\\-zero.",
            ".SH FILES",
            ".TP", "\\fI/usr/share/doc/%s/examples/\\fR" % escape(tool),
            "Example scenarios, a DMA trace and xen\\-mfndump dumps used in the usage lines of the project's README.",
            ".SH SEE ALSO",
            "\\fBxl\\fR(1), \\fBxen\\-mfndump\\fR(8)"]
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: manpage.py XENPV OUTPUT [DATE]")
    xenpv, output = sys.argv[1], sys.argv[2]
    date = sys.argv[3] if len(sys.argv) == 4 else ""
    info = json.loads(subprocess.run([xenpv, "--experimental-dump-help"], check=True, capture_output=True).stdout)
    if info.get("serializationVersion") != 0:
        sys.exit("manpage.py: unknown ToolInfo serialization version %r" % info.get("serializationVersion"))
    version = subprocess.run([xenpv, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(output)), prefix=".manpage-")
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(page(info, version, date))
    os.chmod(tmp, 0o644)
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
