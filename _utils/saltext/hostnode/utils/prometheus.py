"""
Prometheus text exposition for node_exporter's textfile collector: one writer for every
capability's ``.prom`` file (HELP and TYPE once per family, escaped label values, no
timestamps).
"""


def exposition(families):
    """
    The text of families: ``[(name, type, help, [(labels, value), ...]), ...]`` with labels a
    dict; a family without samples still gets its HELP and TYPE lines.
    """
    lines = []
    for name, kind, text, samples in families:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        for labels, value in samples:
            pairs = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
            lines.append(f"{name}{{{pairs}}} {value}" if pairs else f"{name} {value}")
    return "\n".join(lines) + "\n"


def _escape(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
