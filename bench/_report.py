"""Report helpers shared by the benchmark scripts: number formats, the ratio
table with targets, the machine line, and replacing a section of
docs/BENCHMARKS.md."""
import os
import platform


def count_label(n):
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if n >= div and n % (div // 10) == 0:
            return ("%g" % (n / div)) + unit
    return str(n)


def fmt_value(v, unit):
    if v is None:
        return "not available"
    if unit == "MB":
        return "%.0f MB" % v
    if v >= 1:
        return "%.2f s" % v
    if v >= 1e-3:
        return "%.2f ms" % (v * 1e3)
    return "%.2f us" % (v * 1e6)


def ratio_table(rows, targets, labels):
    """rows: (case, label, system, value or None, unit or why-not); targets: (case, system) -> the
    highest theon / system ratio that meets it; labels: system -> display name. Returns (markdown, misses)."""
    theon_val = {(r[0], r[1]): r[3] for r in rows if r[2] == "theon"}
    out = ["| case | system | median | spread | theon / system | target | met? |",
           "|---|---|---:|---:|---:|---:|---|"]
    misses = []
    for case, label, system, v, unit in rows:
        t = theon_val.get((case, label))
        ratio = None if (system == "theon" or v is None or t is None or not v) else t / v
        target = targets.get((case, system))
        if case == "memory" and "above import" in label:
            target = None
        met = ""
        if target is not None:
            if ratio is None:
                met = "not measured"
            else:
                met = "met" if ratio <= target else "**missed**"
                if ratio > target:
                    misses.append((case, label, system, ratio, target))
        median = fmt_value(v, unit) if v is not None else "not available" + (f": {unit}" if unit else "")
        spread = getattr(v, "spread", None)
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            label, labels.get(system, system), median, "" if spread is None else "%.0f%%" % (100 * spread),
            "" if ratio is None else "%.2f" % ratio,
            "" if target is None else "<= %.2f" % target, met))
    return "\n".join(out), misses


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def cpu_line():
    """'2 cores (nproc), <CPU model>, Python 3.x, Linux'."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cores (nproc), %s, Python %s, %s" % (
        os.cpu_count(), model, platform.python_version(), platform.system())


def machine_info(info, labels):
    peers = ", ".join("%s %s" % (labels[k], v) for k, v in info.items() if k != "theon")
    return "%s; peers: %s" % (cpu_line(), peers)


def replace_section(path, heading, section):
    """Replaces the section of the markdown file at `path` that starts with `heading` (up to the next
    "## " heading) by `section`, or appends it when absent."""
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    start = text.find(heading)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[nxt + 1:] if nxt >= 0 else "")
    with open(path, "w") as fh:
        fh.write(text.rstrip("\n") + "\n")
