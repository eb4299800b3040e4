"""Vendor the chart scripts the site's Liquidation Map pages load (Vega, Vega-Lite and
vega-embed) from their npm packages into templates/vendor/, pinned, with their licences and
a checksum file. The site serves these copies itself; no page loads a script from another host.

    python scripts/vendor_js.py          # needs npm; rewrites templates/vendor/

Run it after changing a version below; tests/publish/test_liquidation_pages.py checks that the
files match templates/vendor/VENDOR.json.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "templates" / "vendor"
# package → (version, the minified browser build inside its npm tarball)
PACKAGES = {
    "vega": ("6.4.0", "package/build/vega.min.js"),
    "vega-lite": ("6.5.0", "package/build/vega-lite.min.js"),
    "vega-embed": ("7.3.0", "package/build/vega-embed.min.js"),
}


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    record = {}
    with tempfile.TemporaryDirectory(prefix="vendor-js-") as tmp:
        for name, (version, member) in PACKAGES.items():
            done = subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=tmp,
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"npm pack {name}@{version} failed: {done.stderr.strip()}", file=sys.stderr)
                return 1
            with tarfile.open(Path(tmp) / done.stdout.strip().splitlines()[-1]) as tar:
                script = tar.extractfile(member)
                licence = tar.extractfile("package/LICENSE")
                assert script is not None and licence is not None
                data = script.read()
                (TARGET / f"{name}.min.js").write_bytes(data)
                (TARGET / f"{name}.LICENSE.txt").write_bytes(licence.read())
            record[name] = {"version": version, "file": f"{name}.min.js", "from": member,
                            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (TARGET / "VENDOR.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {', '.join(r['file'] for r in record.values())} to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
