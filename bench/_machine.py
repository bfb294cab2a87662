"""Machine description printed by every benchmark, so figures carry their context."""

from __future__ import annotations

import os
import platform


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        load = ", load avg %.1f" % os.getloadavg()[0]
    except OSError:
        load = ""
    return f"{os.cpu_count()} cores, {cpu}{mem}, Python {platform.python_version()}{load}"
