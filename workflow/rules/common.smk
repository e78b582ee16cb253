# Load and validate the parameter file; turn stage-table entries into rule inputs, outputs,
# resources and commands. Rules stay short: everything they say comes from the table.
import json
import os
import re
import shlex
import sys

# The checkout's own package drives the DAG and every job (also inside per-rule conda envs, which
# do not install it), whatever copy of spurious_rewards the calling environment has installed.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)

from spurious_rewards import stages
from spurious_rewards.config import ParamsError, check_params_path, load_params
from spurious_rewards.overrides import PARAMS_ENV, resolve as resolve_params

# --config params=FILE / --configfile FILE select the parameter file; other --config/--configfile keys
# override it, merged into <results_dir>/params/resolved-<hash>.yaml, which every job then reads (README).
# The package's validator (the same schema, plus the checks a schema cannot make) runs before any rule
# exists, so no job, dry run included, sees a value that is not a plain name or a safe path. Its
# message names the file and the key; a traceback through this file would not.
try:
    PARAMS_FILE = resolve_params(workflow.config_settings.config_args, workflow.config_settings.configfiles)
    check_params_path(PARAMS_FILE, where="--config params")
    P = load_params(PARAMS_FILE, engine=True)
except ParamsError as _exc:
    sys.stderr.write(f"error: {_exc}\n")
    sys.exit(2)
# Jobs find it through the environment: the command text stays the same whatever the overrides, so only
# the per-job parameter fingerprint decides what reruns (not Snakemake's code trigger).
os.environ[PARAMS_ENV] = PARAMS_FILE
R = str(P.results_dir)


def validation_stamp():
    from spurious_rewards.commands.validate import write_stamp

    write_stamp(R)


def _alternatives(values):
    return "|".join(re.escape(str(v)) for v in values)


wildcard_constraints:
    model=_alternatives(P.models),
    condition=_alternatives(P.conditions),
    seed=r"\d+",


def _wc_names(stage):
    return {w: "{%s}" % w for w in stage.wildcards}


# Per-stage wrappers of named outputs (e.g. `report()` for `snakemake --report`), filled by the files
# that own them (report.smk) before stages.smk turns the table into rules.
STAGE_OUTPUT_EXTRAS = {}


def stage_outputs(name):
    stage = stages.stage(name)
    extras = STAGE_OUTPUT_EXTRAS.get(name, {})
    out = {}
    for o in stage.outputs:
        path = f"{R}/{o.template}"
        out[o.key] = directory(path) if o.directory else path
        if o.key in extras:
            out[o.key] = extras[o.key](out[o.key])
    return out


def stage_inputs(name):
    stage = stages.stage(name)
    return lambda wc: stage.inputs(P, dict(wc.items()))


def stage_log(name):
    return f"{R}/{stages.stage(name).log_template()}"


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
    return f"../../{stages.stage(name).env_for(P)}"


def stage_shell(name):
    stage = stages.stage(name)
    # every value is shell-quoted even though validation already restricted it
    wc = {w: "{wildcards.%s:q}" % w for w in stage.wildcards}
    # relative, so that moving the checkout does not change every job's code (a rerun trigger)
    src = shlex.quote(os.path.relpath(SRC)).replace("{", "{{").replace("}", "}}")
    # "$SPURIOUS_REWARDS_PARAMS": a validated path (check_params_path), expanded by the shell as one word
    command = stage.command(PARAMS_FILE, params_word=f'"${PARAMS_ENV}"', **wc)
    return f"PYTHONPATH={src}${{{{PYTHONPATH:+:$PYTHONPATH}}}} {command} > {{log:q}} 2>&1"


# The rules this invocation caches between workflows (`--cache base labels`, README). Snakemake refuses a
# rule that is both cached and benchmarked (an output fetched from the cache has no job to time), so
# stages.smk gives these rules no `benchmark:` directive.
CACHED_RULES = frozenset(workflow.workflow_settings.cache or ())


def stage_benchmark(name):
    # Snakemake's own per-job wall time and peak memory (bench/bench_pipeline.py reads these).
    log = stages.stage(name).log_template()
    return f"{R}/benchmarks/{log.removeprefix('logs/').removesuffix('.log')}.tsv"
