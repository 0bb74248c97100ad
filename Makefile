# The course's two main jobs, each setting up what it needs in a local virtual environment (.venv):
#   make series [PROFILE=smoke|default|full] [ONLY="01 02"]   run the notebooks headless into runs/<profile>/
#   make test                                                 pytest over tests/ and nbval over notebooks/
#   make quick                                                unit tests only, without the slow ones (contributors)
# Other targets: make setup (just the environment), make outputs NB=00 (store a notebook's outputs),
# make clean (remove runs/ and the environment).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= default
ONLY ?=
# bit-identical TensorFlow training from run to run (see utils/__init__.py): no oneDNN, one inter-op thread
export TF_ENABLE_ONEDNN_OPTS ?= 0
export TF_NUM_INTEROP_THREADS ?= 1
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg

.PHONY: setup series test quick outputs clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install it or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	@touch $@

series: setup
	$(BIN)/python -m utils.runner --profile $(PROFILE) $(if $(ONLY),--only $(ONLY))

# two workers, a file each at a time: a notebook's cells stay in one kernel, in order (pytest-xdist)
WORKERS ?= 2

test: setup
	$(BIN)/python -m pytest tests notebooks $(NBVAL) -p no:cacheprovider -n $(WORKERS) --dist loadfile

# the contributors' lane: unit tests without nbval and without the tests marked slow (about 2 minutes)
quick: setup
	$(BIN)/python -m pytest tests -m "not slow" -p no:cacheprovider -n $(WORKERS)

outputs: setup
	$(BIN)/python -m utils.runner.outputs $(NB)

clean:
	rm -rf runs $(VENV)
