# The two set-up commands of the README, and a few more.
.PHONY: run test deps build lint bench demo-assets

CARGO ?= cargo

# Install what is missing, build, and open the inspector on the bundled demo.
run: deps
	$(CARGO) build --release
	./target/release/codecscope

# Every test: formatting, lints, unit, integration and end-to-end tests.
test: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --workspace

deps:
	@scripts/install-deps.sh

build: deps
	$(CARGO) build --release

bench: build
	$(CARGO) run --release --bin codecscope-bench
