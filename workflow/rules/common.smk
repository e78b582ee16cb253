# Load and validate the parameter file; turn stage-table entries into rule inputs, outputs,
# resources and commands. Rules stay short: everything they say comes from the table.
import json

import yaml
from snakemake.utils import validate

from spurious_rewards import stages
from spurious_rewards.config import load_params


PARAMS_FILE = config.get("params", "params.yaml")
with open(PARAMS_FILE, encoding="utf-8") as _fh:
    _RAW = yaml.safe_load(_fh)
validate(_RAW, schema="../schemas/params.schema.yaml")
P = load_params(PARAMS_FILE)
R = str(P.results_dir)


def _alternatives(values):
    return "|".join(re.escape(str(v)) for v in values)


wildcard_constraints:
    model=_alternatives(P.models),
    condition=_alternatives(P.conditions),
    seed=r"\d+",


def _wc_names(stage):
    return {w: "{%s}" % w for w in stage.wildcards}


def stage_outputs(name):
    stage = stages.stage(name)
    out = {}
    for o in stage.outputs:
        path = f"{R}/" + o.template
        out[o.key] = directory(path) if o.directory else path
    return out


def stage_inputs(name):
    stage = stages.stage(name)
    return lambda wc: stage.inputs(P, dict(wc.items()))


def stage_log(name):
    return f"{R}/" + stages.stage(name).log_template()


def stage_fingerprint(name):
    stage = stages.stage(name)
    return lambda wc: stages.fingerprint(P, stage, **dict(wc.items()))


def stage_resources(name):
    spec = P.section("resources")[stages.stage(name).resources]
    res = {"mem_mb": spec["mem_mb"], "runtime": spec["runtime_min"], "cpus_per_task": spec["cpus"]}
    if spec["gpus"]:
        res["gpu"] = spec["gpus"]
    return res


def stage_threads(name):
    return P.section("resources")[stages.stage(name).resources]["cpus"]


def stage_env(name):
    return "../../" + stages.stage(name).env


def stage_shell(name):
    stage = stages.stage(name)
    wc = {w: "{wildcards.%s}" % w for w in stage.wildcards}
    return stage.command(PARAMS_FILE, **wc) + " > {log} 2>&1"


def stage_benchmark(name):
    # Snakemake's own per-job wall time and peak memory (bench/bench_pipeline.py reads these).
    log = stages.stage(name).log_template()
    return f"{R}/benchmarks/" + log.removeprefix("logs/").removesuffix(".log") + ".tsv"
