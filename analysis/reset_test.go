package analysis

import (
	"reflect"
	"testing"
)

// TestResetAllButNote: resetAllButNote leaves a Result with every field set
// (by reflection, so a field added later is covered) equal to
// Result{Frame, Stream}, and a set Note cleared too.
func TestResetAllButNote(t *testing.T) {
	var r Result
	v := reflect.ValueOf(&r).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(7)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(7)
		case reflect.Struct:
			if v.Type().Field(i).Name != "Note" {
				t.Fatalf("Result.%s: a struct field this test does not fill", v.Type().Field(i).Name)
			}
		default:
			t.Fatalf("Result.%s: a %s field this test does not fill", v.Type().Field(i).Name, f.Kind())
		}
	}
	r.Note = Note{set: true, frame: 3, who: "client"}
	r.resetAllButNote(5, 6)
	if want := (Result{Frame: 5, Stream: 6}); r != want {
		t.Errorf("after resetAllButNote: %+v, want %+v", r, want)
	}
}
