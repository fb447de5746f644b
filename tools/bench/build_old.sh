#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bpf/xlb.bpf.o as of an earlier commit, built from that commit's bpf/ and
# include/ alone in a directory of its own, for the paired rows of xlb-bench:
#   tools/bench/build_old.sh 2636e7f /tmp/xlb-old
#   XLB_BENCH_OLD=/tmp/xlb-old/xlb.bpf.o XLB_BENCH_OLD_NAME=2636e7f build/tools/xlb-bench
# The other build runs on this build's maps (tools/bench/other_build.c), so
# only commits whose map layouts this build still reads can be compared.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 COMMIT OUTDIR" >&2; exit 2; }
rev=$1 out=$2
CLANG=${CLANG:-clang}
arch=$(uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
multi=$(${CC:-gcc} -print-multiarch 2>/dev/null || true)
rm -rf "$out/src"
mkdir -p "$out/src"
git archive "$rev" bpf include | tar -x -C "$out/src"
"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -Wall -Wextra -Werror \
	-I"$out/src/include" -I"$out/src/bpf" -I/usr/include/"$multi" \
	-c "$out/src/bpf/xlb.bpf.c" -o "$out/xlb.bpf.o"
${LLVM_STRIP:-llvm-strip} -g "$out/xlb.bpf.o"
echo "$out/xlb.bpf.o ($(git rev-parse --short "$rev"))"
