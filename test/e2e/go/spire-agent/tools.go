// Package spireagent pins the stock spire-agent (SPIRE v1.15.3) that
// test/e2e/spire-agent.test.ts builds with `go build github.com/spiffe/spire/cmd/spire-agent`
// and runs against signet-server. Nothing here ships.
package spireagent

import _ "github.com/spiffe/spire/cmd/spire-agent/cli"
