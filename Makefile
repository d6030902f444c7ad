# make demo: set up .venv if needed, train and test the toy model.
# make test: set up .venv if needed, run the whole test suite.
PYTHON := .venv/bin/python
# Rebuilt when a requirement, setup.py or the setup script changes.
STAMP := .venv/.setup-stamp
SETUP_DEPS := tools/misc/setup_venv.sh setup.py requirements.txt \
	$(wildcard requirements/*.txt)

.PHONY: demo test venv toy-data clean

demo: $(STAMP)
	PYTHON=$(PYTHON) bash tools/demo.sh

test: $(STAMP)
	$(PYTHON) -m pytest

venv: $(STAMP)

$(STAMP): $(SETUP_DEPS)
	bash tools/misc/setup_venv.sh
	touch $@

toy-data: $(STAMP)
	$(PYTHON) tools/misc/make_toy_data.py --keep-valid

# Keeps .venv (slow to rebuild); remove it by hand if needed.
clean:
	rm -rf work_dirs data/toy .pytest_cache
