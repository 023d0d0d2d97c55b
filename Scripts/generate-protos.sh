#!/usr/bin/env bash
# Regenerates the Swift code for Proto/**/*.proto into Sources/MineralWire/Generated.
#
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from the same
# swift-protobuf version Package.swift names. Building the plugin takes minutes, which is why
# the generated code is committed and CI never runs this script.
#
#   Scripts/generate-protos.sh                    # builds the plugin into .build-protoc if missing
#   PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift Scripts/generate-protos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.39.0
plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
  work=.build-protoc
  if [ ! -x "$work/src/.build/release/protoc-gen-swift" ]; then
    rm -rf "$work" && mkdir -p "$work"
    git clone --quiet --branch "$version" https://github.com/apple/swift-protobuf.git "$work/src"
    (cd "$work/src" && swift build -c release --product protoc-gen-swift)
  fi
  plugin=$work/src/.build/release/protoc-gen-swift
fi
command -v protoc >/dev/null || { echo "protoc is missing: apt-get install -y protobuf-compiler" >&2; exit 1; }
out=Sources/MineralWire/Generated
rm -rf "$out" && mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" \
  --proto_path=Proto \
  --swift_opt=Visibility=Public \
  --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$out" \
  $(cd Proto && find . -name '*.proto' | sort | sed 's|^\./||')
echo "generated: $(ls "$out")"
