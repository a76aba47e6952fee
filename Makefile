# Two commands a newcomer needs:
#   make up    run the whole app locally (emulator + identity provider + site)
#   make test  every test: unit, policy, harness, integration, browser
# Both install what they need into .venv, .devstack/ and node_modules/.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
PYTEST_ARGS ?=
# Passed on to `pulumi preview|up` by make preview/deploy (e.g. PULUMI_ARGS=--yes).
PULUMI_ARGS ?=
# The emulator for up/test-localstack: ministack (default) or localstack.
TARGET ?= ministack
export PETS_TARGET := $(TARGET)
BENCH_ARGS ?=
# Every Python process started here caches the byte code of what it imports (in __pycache__),
# so a module is compiled once, by the first process that imports it: machines like ours set
# PYTHONDONTWRITEBYTECODE, under which every test worker, program run and CLI compiled each
# module it imported anew. Compiling the whole venv ahead (92 MB of source) took 12 CPU-s
# that every test waited for; the tests import 59% of it.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help up down test test-ministack test-node test-localstack unit lint package site access deploy preview constraints clean bench openapi docs chromium prove access-diff emulators emulator-ministack emulator-localstack before-legs collection

help:
	@echo "make up       start the local stack (MiniStack + OIDC provider) and apply the program"
	@echo "              (make up TARGET=localstack: LocalStack community instead of MiniStack)"
	@echo "make down     stop everything 'make up' started"
	@echo "make test     install what is missing and run every test: the MiniStack suite and,"
	@echo "              beside it, the LocalStack leg (make test-ministack / make test-localstack alone)"
	@echo "make unit     the fast tests only (no emulator, no browser; docs/testing.md)"
	@echo "make access   regenerate ACCESS.md from access.py"
	@echo "make prove    prove every stack file's policies give each class exactly its access"
	@echo "              (z3, over every request; python -m devstack prove: the running stack)"
	@echo "make access-diff BASE=<rev>  what the working tree grants/revokes against BASE"
	@echo "make openapi  regenerate openapi.json from access.py and handlers/shapes.py"
	@echo "make docs     regenerate docs/configuration.md from the settings tables"
	@echo "make bench    time setup, make up, the matrix and API calls (bench/README.md)"
	@echo "make preview  check STACK (default dev) against its AWS account, then pulumi preview"
	@echo "make deploy   the same checks, then pulumi up the STACK on real AWS; needs the Pulumi CLI"

# pip installs only uv (its pin from requirements-dev.txt); uv installs the rest. The venv
# gets no pip of its own (ensurepip took 2.5 of the first 4 s of every fresh `make`): the
# system's pip installs uv into it, or, where there is none or it is older than 22.3 (no
# --python), the venv's own pip after all.
UV_PIN = "$$(grep '^uv==' requirements-dev.txt)"
$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(PY) install --quiet --disable-pip-version-check $(UV_PIN) || \
	  { $(PY) -m ensurepip --default-pip && \
	    $(PY) -m pip install --quiet --disable-pip-version-check $(UV_PIN); }
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements-dev.txt -c constraints.txt
	touch $@

