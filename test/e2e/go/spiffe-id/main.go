// spiffe-id reads JSON strings, one per line, and answers for each one with
// what go-spiffe's parsers say: the differential oracle for @signet/spiffe's
// SpiffeId and TrustDomain (test/e2e/spiffe-id-differential.test.ts).
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

type verdict struct {
	ID      *result `json:"id"`
	TD      *result `json:"td"`
}

type result struct {
	OK     bool   `json:"ok"`
	TD     string `json:"td,omitempty"`
	Path   string `json:"path,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var s string
		if err := json.Unmarshal(in.Bytes(), &s); err != nil {
			panic(err)
		}
		v := verdict{ID: &result{}, TD: &result{}}
		if id, err := spiffeid.FromString(s); err != nil {
			v.ID.Reason = reason(err)
		} else {
			v.ID = &result{OK: true, TD: id.TrustDomain().Name(), Path: id.Path()}
		}
		if td, err := spiffeid.TrustDomainFromString(s); err != nil {
			v.TD.Reason = reason(err)
		} else {
			v.TD = &result{OK: true, TD: td.Name()}
		}
		if err := out.Encode(v); err != nil {
			panic(err)
		}
	}
}

// reason drops any wrapping so only go-spiffe's rule text is compared.
func reason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
