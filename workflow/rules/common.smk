# Load and validate the parameter file; turn stage-table entries into rule inputs, outputs,
# resources and commands. Rules stay short: everything they say comes from the table.
import json
import os
import sys

import yaml
from snakemake.utils import validate

# The checkout's own package drives the DAG and every job (also inside per-rule conda envs, which
# do not install it), whatever copy of spurious_rewards the calling environment has installed.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)

from spurious_rewards import stages
from spurious_rewards.config import load_params
from spurious_rewards.overrides import PARAMS_ENV, resolve as resolve_params


# --config params=FILE / --configfile FILE select the parameter file; other --config/--configfile keys
# override it, merged into <results_dir>/params/resolved-<hash>.yaml, which every job then reads (README).
PARAMS_FILE = resolve_params(workflow.config_settings.config_args, workflow.config_settings.configfiles)
# Jobs find it through the environment: the command text stays the same whatever the overrides, so only
# the per-job parameter fingerprint decides what reruns (not Snakemake's code trigger).
os.environ[PARAMS_ENV] = PARAMS_FILE
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
    return "../../" + stages.stage(name).env_for(P)


def stage_shell(name):
    stage = stages.stage(name)
    wc = {w: "{wildcards.%s}" % w for w in stage.wildcards}
    # relative, so that moving the checkout does not change every job's code (a rerun trigger)
    src = os.path.relpath(SRC)
    return f"PYTHONPATH={src}${{{{PYTHONPATH:+:$PYTHONPATH}}}} " + stage.command(f'"${PARAMS_ENV}"', **wc) + " > {log} 2>&1"


def cacheable(rule_proxy):
    """Allow `--cache <rule>` (between-workflow output cache) for a rule that has a benchmark file.

    Snakemake refuses a rule that is both cached and benchmarked (an output fetched from the cache has
    no job to time), so a rule named in this invocation's --cache list loses its benchmark directive.
    """
    if rule_proxy.rule.name in set(workflow.workflow_settings.cache or ()):
        rule_proxy.rule._benchmark = None


def stage_benchmark(name):
    # Snakemake's own per-job wall time and peak memory (bench/bench_pipeline.py reads these).
    log = stages.stage(name).log_template()
    return f"{R}/benchmarks/" + log.removeprefix("logs/").removesuffix(".log") + ".tsv"
