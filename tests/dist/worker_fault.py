"""Faults in a dist_sync job, run by tests/dist/test_dist_faults.py under mpirun.

kill:  rank 1 kills itself (SIGKILL) at step 5 of a training loop; the others must stop.
hang:  rank 1 stops taking part (sleeps) at step 5; the others must fail with MX's timeout.
shape: rank 1 initialises key 'fc_weight' with another shape; every worker must get an error
       naming the key (printed as 'WORKER-ERROR <rank> <message>').
dtype: rank 1 pushes key 'bias' with another dtype; likewise."""
import os
import signal
import sys
import time

import mx
from mx import nd

mode = sys.argv[1]
kv = mx.kv.create("dist_sync")
rank = kv.rank


def report(fn):
    try:
        fn()
    except mx.base.MXError as e:
        print("WORKER-ERROR %d %s" % (rank, str(e).replace("\n", " ")), flush=True)
        return
    print("WORKER-NOERROR %d" % rank, flush=True)


if mode in ("kill", "hang"):
    kv.init(0, nd.zeros((1000,)))
    g = nd.ones((1000,))
    for step in range(1000):
        if rank == 1 and step == 5:
            if mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(600)
        report_step = step
        try:
            kv.pushpull(0, g)
        except mx.base.MXError as e:
            print("WORKER-ERROR %d %s" % (rank, str(e).replace("\n", " ")), flush=True)
            sys.exit(3)
        time.sleep(0.01)
    print("WORKER-NOERROR %d" % rank, flush=True)
elif mode == "shape":
    shape = (3, 5) if rank == 1 else (3, 4)
    report(lambda: kv.init(["fc_bias", "fc_weight"], [nd.zeros((3,)), nd.zeros(shape)]))
elif mode == "dtype":
    kv.init("bias", nd.zeros((4,)))
    dt = "float64" if rank == 1 else "float32"
    report(lambda: kv.pushpull("bias", nd.ones((4,), dtype=dt)))
else:
    sys.exit("unknown mode " + mode)
