"""Start a data-parallel job on Open MPI's mpirun (MXNet's tools/launch.py --launcher mpi):

    python -m mx.tools.launch -n 4 [-H hostfile] python train.py --epochs 3
    python -m mx.tools.launch -n 2 Rscript train.R
    python -m mx.tools.launch -n 2 julia train.jl

Every worker gets MX_RANK, MX_NUM_WORKERS and MX_LOCAL_RANK (and MXNet's DMLC_ROLE=worker,
DMLC_NUM_WORKER) in its environment; kvstore 'dist_sync' then reduces over MPI. SIGINT and
SIGTERM are forwarded to mpirun, which stops every worker (Ctrl-C stops the whole job).
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys

# Runs on every worker before the program: exports the rank variables mpirun sets per process
# under MX's and MXNet's names, then becomes the program (no Python needed on the hosts for R
# or Julia programs).
_SHIM = ('export MX_RANK="${OMPI_COMM_WORLD_RANK:-0}" MX_NUM_WORKERS="${OMPI_COMM_WORLD_SIZE:-1}" '
         'MX_LOCAL_RANK="${OMPI_COMM_WORLD_LOCAL_RANK:-0}" DMLC_ROLE=worker '
         'DMLC_NUM_WORKER="${OMPI_COMM_WORLD_SIZE:-1}"; exec "$@"')

# Environment variables every worker needs, forwarded by mpirun -x (it copies them to
# remote hosts too).
_FORWARD = ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH", "MX_LIBRARY", "MX_HOME", "MX_MPI_LIBRARY",
            "MX_KVSTORE_TIMEOUT", "MX_KVSTORE_BUCKET_BYTES", "OMP_NUM_THREADS", "R_LIBS",
            "JULIA_PROJECT", "JULIA_LOAD_PATH", "JULIA_DEPOT_PATH", "MXNET_UPDATE_ON_KVSTORE")


def build_command(args, program, mpirun="mpirun", is_root=None):
    """The mpirun command line for `program` (a list)."""
    if is_root is None:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    cmd = [mpirun, "-n", str(args.num_workers), "--oversubscribe"]
    if is_root:
        cmd.append("--allow-run-as-root")
    if args.hostfile:
        cmd += ["--hostfile", args.hostfile]
    if args.bind_to:
        cmd += ["--bind-to", args.bind_to]
    for name in _FORWARD:
        if name in os.environ:
            cmd += ["-x", name]
    for kv in args.env or []:
        cmd += ["-x", kv]
    cmd += list(args.mpi_args or [])
    cmd += ["sh", "-c", _SHIM, "mx-worker"] + list(program)
    return cmd


def parse(argv):
    p = argparse.ArgumentParser(
        prog="python -m mx.tools.launch",
        description="Launch a distributed MX job on mpirun (kvstore='dist_sync').")
    p.add_argument("-n", "--num-workers", type=int, required=True, help="number of worker processes")
    p.add_argument("-H", "--hostfile", help="Open MPI hostfile (one 'host slots=N' per line); "
                   "the program and data must be at the same paths on every host")
    p.add_argument("--launcher", default="mpi", choices=["mpi"], help="only mpi (MXNet's name)")
    p.add_argument("--bind-to", default="none",
                   help="mpirun --bind-to (default none: workers share cores freely)")
    p.add_argument("--env", action="append", metavar="NAME[=VALUE]",
                   help="extra environment variable for the workers (repeatable)")
    p.add_argument("--mpi-args", nargs=argparse.REMAINDER,
                   help="further mpirun arguments, placed before the program")
    p.add_argument("--dry-run", action="store_true", help="print the mpirun command and exit")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the program and its arguments")
    args = p.parse_args(argv)
    if args.num_workers < 1:
        p.error("-n must be at least 1")
    program = list(args.command)
    if program and program[0] == "--":
        program = program[1:]
    if program and program[0] in ("python", "python3"):
        # The interpreter running the launcher (mpirun puts its own bin directory first on the
        # workers' PATH, where `python3` may be another Python without MX's dependencies).
        program[0] = sys.executable
    if not program:
        p.error("give the program to run, e.g. python train.py")
    return args, program


def main(argv=None):
    args, program = parse(sys.argv[1:] if argv is None else argv)
    mpirun = shutil.which("mpirun")
    if mpirun is None and not args.dry_run:
        sys.stderr.write("mx.tools.launch: mpirun not found on PATH. Install Open MPI "
                         "(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev).\n")
        return 127
    cmd = build_command(args, program, mpirun or "mpirun")
    if args.dry_run:
        print(" ".join(_quote(c) for c in cmd))
        return 0
    # mpirun in its own session: the launcher decides how signals reach it, and mpirun then
    # stops every worker (on this host and the others).
    proc = subprocess.Popen(cmd, start_new_session=True)

    def forward(signum, frame):
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, forward)
    rc = proc.wait()
    return 128 - rc if rc < 0 else rc


def _quote(s):
    import shlex
    return shlex.quote(s)


if __name__ == "__main__":
    sys.exit(main())