# The Lambda package: handlers + their dependencies built for python3.12 x86_64.
build/lambda/.built: $(VENV)/.installed handlers/*.py handlers/requirements.txt scripts/package_lambda.py scripts/package_trim.py scripts/interpreter.py
	$(PY) -m scripts.package_lambda
	touch $@

package: build/lambda/.built

# The site's pinned npm libraries copied into site/vendor/ (served as plain ES modules).
site/vendor/.built: site/package.json site/package-lock.json site/vendor.mjs
	npm --prefix site ci --no-audit --no-fund --prefer-offline --loglevel=error
	node site/vendor.mjs
	touch $@

site: site/vendor/.built

# `devstack up` installs what it lacks itself (the emulator's venv, the IdP's npm packages).
up: package site
	$(PY) -m devstack up --target $(TARGET)

down: $(VENV)/.installed
	$(PY) -m devstack down

# Figures, not tests: prints tables, writes bench/results.json (BENCH_ARGS: see --help).
bench: package site emulators
	$(PY) -m bench.run $(BENCH_ARGS)

# The emulators' venvs (MiniStack, LocalStack) and the npm packages devstack needs; `devstack
# up` installs what it lacks itself, each test leg needs its emulator ready.
emulators: emulator-ministack emulator-localstack
emulator-ministack emulator-localstack: $(VENV)/.installed
	$(PY) -m devstack install --target $(@:emulator-%=%)

# Before the legs, side by side: what the MiniStack leg needs (the venv, then the Lambda
# package beside MiniStack's venv; npm and Chromium meanwhile), the Node tests and lint.
# LocalStack's venv (the slowest install) is the LocalStack leg's own first step, while the
# MiniStack leg already runs. -Otarget: each step's output in one piece.
before-legs:
	$(MAKE) --no-print-directory -j4 -Otarget package site chromium emulator-ministack \
		test-node lint collection

# The MiniStack leg's collection, once, in two halves side by side: the first process to
# import a module compiles it, and pytest keeps its rewrite of each test module, so the leg's
# three workers collect from byte code instead of each compiling the same modules at once.
# A warm-up only: a collection error is the leg's to report.
COLLECT = $(PY) -m pytest --collect-only -q -p no:cacheprovider
collection: $(VENV)/.installed
	@$(COLLECT) tests/unit tests/policy tests/prover tests/offline >/dev/null 2>&1 & \
	$(COLLECT) tests/handlers tests/integration tests/browser tests/devstack >/dev/null 2>&1; \
	wait; true

unit: package site
	$(PY) -m pytest -n 2 tests/unit tests/handlers $(PYTEST_ARGS)

# Every test (docs/testing.md): the installs, the Node tests and lint, then the two legs side
# by side. The LocalStack leg runs niced: it is done long before the MiniStack leg, whose session
# stack's tests in order are the longest path, so it takes the CPU that leg leaves. Its
# output is held back and printed after the MiniStack leg's.
test: before-legs
	@mkdir -p .devstack; \
	nice -n 10 $(MAKE) --no-print-directory test-localstack > .devstack/localstack-leg.log 2>&1 & \
	leg=$$!; \
	$(MINISTACK_LEG); ministack=$$?; \
	wait $$leg; localstack=$$?; cat .devstack/localstack-leg.log; \
	exit $$(( ministack || localstack ))

# Everything against MiniStack (the default emulator) but tests/localstack, left to
# test-localstack. Three workers on two cores (the tests wait as well as compute): one runs
# the session stack's tests in order, the others everything else beside it (tests/conftest.py,
# tests/support/layout.py); the access proof of every stack file is one of those tests
# (tests/prover/test_stack_files.py).
MINISTACK_LEG = PETS_TARGET=ministack $(PY) -m pytest -n 3 --durations=15 \
	--ignore=tests/localstack $(PYTEST_ARGS)
test-ministack: package site chromium emulator-ministack
	$(MINISTACK_LEG)

# Debian's Chromium headless shell for the browser tests (tests/browser; PETS_CHROMIUM names
# another Chromium). The same engine as the full browser without its UI layers: the browser
# suite takes half the CPU it took in full Chromium (docs/testing.md).
chromium:
	@test -x /usr/bin/chromium-headless-shell || { \
	  echo "installing Debian's chromium-headless-shell (apt-get, ~20 s)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; }

# On Node's own test runner: the Auth0 post-login Action's logic (auth0/post-login.js), and
# the site's retry policy and API client (site/retry.js, site/api.js; the latter needs the
# vendored aws4fetch).
test-node: site
	node --test auth0/ tests/site/

# The same stack on LocalStack community (host mode): the whole apply, every resource read
# back, CORS, and the integration suite, whose tests skip (with the probed reason) what
# this target cannot do (run Lambdas without Docker, enforce IAM).
LOCALSTACK_LEG = @start=$$(date +%s); \
	PETS_TARGET=localstack $(PY) -m pytest -rs --durations=10 tests/localstack \
		tests/integration $(PYTEST_ARGS); \
	status=$$?; echo "LocalStack leg: $$(( $$(date +%s) - start )) s"; exit $$status
test-localstack: package site emulators
	$(LOCALSTACK_LEG)

lint: $(VENV)/.installed
	$(PY) -m ruff check .

access: $(VENV)/.installed
	$(PY) -m policy.access_doc > ACCESS.md

# The access proof (prover/): every Pulumi.<stack>.yaml's synthesized policies, over every
# request; counterexamples are replayed through iam-simulate (about 5 s for four stacks).
prove: package
	$(PY) -m prover prove

# What the working tree grants and revokes against BASE (a git revision), per class, over every
# request, with witnesses; exit 1 when anything is granted. make access-diff BASE=HEAD~1
BASE ?= HEAD
access-diff: package
	$(PY) -m prover diff --base $(BASE)

# The API's contract (OpenAPI 3.0) from access.py and handlers/shapes.py.
openapi: $(VENV)/.installed
	$(PY) -m policy.openapi_doc > openapi.json

# The settings of both projects (components/config.py, components/account_config.py).
docs: $(VENV)/.installed
	$(PY) -m policy.config_doc > docs/configuration.md

# Real AWS: needs the Pulumi CLI (not installable on the sandbox machines). The driver
# (deploy/) checks the stack file and the account first (the preflight), then runs
# `pulumi preview|up --stack $(STACK) --policy-pack policy $(PULUMI_ARGS)`.
preview deploy: package site
	$(PY) -m deploy $(if $(filter deploy,$@),up,preview) --stack $(STACK) $(PULUMI_ARGS)

constraints: $(VENV)/.installed
	$(VENV)/bin/uv pip freeze --python $(PY) --exclude-editable | sort > constraints.txt

clean:
	rm -rf build .devstack test-artifacts site/vendor
