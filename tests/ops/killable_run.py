"""Driver for test_kill: `reportgen run --sample` that freezes mid-render so the test can
SIGKILL it there. After the first brief file is in place, the next one's temp file is fully
written and then, just before its os.replace, the process writes a marker and sleeps."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import reportgen.writer as writer_module
from reportgen.cli import main

MARKER = Path(sys.argv.pop(1))
real_replace = os.replace
briefs_done = 0


def replace(src: str, dst: str) -> None:
    global briefs_done
    if Path(dst).name.startswith("brief."):
        if briefs_done >= 1:
            MARKER.write_text(f"{src}\n")
            time.sleep(600)  # the test kills us here
        briefs_done += 1
    real_replace(src, dst)


writer_module.os = type(sys)("os_shim")  # the writer's `os`, with replace swapped
writer_module.os.__dict__.update(os.__dict__)
writer_module.os.replace = replace

if __name__ == "__main__":
    main()
