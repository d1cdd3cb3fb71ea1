# fcap - FPGA full-packet-capture appliance.
#
#   make            build everything into build/ (card model, library, CLI, tests)
#   make demo       replay bundled captures through the simulated card into a pcapng
#   make test       build and run every test (unit, simulation, tools, lint, synth-check)
#   make deps       install missing Debian packages (apt-get; run by demo and test)
#   make lint       verilator --lint-only -Wall on the RTL
#   make synth      yosys synthesis of the card, the whole flow and the cell tables
#   make synth-check  its coarse half (what make test runs)
#   make bench      simulated capture speed; scorer speed and detection; fleet publishing
#   make fuzz       libFuzzer campaign over every parser (FUZZ_SECONDS per target)
#   make driver     the kernel module (kbuild, W=1) against Debian's headers
#   make driver-check  sparse (C=2) and checkpatch --strict on the driver
#   make eval-deps  install the evaluation-set generator's tools (docs/EVAL.md)
#   make clean
#
# Everything is built out of tree in $(O). Two builds of the C code exist side
# by side: $(O)/obj (-O2, what `fcap` uses) and $(O)/san (AddressSanitizer and
# UBSan, what the tests link).

O        ?= build
# Parallel jobs for the builds `make test` and `make demo` run (the tests
# themselves run one at a time).
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
DATA     ?= $(abspath ../shared/data)
CC       := gcc
CXX      := g++
export FCAP_DATA := $(DATA)

WARN     := -Wall -Wextra -Werror
CSTD     := -std=gnu11
OPT      := -O2 -g
SAN      := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
INC      := -Ihost/include -Isim
VINC     := -I$(O)/verilator -I$(O)/verilator-1x100g -I/usr/share/verilator/include \
	    -I/usr/share/verilator/include/vltstd
LIBS     := -lpcap -lfdt -lmicrohttpd -lnats -lpthread -lm

.PHONY: all deps eval-deps demo test lint synth bench clean check-defs test-unit test-sim test-tools install test-ops \
	test-store test-score test-alerts test-live test-ipfix test-fleet driver driver-check test-driver fuzz fuzz-build \
	fuzz-smoke test-valgrind test-malformed
.DEFAULT_GOAL := all

UNIT_TESTS := test_features test_pcap_reader test_model test_store test_ops test_alerts

all: $(O)/bin/fcap $(O)/bin/fcap-san $(O)/bin/fcap-cosim $(O)/bin/fcap-cosim-san $(O)/tests/test_block $(O)/tests/test_card $(O)/tests/test_async_fifo \
	$(O)/tests/test_scoreboard \
	$(O)/tests/test_driver $(addprefix $(O)/tests/,$(UNIT_TESTS)) $(O)/bin/bench_scorer $(O)/bin/bench_capture $(O)/bin/bench_sim_floor \
	$(O)/bin/bench_recorder $(O)/bin/bench_fleet

deps:
	@tools/deps.sh

# Tools of the evaluation-set generator (tests/eval/make_eval.sh, docs/EVAL.md);
# run by hand, not by make test.
eval-deps:
	apt-get install -y -q --no-install-recommends nmap hping3 dnsmasq-base iperf3 dnsutils dsniff \
		iputils-ping iproute2 tcpdump curl python3

# ---------------------------------------------------------------------------
# Card: device tree blob, generated definitions, Verilated model. Two
# configurations (docs/DATAPATH.md): 4 x 10G (fcap_top with its defaults,
# hw/dts/fcap_4x10g.dts, model Vfcap_top) and 1 x 100G (fcap_top_1x100g,
# hw/dts/fcap_1x100g.dts, model Vfcap_top_1x100g); both models link into the
# same binaries, and fcap_sim picks one when it creates a card.

