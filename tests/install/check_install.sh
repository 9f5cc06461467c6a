#!/usr/bin/env bash
# Install zarrlib from a build tree into a fresh prefix, then build the C example from README.md
# outside the source tree twice, as a user would: with pkg-config, and with find_package(zarrlib)
# from a CMake project. Each build must run and exit 0.
#
# usage: check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

prefix="$work/prefix"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null

# The README's first ```c block is the example users copy.
awk '/^```c$/ {inside=1; next} /^```$/ && inside {exit} inside {print}' "$source_dir/README.md" > "$work/example.c"
if [ ! -s "$work/example.c" ]; then
  echo "README.md has no \`\`\`c example block" >&2
  exit 1
fi

pc_file=$(find "$prefix" -name zarrlib.pc | head -n 1)
libdir=$(dirname "$(find "$prefix" -name 'libzarrlib.so' | head -n 1)")
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc_file")

echo "== pkg-config build"
# shellcheck disable=SC2046  # pkg-config output must split into words
cc -std=c11 -Wall -Wextra -Werror -o "$work/example" "$work/example.c" $(pkg-config --cflags --libs zarrlib)
(cd "$work" && LD_LIBRARY_PATH="$libdir" ./example)

echo "== CMake find_package build"
mkdir -p "$work/consumer"
cp "$work/example.c" "$work/consumer/"
cat > "$work/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.22)
project(consumer C)
find_package(zarrlib 0.1 REQUIRED)
add_executable(example example.c)
target_link_libraries(example PRIVATE zarrlib::zarrlib)
CMAKE
cmake -S "$work/consumer" -B "$work/consumer/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer/build" >/dev/null
# CMake sets the build tree RPATH to the imported library's directory, so no LD_LIBRARY_PATH.
(cd "$work" && ./consumer/build/example)
echo "installed library, header, pkg-config file and CMake package all work"
