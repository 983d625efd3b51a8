"""How far problem set 3's models land from its accuracy bands, over several seeds.

Runs the solution notebook and each declared mistake or alternative whose models train (a
plain kernel, no sandbox: this measures the models, not the grader) with the notebook's seed
replaced by each of ``--seeds``, ``grading.yaml``'s ``kernel_setup`` first as when graded, and
prints, per variant and model, the accuracy range on the public test set and on the 10,000
digits the grader holds back (what points are scored on), with the band each range falls in.
A declared loss holds only if every seed's held-back accuracy is on the same side of every
threshold; the script says which thresholds a range straddles.

    .venv/bin/python benchmarks/ps3_heldout_margins.py [--seeds 0 1 2 3 4] [--variants ...]

It trains about 30 s per variant and seed on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time

import nbformat
from nbclient import NotebookClient

from autograder.mistakes import apply_mistake, load_alternatives, load_mistakes
from autograder.problem_sets import find_problem_sets, kernel_setup, repo_root
from nnkit.mnist import DATA_ENV_VAR, cache_path, course_data_dir

PS = "ps3-keras-mnist"
MODELS = {"softmax_model": (0.90,), "mlp": (0.92, 0.95, 0.975), "challenge_model": (0.98,)}
_SEED = re.compile(r"keras\.utils\.set_random_seed\(\d+\)")

# Both sets prepared as the grader prepares them (flattened, scaled to [0, 1]), whatever the
# notebook's own preparation does, and scored by argmax as the grader scores them.
_MEASURE = '''
import json as _json
import numpy as _np
from nnkit import load_mnist as _load
from nnkit.mnist import load_mnist_heldout as _heldout
from nnkit.preprocessing import flatten as _flatten, scale as _scale
_, (_xt, _yt) = _load()
_xh, _yh = _heldout(%r)
_out = {}
for _name in %r:
    _model = globals().get(_name)
    try:
        _out[_name] = [
            float((_model.predict(_scale(_flatten(_x), _np.float32), verbose=0).argmax(axis=1)
                   == _y).mean())
            for _x, _y in ((_xt, _yt), (_xh, _yh))
        ]
    except Exception:
        _out[_name] = [None, None]
print("MEASURED", _json.dumps(_out))
'''
# Read before the kernel's data folder is set (the environment variable is then changed).
FULL_CACHE, COURSE_DATA = str(cache_path()), str(course_data_dir())


def measure(notebook: nbformat.NotebookNode, seed: int, setup: str) -> dict[str, list]:
    nb = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = _SEED.sub(f"keras.utils.set_random_seed({seed})", cell.source)
    nb.cells.insert(0, nbformat.v4.new_code_cell(setup))
    nb.cells.append(nbformat.v4.new_code_cell(_MEASURE % (FULL_CACHE, tuple(MODELS))))
    os.environ[DATA_ENV_VAR] = COURSE_DATA
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with tempfile.TemporaryDirectory() as work:
        client = NotebookClient(nb, timeout=600, allow_errors=True, resources={
            "metadata": {"path": work}})
        client.execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []))
    found = re.search(r"^MEASURED (.*)$", printed, re.MULTILINE)
    if not found:
        errors = [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells
                  for o in c.get("outputs", []) if o.get("output_type") == "error"]
        raise RuntimeError(f"the measuring cell printed nothing; errors: {errors}")
    return json.loads(found.group(1))


def band(accuracies: list[float], thresholds: tuple[float, ...]) -> str:
    straddled = [t for t in thresholds if min(accuracies) < t <= max(accuracies)]
    if straddled:
        return "STRADDLES " + ", ".join(f"{100 * t:g}%" for t in straddled)
    passed = [t for t in thresholds if min(accuracies) >= t]
    return f"passes {len(passed)} of {len(thresholds)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--variants", nargs="*", default=None,
                        help="solution and/or declared entries (default: all that train)")
    args = parser.parse_args()
    (ps,) = find_problem_sets(repo_root(), [PS])
    solution = nbformat.read(ps.solution_notebook, as_version=4)
    variants = {"solution": solution}
    for entry in [*load_mistakes(ps), *load_alternatives(ps)]:
        variants[entry.name] = apply_mistake(solution, entry)
    wanted = args.variants or [v for v in variants if v != "labels-not-one-hot"]
    setup = kernel_setup(ps.grading_config)
    for name in wanted:
        runs = []
        for seed in args.seeds:
            began = time.perf_counter()
            runs.append(measure(variants[name], seed, setup))
            print(f"  {name} seed {seed}: {runs[-1]} ({time.perf_counter() - began:.0f} s)",
                  flush=True)
        print(f"{name}:")
        for model, thresholds in MODELS.items():
            public = [r[model][0] for r in runs if r[model][0] is not None]
            held = [r[model][1] for r in runs if r[model][1] is not None]
            if not held:
                print(f"  {model:16s} not trained")
                continue
            print(f"  {model:16s} public {100 * min(public):.2f}-{100 * max(public):.2f}%  "
                  f"held-back {100 * min(held):.2f}-{100 * max(held):.2f}%  "
                  f"{band(held, thresholds)}")


if __name__ == "__main__":
    main()
