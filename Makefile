# Two entry points a fresh machine needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# two installs: the runtime alone (`make run`, `make demo`: what serving needs), and everything
# (`make test`, training, benchmarks: the dev extra, which pulls in train, privacy and scan)
RUNTIME := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed

.PHONY: run demo test lint train train-candidate eval eval-public train-answer-kind model-card bench clean install install-runtime browser

$(RUNTIME): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP) $(RUNTIME)

install-runtime: $(RUNTIME)
install: $(STAMP)

## run: the main job on embedded defaults: the HTTP service on 127.0.0.1:8000 (SQLite store in
## ./childguard-data, shipped detectors); it prints its URLs
run: $(RUNTIME)
	$(BIN)/childguard serve

## demo: the decision demo over the bundled example messages (no server)
demo: $(RUNTIME)
	$(BIN)/childguard demo

## browser: Debian's chromium for the page tests (Playwright drives it; no browser download), and a
## Devanagari font so the Hindi report page renders in screenshots
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium not installed: browser tests will be skipped"; }
	@[ -e /usr/share/fonts/truetype/lohit-devanagari ] || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 || \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-lohit-deva >/dev/null 2>&1 || true

## test: lint, type-check and every test
test: $(STAMP) browser
	$(BIN)/ruff check src tests training bench
	$(BIN)/mypy
	$(BIN)/pytest -q

## train: rebuild the shipped models: the default n-gram `classifier` (training/train.py), then the opt-in
## `semantic` detector (its n-gram model, heads and fusion; training/train_semantic.py, with training/hard and
## the benign corpora; seeded; sentence embeddings cached in build/e5_cache, ~1 h cold on 2 cores);
## REVIEWED="false_alarms.jsonl ..." adds the console's false-alarm exports as benign rows
train: $(STAMP)
	$(BIN)/python -m training.train --data v1 --shared ../shared/data --out src/childguard/models \
	  $(foreach f,$(REVIEWED),--reviewed $(f))
	$(BIN)/python -m training.train_semantic --shared ../shared/data --eval-dir ../shared/eval \
	  --out src/childguard/models --heldout build/semantic/heldout.jsonl $(foreach f,$(REVIEWED),--reviewed $(f))

## train-candidate: the gated v3 candidate on data v3 (training/contrastive, polyguard_social, rtp_lx, every
## other source) into build/candidate, with its held-out sets in build/candidate/heldout_sets (~5-10 min);
## then `CHILDGUARD_CLASSIFIER_MODEL_DIR=build/candidate childguard eval-public --heldout-dir ...` measures it
train-candidate: $(STAMP)
	$(BIN)/python -m training.train --data v3 --shared ../shared/data --eval-dir ../shared/eval \
	  --out build/candidate --heldout build/candidate/heldout.jsonl $(foreach f,$(REVIEWED),--reviewed $(f))

## train-answer-kind: the audit's answer-kind model from training/answers (~15 s), then re-measure the judges
train-answer-kind: $(STAMP)
	$(BIN)/python -m training.answers.compose
	$(BIN)/python -m training.train_answer_kind --out src/childguard/models
	$(BIN)/childguard audit-judges --write

## eval-public: end-to-end scores on ../shared/eval (evaluation only) and the held-out rows, with anchors
eval-public: $(STAMP)
	$(BIN)/childguard eval-public --eval-dir ../shared/eval --heldout build/heldout_own.jsonl \
	  --json-out build/eval_public_classifier.json
	CHILDGUARD_DETECTORS='["semantic","personal_data","contact_risk","prompt_injection"]' \
	  $(BIN)/childguard eval-public --eval-dir ../shared/eval --heldout build/semantic/heldout_own.jsonl \
	  --json-out build/eval_public.json

## eval: score the shipped model end to end on the held-out split that `make train` wrote
eval: $(STAMP)
	$(BIN)/childguard eval build/heldout_own.jsonl --json-out build/heldout_own.metrics.json
	$(BIN)/childguard eval build/heldout_public.jsonl --json-out build/heldout_public.metrics.json

## model-card: render docs/model_card.md from the model metadata and `make eval` metrics
model-card: eval
	$(BIN)/python -m training.model_card

bench: $(STAMP)
	$(BIN)/python bench/bench_core.py --out build/bench_core.json
	$(BIN)/python bench/bench_conversation.py --out build/bench_conversation.json
	$(BIN)/python bench/bench_audit.py --out build/bench_audit.json
	$(BIN)/python bench/bench_service.py --out build/bench_service.json
	$(BIN)/python bench/bench_gateway.py --out build/bench_gateway.json
	$(BIN)/python bench/bench_scan.py --messages 200000 --out build/bench_scan.json

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
