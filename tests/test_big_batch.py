"""examples/big_batch.py at its smoke size: the cluster starts (2 worker processes on 127.0.0.1),
the Dask gradient of the two-layer net agrees with the numpy backend's slice-by-slice one, SGD runs,
and the cluster is closed when the script ends."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_big_batch_smoke():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "big_batch.py"), "--smoke"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "data set: 1024 samples x 784 features" in out
    assert "the Dask gradients agree (rtol 1e-10" in out
    assert "SGD over 2 mini-batches of 512 samples" in out