DTS          := hw/dts/fcap_4x10g.dts
DT_ROM_WORDS := 1024
RTL          := $(sort $(wildcard hw/rtl/*.v))
RTL_INC      := $(wildcard hw/rtl/*.vh)

$(O)/hw/fcap.dtb: $(DTS)
	@mkdir -p $(@D)
	dtc -q -a 4 -I dts -O dtb -o $@ $<

$(O)/hw/fcap_dt_rom_init.vh: $(O)/hw/fcap.dtb hw/tools/dtb2vh.sh
	hw/tools/dtb2vh.sh $< $(DT_ROM_WORDS) > $@.tmp && mv $@.tmp $@

$(O)/hw/1x100g/fcap.dtb: hw/dts/fcap_1x100g.dts
	@mkdir -p $(@D)
	dtc -q -a 4 -I dts -O dtb -o $@ $<

$(O)/hw/1x100g/fcap_dt_rom_init.vh: $(O)/hw/1x100g/fcap.dtb hw/tools/dtb2vh.sh
	hw/tools/dtb2vh.sh $< $(DT_ROM_WORDS) > $@.tmp && mv $@.tmp $@

VMODEL := $(O)/verilator/Vfcap_top__ALL.a
VOBJS  := $(O)/verilator/verilated.o $(O)/verilator/verilated_threads.o

$(O)/verilator/Vfcap_top.mk: $(RTL) $(RTL_INC) $(O)/hw/fcap_dt_rom_init.vh
	verilator --cc -Wall --top-module fcap_top -Ihw/rtl -I$(O)/hw +define+FCAP_DT_EMBED \
		-GDT_BYTES=$$(stat -c %s $(O)/hw/fcap.dtb) --Mdir $(O)/verilator $(RTL)

# -O2 rather than Verilator's default -Os: several times faster here.
$(VMODEL) $(VOBJS) &: $(O)/verilator/Vfcap_top.mk
	$(MAKE) -s -C $(O)/verilator -f Vfcap_top.mk OPT_FAST=-O2 OPT_SLOW=-O2 OPT_GLOBAL=-O2 \
		Vfcap_top__ALL.a verilated.o verilated_threads.o

# The 1 x 100G card: its own class prefix, so that it links beside Vfcap_top
# (the Verilated runtime, VOBJS, is shared).
VMODEL_100G := $(O)/verilator-1x100g/Vfcap_top_1x100g__ALL.a

$(O)/verilator-1x100g/Vfcap_top_1x100g.mk: $(RTL) $(RTL_INC) $(O)/hw/1x100g/fcap_dt_rom_init.vh
	verilator --cc -Wall --prefix Vfcap_top_1x100g --top-module fcap_top_1x100g -Ihw/rtl -I$(O)/hw/1x100g \
		+define+FCAP_DT_EMBED -GDT_BYTES=$$(stat -c %s $(O)/hw/1x100g/fcap.dtb) \
		--Mdir $(O)/verilator-1x100g $(RTL)

$(VMODEL_100G): $(O)/verilator-1x100g/Vfcap_top_1x100g.mk
	$(MAKE) -s -C $(O)/verilator-1x100g -f Vfcap_top_1x100g.mk OPT_FAST=-O2 OPT_SLOW=-O2 OPT_GLOBAL=-O2 \
		Vfcap_top_1x100g__ALL.a

VMODELS := $(VMODEL) $(VMODEL_100G)

# The async FIFO alone, for its clock-crossing test.
AFIFO_MODEL := $(O)/verilator-afifo/Vfcap_async_fifo__ALL.a

$(O)/verilator-afifo/Vfcap_async_fifo.mk: hw/rtl/fcap_async_fifo.v hw/rtl/fcap_sync_bits.v
	verilator --cc -Wall --top-module fcap_async_fifo -GWIDTH=32 -GADDR_W=4 --Mdir $(O)/verilator-afifo $(filter %.v,$^)

$(AFIFO_MODEL): $(O)/verilator-afifo/Vfcap_async_fifo.mk
	$(MAKE) -s -C $(O)/verilator-afifo -f Vfcap_async_fifo.mk OPT_FAST=-O2 OPT_SLOW=-O2 OPT_GLOBAL=-O2 \
		Vfcap_async_fifo__ALL.a

$(O)/san/sim/afifo_model.o: sim/afifo_model.cpp $(O)/verilator-afifo/Vfcap_async_fifo.mk
	@mkdir -p $(@D)
	$(CXX) -std=c++17 $(WARN) -Wno-unused-parameter $(SAN) $(INC) -I$(O)/verilator-afifo \
		-I/usr/share/verilator/include -I/usr/share/verilator/include/vltstd -MMD -MP -c -o $@ $<

# The simulator-speed floor (bench/sim_floor): four async FIFOs between four
# MAC clocks and the core, driven as the card is; bench/sim_speed.sh runs it
# beside the card's model.
FLOOR_MODEL := $(O)/verilator-floor/Vfcap_floor__ALL.a

$(O)/verilator-floor/Vfcap_floor.mk: bench/sim_floor/fcap_floor.v hw/rtl/fcap_async_fifo.v hw/rtl/fcap_sync_bits.v
	verilator --cc -Wall --top-module fcap_floor --Mdir $(O)/verilator-floor $^

$(FLOOR_MODEL): $(O)/verilator-floor/Vfcap_floor.mk
	$(MAKE) -s -C $(O)/verilator-floor -f Vfcap_floor.mk OPT_FAST=-O2 OPT_SLOW=-O2 OPT_GLOBAL=-O2 \
		Vfcap_floor__ALL.a

$(O)/obj/bench/floor_main.o: bench/sim_floor/floor_main.cpp $(O)/verilator-floor/Vfcap_floor.mk
	@mkdir -p $(@D)
	$(CXX) -std=c++17 $(WARN) -Wno-unused-parameter $(OPT) -Isim -I$(O)/verilator-floor \
		-I/usr/share/verilator/include -I/usr/share/verilator/include/vltstd -MMD -MP -c -o $@ $<

$(O)/bin/bench_sim_floor: $(O)/obj/bench/floor_main.o $(O)/obj/sim/sim_clock.o $(FLOOR_MODEL) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(OPT) -o $@ $^ -lpthread

check-defs:
	@hw/tools/gen_defs.sh host/include/fcap/card.h | cmp -s - hw/rtl/fcap_defs.vh || \
		{ echo "hw/rtl/fcap_defs.vh is stale: run hw/tools/gen_defs.sh host/include/fcap/card.h > hw/rtl/fcap_defs.vh"; exit 1; }
	@echo "check-defs: hw/rtl/fcap_defs.vh matches host/include/fcap/card.h"

lint: $(O)/hw/fcap_dt_rom_init.vh $(O)/hw/1x100g/fcap_dt_rom_init.vh
	verilator --lint-only -Wall -Ihw/rtl hw/rtl/fcap_top.v
	verilator --lint-only -Wall -Ihw/rtl bench/sim_floor/fcap_floor.v hw/rtl/fcap_async_fifo.v hw/rtl/fcap_sync_bits.v
	verilator --lint-only -Wall -Ihw/rtl -I$(O)/hw +define+FCAP_DT_EMBED hw/rtl/fcap_top.v
	verilator --lint-only -Wall -Ihw/rtl hw/rtl/fcap_top_1x100g.v
	verilator --lint-only -Wall -Ihw/rtl -I$(O)/hw/1x100g +define+FCAP_DT_EMBED hw/rtl/fcap_top_1x100g.v
	@echo "lint: clean (4x10G and 1x100G)"

# Both configurations, one Yosys each, side by side (each is single-threaded).
# Both cards side by side, one Yosys each (hw/tools/synth.sh); $(1): the STAGE.
define synth_both
	@mkdir -p $(O)/synth
	@STAGE=$(1) O=$(O) TOP=fcap_top HWDIR=$(O)/hw hw/tools/synth.sh $(RTL) & p1=$$!; \
	STAGE=$(1) O=$(O) TOP=fcap_top_1x100g HWDIR=$(O)/hw/1x100g hw/tools/synth.sh $(RTL) & p2=$$!; \
	s=0; wait $$p1 || s=1; wait $$p2 || s=1; exit $$s
endef

synth: $(O)/hw/fcap_dt_rom_init.vh $(O)/hw/1x100g/fcap_dt_rom_init.vh
	$(call synth_both,full)

# The check `make test` runs: the coarse half of the same flow (hw/tools/synth.sh).
synth-check: $(O)/hw/fcap_dt_rom_init.vh $(O)/hw/1x100g/fcap_dt_rom_init.vh
	$(call synth_both,coarse)

# ---------------------------------------------------------------------------
# C and C++

HOST_SRCS := $(sort $(wildcard host/lib/*.c)) driver/fcap_dt.c
SIM_SRCS  := sim/sim_mac.c sim/sim_dma.c sim/sim_clock.c sim/sim_bus.c
CLI_SRCS  := $(sort $(wildcard host/cli/*.c))

obj = $(patsubst %.c,$(O)/$(1)/%.o,$(patsubst %.cpp,$(O)/$(1)/%.o,$(2)))

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(INC) -MMD -MP -c -o $@ $<

$(O)/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(SAN) $(INC) -MMD -MP -c -o $@ $<

$(O)/obj/sim/fcap_sim.o: sim/fcap_sim.cpp $(O)/verilator/Vfcap_top.mk $(O)/verilator-1x100g/Vfcap_top_1x100g.mk
	@mkdir -p $(@D)
	$(CXX) -std=c++17 $(WARN) -Wno-unused-parameter $(OPT) $(INC) $(VINC) -MMD -MP -c -o $@ $<

$(O)/san/sim/fcap_sim.o: sim/fcap_sim.cpp $(O)/verilator/Vfcap_top.mk $(O)/verilator-1x100g/Vfcap_top_1x100g.mk
	@mkdir -p $(@D)
	$(CXX) -std=c++17 $(WARN) -Wno-unused-parameter $(SAN) $(INC) $(VINC) -MMD -MP -c -o $@ $<

define variant
$(O)/$(1)/libfcap.a: $(call obj,$(1),$(HOST_SRCS))
	@rm -f $$@
	ar rcs $$@ $$^

$(O)/$(1)/libfcapsim.a: $(call obj,$(1),$(SIM_SRCS)) $(O)/$(1)/sim/fcap_sim.o
	@rm -f $$@
	ar rcs $$@ $$^

$(1)_LINK := $(O)/$(1)/libfcap.a $(O)/$(1)/libfcapsim.a $(VMODELS) $(VOBJS) $(LIBS)
endef
$(eval $(call variant,obj))
$(eval $(call variant,san))

$(O)/bin/fcap: $(call obj,obj,$(CLI_SRCS)) $(O)/obj/libfcap.a $(O)/obj/libfcapsim.a $(VMODELS) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(OPT) -o $@ $(call obj,obj,$(CLI_SRCS)) $(obj_LINK)

# The co-simulator beside a QEMU guest running fcap.ko (docs/COSIM.md). The test
# runs the sanitized one; the optimised one is for running by hand.
COSIM_SRCS := sim/fcap_cosim.c sim/cosim.c sim/cosim_ivshmem.c host/cli/args.c
$(O)/bin/fcap-cosim: $(call obj,obj,$(COSIM_SRCS)) $(O)/obj/libfcap.a $(O)/obj/libfcapsim.a $(VMODELS) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(OPT) -o $@ $(call obj,obj,$(COSIM_SRCS)) $(obj_LINK)

$(O)/bin/fcap-cosim-san: $(call obj,san,$(COSIM_SRCS)) $(O)/san/libfcap.a $(O)/san/libfcapsim.a $(VMODELS) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(SAN) -o $@ $(call obj,san,$(COSIM_SRCS)) $(san_LINK)

$(O)/bin/fcap-san: $(call obj,san,$(CLI_SRCS)) $(O)/san/libfcap.a $(O)/san/libfcapsim.a $(VMODELS) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(SAN) -o $@ $(call obj,san,$(CLI_SRCS)) $(san_LINK)

# Tests link the sanitized build. CUnit suites: one binary per file.
$(O)/tests/test_block: $(O)/san/tests/unit/test_block.o $(O)/san/libfcap.a $(O)/san/libfcapsim.a $(VMODELS) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(SAN) -o $@ $< $(san_LINK) -lcunit

$(addprefix $(O)/tests/,$(UNIT_TESTS)): $(O)/tests/%: $(O)/san/tests/unit/%.o $(O)/san/libfcap.a $(O)/san/libfcapsim.a $(VMODELS) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(SAN) -o $@ $< $(san_LINK) -lcunit

# The benchmarks link the optimised library: they measure what fcap runs.
$(O)/bin/bench_scorer $(O)/bin/bench_capture $(O)/bin/bench_recorder $(O)/bin/bench_fleet: $(O)/bin/%: $(O)/obj/bench/%.o $(O)/obj/libfcap.a \
		$(O)/obj/libfcapsim.a $(VMODELS) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(OPT) -o $@ $< $(obj_LINK)

$(O)/tests/test_card: $(O)/san/tests/sim/test_card.o $(O)/san/tests/sim/harness.o $(O)/san/libfcap.a \
		$(O)/san/libfcapsim.a $(VMODELS) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(SAN) -o $@ $< $(O)/san/tests/sim/harness.o $(san_LINK) -lcunit

$(O)/tests/test_scoreboard: $(O)/san/tests/sim/test_scoreboard.o $(O)/san/tests/sim/harness.o $(O)/san/libfcap.a \
		$(O)/san/libfcapsim.a $(VMODELS) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(SAN) -o $@ $< $(O)/san/tests/sim/harness.o $(san_LINK) -lcunit

$(O)/tests/test_async_fifo: $(O)/san/tests/sim/test_async_fifo.o $(O)/san/sim/afifo_model.o \
		$(O)/san/sim/sim_clock.o $(AFIFO_MODEL) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(SAN) -o $@ $^ -lpthread -lcunit

# The same unit tests without sanitizers, for valgrind (make test-valgrind).
VG_TESTS := test_block $(UNIT_TESTS)
$(addprefix $(O)/tests-vg/,$(VG_TESTS)): $(O)/tests-vg/%: $(O)/obj/tests/unit/%.o $(O)/obj/libfcap.a \
		$(O)/obj/libfcapsim.a $(VMODEL) $(VOBJS)
	@mkdir -p $(@D)
	$(CXX) $(OPT) -o $@ $< $(obj_LINK) -lcunit

# The driver's checks of untrusted input, run in user space (driver/fcap_dt.c, fcap_check.c).
DRV_PORTABLE := driver/fcap_dt.c driver/fcap_check.c
$(O)/tests/test_driver: $(O)/san/tests/unit/test_driver.o $(call obj,san,$(DRV_PORTABLE)) $(O)/san/libfcap.a
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $(O)/san/tests/unit/test_driver.o $(call obj,san,$(DRV_PORTABLE)) $(O)/san/libfcap.a \
		-lfdt -lcunit

$(O)/tests-vg/test_driver: $(O)/obj/tests/unit/test_driver.o $(call obj,obj,$(DRV_PORTABLE)) $(O)/obj/libfcap.a
	@mkdir -p $(@D)
	$(CC) $(OPT) -o $@ $^ -lfdt -lcunit

-include $(shell find $(O)/obj $(O)/san -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# Kernel driver: kbuild out of tree in $(O)/driver (links to the sources, so
# that driver/ stays clean), against the Debian kernel that also boots in the
# QEMU test (tools/kver.sh).

KVER     ?= $(shell tools/kver.sh)
KDIR     ?= /lib/modules/$(KVER)/build
KO       := $(O)/driver/fcap.ko
DRV_SRCS := $(wildcard driver/*.c driver/*.h) driver/Kbuild host/include/fcap/card.h host/include/fcap/uapi.h

define kbuild
	@test -n "$(KVER)" -a -e "$(KDIR)/Makefile" || \
		{ echo "make driver: no Debian kernel headers + image found: run make deps"; exit 1; }
	@mkdir -p $(O)/driver
	@for f in driver/*.c driver/*.h driver/Kbuild; do ln -sf $(abspath .)/$$f $(O)/driver/; done
	@ln -sfn $(abspath host/include) $(O)/driver/include
	@echo "kbuild $(1) for $(KVER)"
	@env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C $(KDIR) M=$(abspath $(O)/driver) $(1) \
		> $(O)/driver/$(2).log 2>&1; rc=$$?; cat $(O)/driver/$(2).log; \
	if [ $$rc -ne 0 ] || grep -qE 'warning:|error:' $(O)/driver/$(2).log; then \
		rm -f $(KO); echo "$(2): the driver is not clean (above)"; exit 1; fi
endef

$(KO): $(DRV_SRCS)
	$(call kbuild,W=1 modules,kbuild)
	@echo "driver: $(KO) built for $(KVER) with W=1, no warning"

driver: $(KO)

# checkpatch.pl is not packaged by Debian except inside linux-source-*.
CHECKPATCH_SRC := $(lastword $(sort $(wildcard /usr/src/linux-source-*.tar.xz)))

driver-check: $(KO)
	$(call kbuild,C=2 CHECK=sparse W=1 modules,sparse)
	@echo "driver-check: sparse (C=2) found nothing"
	@if [ -n "$(CHECKPATCH_SRC)" ]; then \
		tools/checkpatch.sh $(CHECKPATCH_SRC) $(O)/checkpatch driver/*.c driver/*.h host/include/fcap/uapi.h; \
	else \
		echo "driver-check: checkpatch SKIPPED: it ships only in Debian's linux-source-6.1 (not installed)"; \
	fi

# The stand-in cards, then the co-simulation: the driver moving real packets
# from the Verilated card beside QEMU (docs/COSIM.md).
test-driver: $(KO) $(O)/bin/fcap $(O)/hw/fcap.dtb $(O)/bin/fcap-cosim-san
	tests/driver/test_qemu.sh $(KO) $(O)/bin/fcap $(O)/hw/fcap.dtb $(O)/test-driver
	tests/driver/test_cosim.sh $(KO) $(O)/bin/fcap $(O)/bin/fcap-cosim-san $(O)/test-cosim

# ---------------------------------------------------------------------------
# Fuzzing: libFuzzer targets (clang, ASan + UBSan) over every reader of
# untrusted bytes; tests/fuzz/ and docs/HARDENING.md. The library is rebuilt
# with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (fcap/checksum.h).

FUZZ_TARGETS := pcap_reader replay block segment index model dt journal json spool
FUZZ_SECONDS ?= 600
FUZZ_CFLAGS  := $(CSTD) $(WARN) -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $(INC) -Idriver
FUZZ_LIB_SRCS := $(sort $(HOST_SRCS) sim/sim_mac.c)
FUZZ_BINS    := $(addprefix $(O)/fuzz/bin/fuzz_,$(FUZZ_TARGETS))

$(O)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/fuzz/libfcap.a: $(call obj,fuzz/obj,$(FUZZ_LIB_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BINS): $(O)/fuzz/bin/fuzz_%: $(O)/fuzz/obj/tests/fuzz/fuzz_%.o $(O)/fuzz/libfcap.a
	@mkdir -p $(@D)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

$(O)/fuzz/seeds/.done: $(O)/bin/fcap $(O)/hw/fcap.dtb tests/fuzz/seeds.sh
	tests/fuzz/seeds.sh $(O)/bin/fcap $(O)/hw/fcap.dtb $(O)/fuzz/seeds
	@touch $@

fuzz-build: $(FUZZ_BINS)

# make fuzz [FUZZ_SECONDS=600] [FUZZ_TARGETS="model dt"]: the campaign.
fuzz: deps
	$(MAKE) fuzz-build $(O)/fuzz/seeds/.done
	tests/fuzz/run.sh $(O)/fuzz/bin $(O)/fuzz/seeds $(O)/fuzz/work $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The short run make test does: regressions, then a few seconds a target.
fuzz-smoke: $(FUZZ_BINS) $(O)/fuzz/seeds/.done
	rm -rf $(O)/fuzz/smoke
	tests/fuzz/run.sh $(O)/fuzz/bin $(O)/fuzz/seeds $(O)/fuzz/smoke 5 $(FUZZ_TARGETS)

-include $(shell find $(O)/fuzz/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# Installing: the binary, the man pages, the systemd unit and its user.
#   make install [PREFIX=/usr/local] [DESTDIR=staging]

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MANPAGES    := $(sort $(wildcard man/*.1))

install: $(O)/bin/fcap
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(O)/bin/fcap $(DESTDIR)$(BINDIR)/fcap
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man1/
	sed 's|@BINDIR@|$(BINDIR)|g' dist/systemd/fcap@.service.in > $(DESTDIR)$(UNITDIR)/fcap@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/fcap@.service
	install -m 0644 dist/systemd/fcap.sysusers $(DESTDIR)$(SYSUSERSDIR)/fcap.conf

# ---------------------------------------------------------------------------
# Running

demo: deps
	$(MAKE) -j$(JOBS) all
	tests/tools/demo.sh $(O)/bin/fcap $(O)/demo

test-unit: $(O)/tests/test_block $(O)/tests/test_driver $(addprefix $(O)/tests/,$(UNIT_TESTS)) \
		$(O)/hw/1x100g/fcap.dtb
	$(O)/tests/test_block $(O)/hw/fcap.dtb
	$(O)/tests/test_driver $(O)/hw/fcap.dtb $(O)/hw/1x100g/fcap.dtb
	$(O)/tests/test_pcap_reader $(O)/test-unit
	$(O)/tests/test_features
	$(O)/tests/test_model $(O)/test-unit
	$(O)/tests/test_store $(O)/test-unit/store
	$(O)/tests/test_ops $(DATA)/http_espn.pcapng $(DATA)/amp.UDP.isakmp.pcap $(DATA)/pkt.TCP.synflood.spoofed.pcap
	$(O)/tests/test_alerts $(O)/test-unit/alerts

# Every unit test under valgrind memcheck: any error or leak fails it.
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
test-valgrind: $(addprefix $(O)/tests-vg/,$(VG_TESTS) test_driver) $(O)/hw/fcap.dtb
	$(VALGRIND) $(O)/tests-vg/test_block $(O)/hw/fcap.dtb
	$(VALGRIND) $(O)/tests-vg/test_driver $(O)/hw/fcap.dtb
	$(VALGRIND) $(O)/tests-vg/test_pcap_reader $(O)/test-vg
	$(VALGRIND) $(O)/tests-vg/test_features
	$(VALGRIND) $(O)/tests-vg/test_model $(O)/test-vg
	$(VALGRIND) $(O)/tests-vg/test_store $(O)/test-vg/store
	$(VALGRIND) $(O)/tests-vg/test_ops $(DATA)/http_espn.pcapng $(DATA)/amp.UDP.isakmp.pcap
	$(VALGRIND) $(O)/tests-vg/test_alerts $(O)/test-vg/alerts

# The malformed-input table (tests/malformed/cases.txt).
test-malformed: $(O)/bin/fcap-san
	tests/malformed/run.sh $(O)/bin/fcap-san $(O)/test-malformed

test-score: $(O)/bin/fcap-san
	tests/tools/test_score.sh $(O)/bin/fcap-san $(O)/test-score

# Alerts: EVE evidence, extraction by alert, the verdict journal under kill -9,
# feedback retraining, the HTML report in headless Chromium (docs/ALERTS.md).
test-alerts: $(O)/bin/fcap-san
	tests/tools/test_alerts.sh $(O)/bin/fcap-san $(O)/test-alerts

# Each card: the end-to-end tests, then a reduced randomised scoreboard run
# (the 100G card's one port gets as many frames as the four 10G ports together).
test-sim: $(O)/tests/test_card $(O)/tests/test_async_fifo $(O)/tests/test_scoreboard
	$(O)/tests/test_async_fifo
	$(O)/tests/test_card 4x10g
	$(O)/tests/test_card 1x100g
	$(O)/tests/test_scoreboard --card 4x10g 300
	$(O)/tests/test_scoreboard --card 1x100g 1200

test-tools: $(O)/bin/fcap-san
	tests/tools/test_capture.sh $(O)/bin/fcap-san $(O)/test-tools
	tests/tools/test_cli.sh $(O)/bin/fcap-san $(O)/test-cli
	@# make demo's script, with the sanitized binary: every step must work
	@tests/tools/demo.sh $(O)/bin/fcap-san $(O)/test-demo > $(O)/test-demo.log 2>&1 && \
		test -s $(O)/test-demo/alert.pcapng && test -s $(O)/test-demo/report.html && \
		grep -q ' 1 suppressed by verdicts' $(O)/test-demo.log && \
		echo "test-tools: make demo's steps all ran (build/test-demo.log)" || \
		{ cat $(O)/test-demo.log; echo "test-tools: make demo's script failed"; exit 1; }

# Live capture through libpcap in network namespaces the test makes (veth
# pair), judged by tcpdump; -Z, the filter stage, metrics through promtool.
test-live: $(O)/bin/fcap-san
	tests/tools/test_live.sh $(O)/bin/fcap-san $(O)/test-live

# Operating it: make install into a prefix, man --warnings on every page,
# systemd-analyze verify on the unit, the sd_notify datagrams.
test-ops: $(O)/bin/fcap $(O)/bin/fcap-san
	rm -rf $(O)/test-ops
	$(MAKE) -s install PREFIX=$(abspath $(O))/test-ops/prefix
	$(MAKE) -s install PREFIX=/usr/local DESTDIR=$(abspath $(O))/test-ops/staging
	tests/tools/test_ops.sh $(O)/bin/fcap-san $(O)/test-ops

# The store: recorder, extraction, kill -9 recovery, a full disk (tmpfs), retention.
test-store: $(O)/bin/fcap-san
	tests/tools/test_store.sh $(O)/bin/fcap-san $(O)/test-store

# IPFIX export collected by nfcapd in a network namespace, read back by nfdump.
test-ipfix: $(O)/bin/fcap-san
	tests/tools/test_ipfix.sh $(O)/bin/fcap-san $(O)/test-ipfix

# The fleet's streams on a 3-node NATS JetStream cluster in a network namespace.
test-fleet: $(O)/bin/fcap-san
	tests/tools/test_fleet.sh $(O)/bin/fcap-san $(O)/test-fleet

# The steps of `make test`, in order, each timed (tools/step.sh). -j$(JOBS)
# builds a step's prerequisites in parallel; a step's own recipe runs as
# written, one command after another.
TEST_STEPS := check-defs test-unit test-sim test-tools test-live test-ops \
	test-store test-ipfix test-fleet test-score test-alerts test-malformed \
	fuzz-smoke lint synth-check driver driver-check test-driver

test: deps
	@rm -f $(O)/test-steps.txt; mkdir -p $(O)
	@for step in all $(TEST_STEPS); do \
		tools/step.sh $(O)/test-steps.txt $$step $(MAKE) -j$(JOBS) $$step || \
			{ echo "make test: $$step failed; time by step"; tools/step.sh $(O)/test-steps.txt; exit 1; }; \
	done
	@echo "make test: time by step"; tools/step.sh $(O)/test-steps.txt
	@echo "make test: all tests passed"

bench: deps all
	@mkdir -p $(O)/bench
	$(O)/bin/bench_capture $(O)/bench
	bench/sim_speed.sh $(O)/bin/bench_capture $(O)/bin/bench_sim_floor $(O)/bench
	$(O)/tests/test_scoreboard --card 4x10g 2000 2
	$(O)/tests/test_scoreboard --card 1x100g 8000 2
	bench/sim_capture.sh $(O)/bin/fcap $(O)/bench
	$(O)/bin/bench_scorer $(O)/bench
	bench/recorder.sh $(O)/bin/bench_recorder $(O)/bin/fcap $(O)/bench
	bench/fleet.sh $(O)/bin/bench_fleet $(O)/bin/fcap $(O)/bench

clean:
	rm -rf $(O)
