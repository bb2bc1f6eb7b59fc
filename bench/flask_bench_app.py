"""The example Flask API (examples/flask-api/app.py) limited five ways, for bench/flask-middleware.sh.

BENCH_MODE = none | sluice (sluice-flask; SLUICE_DECISION_URL set by the harness, so app.py's own
middleware mode turns on) | flask-limiter (LIMITER_STORAGE = memory:// or redis://...).
Same limits everywhere: /api/search 50 per hour for everyone together (over-limit count), every
other route 10,000,000 per minute per address (latency and throughput, never refused).
"""

import importlib.util
import os
from pathlib import Path

# Loaded by path: bench/ has an app.py of its own (the gateway benchmark's upstream).
_spec = importlib.util.spec_from_file_location(
    "example_app", Path(__file__).resolve().parents[1] / "examples" / "flask-api" / "app.py"
)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)
app = example.app

MODE = os.environ.get("BENCH_MODE", "none")

if MODE == "flask-limiter":
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=os.environ["LIMITER_STORAGE"],
        default_limits=["10000000 per minute"],
    )
    app.view_functions["search"] = limiter.limit("50 per hour", key_func=lambda: "global")(
        app.view_functions["search"]
    )
