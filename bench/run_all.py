"""Run every benchmark in bench/ with this interpreter, one after the other, and print them.

Each runs as a subprocess with the repository root on PYTHONPATH, bounded by a timeout.
Exit 1 if any of them fails or runs out of time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCRIPTS = (
    "hot_path.py",
    "store_throughput.py",
    "poller_throughput.py",
    "options_latency.py",
    "ack_latency.py",
)
TIMEOUT_S = 120.0


def main() -> int:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(ROOT), env.get("PYTHONPATH", "")) if part
    )
    env["PYTHONUNBUFFERED"] = "1"
    print(
        f"== run_all: {', '.join(SCRIPTS)} with {sys.executable} "
        f"(Python {sys.version.split()[0]}, {os.cpu_count()} CPUs) =="
    )
    print("Each prints its own header; compare ratios, not absolute times, across machines.")
    failed: list[str] = []
    started = time.perf_counter()
    for script in SCRIPTS:
        print(flush=True)
        try:
            result = subprocess.run(
                [sys.executable, str(BENCH / script)],
                cwd=ROOT,
                env=env,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            failed.append(f"{script} (over {TIMEOUT_S:g} s)")
            continue
        if result.returncode != 0:
            failed.append(f"{script} (exit {result.returncode})")
    print(f"\nrun_all took {time.perf_counter() - started:.1f} s")
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    print("all benchmarks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
