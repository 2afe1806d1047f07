"""The benchmark suite (not tests): ``python -m benchmarks`` from the repository root.

Times revgraph (static, and dynamic where available) against hand-written NumPy and the
peers installed from the ``bench`` extra (autograd, JAX on the CPU, PyTorch eager), on the
workloads W1-W4 of docs/benchmarks.md. Each measurement runs in a fresh subprocess, the
implementations interleaved round by round; medians and spreads are reported, with the
ratio to hand-written NumPy from the same run. See ``python -m benchmarks --help``.
"""
