package peer

import (
	"bufio"
	"encoding/json"
	"strings"

	"github.com/libopenstorage/openstorage/pkg/auth"
)

// DurationResult is one line of `pxtoken-peer duration` output.
//
// Nanos is the time.Duration openstorage's ParseToDuration returned, as Go
// computed it: the multiplication is int64 and wraps silently on overflow, so
// a huge input can come back negative or small. Seconds is Nanos/1e9
// truncated toward zero. Error is openstorage's own message.
type DurationResult struct {
	Input   string `json:"input"`
	OK      bool   `json:"ok"`
	Seconds *int64 `json:"seconds,omitempty"`
	Nanos   *int64 `json:"nanos,omitempty"`
	Error   string `json:"error,omitempty"`
}

// ParseDuration runs openstorage's auth.ParseToDuration on s.
func ParseDuration(s string) DurationResult {
	d, err := auth.ParseToDuration(s)
	if err != nil {
		return DurationResult{Input: s, OK: false, Error: err.Error()}
	}
	nanos := int64(d)
	secs := nanos / 1e9
	return DurationResult{Input: s, OK: true, Seconds: &secs, Nanos: &nanos}
}

// runDuration takes its inputs verbatim: there are no flags, so inputs such
// as "-1d" reach openstorage untouched. "-" reads one input per line from
// stdin (the "\n" terminator is removed, nothing else); "--" makes every later
// argument, including "-", a literal input.
func runDuration(args []string, stdio IO) error {
	if len(args) == 0 {
		return usagef("duration: give strings to parse, or - to read one per line from stdin")
	}
	enc := json.NewEncoder(stdio.Stdout)
	enc.SetEscapeHTML(false)
	literal := false
	for _, a := range args {
		if !literal && a == "--" {
			literal = true
			continue
		}
		if !literal && a == "-" {
			r := bufio.NewReader(stdio.Stdin)
			for {
				line, err := r.ReadString('\n')
				if len(line) > 0 {
					if err := enc.Encode(ParseDuration(strings.TrimSuffix(line, "\n"))); err != nil {
						return err
					}
				}
				if err != nil {
					break
				}
			}
			continue
		}
		if err := enc.Encode(ParseDuration(a)); err != nil {
			return err
		}
	}
	return nil
}
