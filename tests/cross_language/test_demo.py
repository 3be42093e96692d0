"""`make demo`'s R and Julia halves (tools/demo_cross_language.sh) after a short training run:
both load the Python checkpoint and must print probabilities equal to Python's (the script fails
otherwise). Julia's half runs when tools/julia/install_julia.sh can provide Julia."""
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_demo_checkpoint_predicts_in_r_and_julia(tmp_path):
    lib = os.environ.get("MX_LIBRARY", str(ROOT / "build" / "libmx.so"))
    build = pathlib.Path(lib).parent
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    train = subprocess.run([sys.executable, str(ROOT / "examples" / "train_fashion_mnist.py"), "--limit", "2000",
                            "--out", str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    for f in ("fashion_mlp-symbol.json", "fashion_mlp-0001.params", "demo_io.nd"):
        assert (tmp_path / f).exists(), f
    demo = subprocess.run([str(ROOT / "tools" / "demo_cross_language.sh"), str(build), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=600)
    out = demo.stdout + demo.stderr
    assert demo.returncode == 0, out[-4000:]
    diffs = dict(re.findall(r"(R|Julia): largest difference from Python's probabilities: (\S+)", out))
    assert "R" in diffs and float(diffs["R"]) <= 1e-6, out[-4000:]
    if (build / "julia" / "bin" / "julia").exists():
        assert "Julia" in diffs and float(diffs["Julia"]) <= 1e-6, out[-4000:]
    assert out.count("predicted") == 5 * len(diffs), out[-4000:]
