# Conveniences over the two README commands (./run.sh and ./test.sh).
.PHONY: run test bench load screenshots demo-data clean
run:
	./run.sh
test:
	./test.sh
bench:
	scripts/setup.sh --dev && export CHROMIUM=$${CHROMIUM:-/usr/bin/chromium} && .venv/bin/python bench/run.py && .venv/bin/python bench/mirror.py && .venv/bin/python bench/views.py $(VIEWS_ARGS) && .venv/bin/python bench/cli.py && .venv/bin/python bench/outlines.py && .venv/bin/python bench/national.py && .venv/bin/python bench/firstload.py $(FIRSTLOAD_ARGS) && .venv/bin/python bench/load.py $(LOAD_ARGS) && .venv/bin/python bench/teamload.py $(TEAM_ARGS)
load:
	scripts/setup.sh --dev && CHROMIUM=$${CHROMIUM:-/usr/bin/chromium} .venv/bin/python bench/load.py $(LOAD_ARGS)
screenshots:
	scripts/setup.sh --dev && CHROMIUM=$${CHROMIUM:-/usr/bin/chromium} .venv/bin/python scripts/screenshots.py
demo-data:
	scripts/setup.sh && .venv/bin/python boundaries/make_demo_pack.py
clean:
	rm -rf .venv static/vendor .pytest_cache
