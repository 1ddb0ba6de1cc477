package peer

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

type durCase struct {
	in    string
	ok    bool
	nanos int64
	err   string // substring of openstorage's message when !ok
}

func durationCases() []durCase {
	const s = int64(1e9)
	return []durCase{
		{in: "1s", ok: true, nanos: s},
		{in: "90m", ok: true, nanos: 90 * 60 * s},
		{in: "12h", ok: true, nanos: 12 * 3600 * s},
		{in: "1d", ok: true, nanos: 86400 * s},
		{in: "1y", ok: true, nanos: 365 * 86400 * s},
		{in: "01d", ok: true, nanos: 86400 * s},
		{in: "0d", ok: true, nanos: 0},
		{in: "292y", ok: true, nanos: 292 * 365 * 86400 * s},
		// Go's int64 multiplication wraps: these parse "successfully".
		{in: "293y", ok: true, nanos: wrapMul(293, 365*86400*s)},
		{in: "9223372036854775807s", ok: true, nanos: wrapMul(math.MaxInt64, s)},
		// strconv.Atoi refuses a number that does not fit int64.
		{in: "9223372036854775808s", ok: false, err: "value out of range"},
		{in: "", ok: false, err: "Unable to parse"},
		{in: "123", ok: false, err: "Unable to parse"},
		{in: "1h30m", ok: false, err: "Unable to parse"},
		{in: "1w", ok: false, err: "Unable to parse"},
		{in: "1Y", ok: false, err: "Unable to parse"},
		{in: "1D", ok: false, err: "Unable to parse"},
		{in: "-1d", ok: false, err: "Unable to parse"},
		{in: "+1d", ok: false, err: "Unable to parse"},
		{in: " 1d", ok: false, err: "Unable to parse"},
		{in: "1d ", ok: false, err: "Unable to parse"},
		{in: "1.5d", ok: false, err: "Unable to parse"},
		{in: "d", ok: false, err: "Unable to parse"},
		{in: "١d", ok: false, err: "Unable to parse"}, // Arabic-Indic digit: [0-9] only
	}
}

// wrapMul multiplies as Go's time.Duration arithmetic does (wrapping int64).
func wrapMul(a, b int64) int64 { return a * b }

func TestParseDuration(t *testing.T) {
	for _, c := range durationCases() {
		got := ParseDuration(c.in)
		if got.Input != c.in || got.OK != c.ok {
			t.Errorf("%q: got %+v, want ok=%v", c.in, got, c.ok)
			continue
		}
		if c.ok {
			if got.Nanos == nil || *got.Nanos != c.nanos || got.Seconds == nil || *got.Seconds != c.nanos/1e9 {
				t.Errorf("%q: got nanos=%v seconds=%v, want %d", c.in, got.Nanos, got.Seconds, c.nanos)
			}
		} else if !strings.Contains(got.Error, c.err) {
			t.Errorf("%q: error %q does not contain %q", c.in, got.Error, c.err)
		}
	}
}

// TestDurationCLI feeds the same cases through argv and through stdin ("-")
// on the real binary and in-process, and checks the JSON-lines contract.
func TestDurationCLI(t *testing.T) {
	cases := durationCases()
	var args []string
	var stdin strings.Builder
	for _, c := range cases {
		args = append(args, c.in)
		stdin.WriteString(c.in + "\n")
	}
	for _, r := range runners() {
		for _, mode := range []string{"argv", "stdin"} {
			t.Run(r.name+"/"+mode, func(t *testing.T) {
				var res result
				if mode == "argv" {
					res = r.run(t, "", append([]string{"duration", "--"}, args...)...)
				} else {
					res = r.run(t, stdin.String(), "duration", "-")
				}
				if res.code != 0 {
					t.Fatalf("want exit 0, got %s", res)
				}
				lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
				if len(lines) != len(cases) {
					t.Fatalf("want %d lines, got %d: %q", len(cases), len(lines), res.stdout)
				}
				for i, c := range cases {
					var got map[string]json.RawMessage
					if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
						t.Fatalf("line %d: %v: %s", i, err, lines[i])
					}
					var in string
					_ = json.Unmarshal(got["input"], &in)
					if in != c.in {
						t.Errorf("line %d: input %q, want %q", i, in, c.in)
					}
					if string(got["ok"]) != map[bool]string{true: "true", false: "false"}[c.ok] {
						t.Errorf("%q: ok=%s", c.in, got["ok"])
					}
					if c.ok {
						// nanos must be a plain JSON integer, exact to the last digit.
						if string(got["nanos"]) != jsonInt(c.nanos) || string(got["seconds"]) != jsonInt(c.nanos/1e9) {
							t.Errorf("%q: nanos=%s seconds=%s, want %d", c.in, got["nanos"], got["seconds"], c.nanos)
						}
						if _, has := got["error"]; has {
							t.Errorf("%q: error present on success", c.in)
						}
					} else if _, has := got["nanos"]; has {
						t.Errorf("%q: nanos present on failure", c.in)
					}
				}
			})
		}
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestDurationNoArgsIsUsageError(t *testing.T) {
	if res := inProcess(t, "", "duration"); res.code != 2 {
		t.Fatalf("want exit 2, got %s", res)
	}
}
