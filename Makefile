# Thin wrapper around meson/ninja. See README.md.
BUILD     ?= build
BUILD_SAN ?= build-san
BUILD_FUZZ ?= build-fuzz
MESON     ?= meson
WERROR    ?= true
BENCH     ?=
DEMO_CONFIG ?=

.PHONY: all deps build demo check bench fuzz format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) -Dwerror=$(WERROR)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD_SAN)/build.ninja:
	$(MESON) setup $(BUILD_SAN) -Dwerror=$(WERROR) -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug

$(BUILD_FUZZ)/build.ninja:
	CC=clang $(MESON) setup $(BUILD_FUZZ) -Dfuzz=true -Dtests=false -Db_lundef=false \
		-Dbuildtype=debugoptimized

demo: deps build
	scripts/demo $(DEMO_CONFIG)

# Every suite (unit, pipeline, lab, interop, conformance on the normal build;
# unit and pipeline again under ASan/UBSan; fuzz targets briefly), then one
# summary line: "N passed, N failed, N skipped".
check: deps
	@$(MAKE) --no-print-directory build $(BUILD_SAN)/build.ninja $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_SAN)
	ninja -C $(BUILD_FUZZ)
	@tests/run-suites --build $(BUILD) --san $(BUILD_SAN) --fuzz $(BUILD_FUZZ)

bench: deps build
	bench/run $(BUILD) $(BENCH)

fuzz: deps $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ)
	tests/fuzz/run $(BUILD_FUZZ) $${FUZZ_SECONDS:-60}

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
