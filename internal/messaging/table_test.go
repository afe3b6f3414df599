package messaging

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/semconv.md")

// TestSemconvTable checks that docs/semconv.md is the table the core
// describes; -update rewrites it.
func TestSemconvTable(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "semconv.md")
	want := SemconvTable()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/messaging -run TestSemconvTable -update)", err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: run go test ./internal/messaging -run TestSemconvTable -update", path)
	}
}

// TestTableKeysAreTheCoreKeys ties the table to the attributes the core
// builds, so that renaming one there fails here.
func TestTableKeysAreTheCoreKeys(t *testing.T) {
	listed := map[string]bool{}
	for _, r := range attrRows() {
		listed[string(r.key)] = true
	}
	d := newDestination(&Instrumenter{common: commonAttributes("pulsar", "h", 1)},
		Target{Name: "n", Subscription: "s", ConsumerGroup: "g", Partition: "1", ClientID: "c"})
	var keys []string
	for _, kv := range d.processAttrs {
		keys = append(keys, string(kv.Key))
	}
	for _, kv := range clientAttributes(d.key) {
		keys = append(keys, string(kv.Key))
	}
	keys = append(keys, string(messageIDAttribute("x").Key), string(bodySizeAttribute(1).Key),
		string(batchCountAttribute(2).Key), string(waitAttribute(1).Key), string(errorTypeAttribute(os.ErrClosed).Key))
	for s := range settlementCount {
		keys = append(keys, string(DefaultVocabulary.attributes()[s].Key), string(PulsarVocabulary.attributes()[s].Key))
	}
	for _, k := range keys {
		if !listed[k] {
			t.Errorf("the core records %s, which docs/semconv.md does not list", k)
		}
	}
}
