package analysis

import (
	"encoding/json"
	"testing"
)

// TestAppendJSONNames: the allocation-free writers list exactly what Names
// lists, as JSON strings, for every set of flags and events.
func TestAppendJSONNames(t *testing.T) {
	inner := func(names []string) string {
		b, err := json.Marshal(names)
		if err != nil {
			t.Fatal(err)
		}
		return string(b[1 : len(b)-1])
	}
	for f := Flags(0); f < 1<<flagCount; f++ {
		// After other text, as in a line: only names are separated.
		if got, want := string(f.AppendJSON([]byte(`"analysis":[`))), `"analysis":[`+inner(f.Names()); got != want {
			t.Fatalf("Flags(%#x).AppendJSON = %s, Names gives %s", uint16(f), got, want)
		}
	}
	if FlagName(flagCount) != "" || FlagName(-1) != "" || FlagName(flagCount-1) != "reused_ports" {
		t.Error("FlagName's bounds")
	}
	for c := ConnEvents(0); c < 16; c++ {
		if got, want := string(c.AppendJSON([]byte(`"conn":[`))), `"conn":[`+inner(c.Names()); got != want {
			t.Fatalf("ConnEvents(%#x).AppendJSON = %s, Names gives %s", uint8(c), got, want)
		}
	}
}
