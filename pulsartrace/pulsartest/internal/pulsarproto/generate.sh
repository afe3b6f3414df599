#!/bin/sh
# Regenerates pulsarapi.pb.go from the PulsarApi.proto shipped in the
# pulsar-client-go module that go.mod requires.
#
# The proto package and the registered file path are renamed: the client
# registers "PulsarApi.proto" in package "pulsar.proto" itself, and a second
# registration under the same names panics at program start.
#
# Needs protoc (Debian: protobuf-compiler) and the protoc-gen-go tool
# dependency of the module. Run from any directory.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

moddir=$(go list -m -f '{{.Dir}}' github.com/apache/pulsar-client-go)
src="$moddir/pulsar/internal/pulsar_proto/PulsarApi.proto"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

mkdir -p "$work/pulsartest"
sed -e 's/^package pulsar\.proto;/package pulsartest.pulsarproto;/' \
    -e 's#^option go_package = .*#option go_package = "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto";#' \
    "$src" >"$work/pulsartest/pulsarapi.proto"

# protoc-gen-go is run through "go tool" so the generator always matches
# the protobuf runtime pinned in go.mod.
cat >"$work/protoc-gen-go" <<WRAP
#!/bin/sh
cd "$here" && exec go tool protoc-gen-go "\$@"
WRAP
chmod +x "$work/protoc-gen-go"

protoc --plugin=protoc-gen-go="$work/protoc-gen-go" \
    --proto_path="$work" \
    --go_out="$work" --go_opt=paths=source_relative \
    pulsartest/pulsarapi.proto

cp "$work/pulsartest/pulsarapi.pb.go" "$here/pulsarapi.pb.go"
# The generator and the toolchain may disagree on alignment details.
gofmt -w "$here/pulsarapi.pb.go"
