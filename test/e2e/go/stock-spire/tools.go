// Package stockspire pins the stock SPIRE commands (SPIRE v1.15.3) that the interop tests build
// with `go build github.com/spiffe/spire/cmd/spire-agent` (test/e2e/spire-agent.test.ts, against
// signet-server) and `go build github.com/spiffe/spire/cmd/spire-server`
// (test/e2e/spire-server.test.ts, with signet-agent). One module, so both share one dependency
// graph and Go's build cache. Nothing here ships.
package stockspire

import (
	_ "github.com/spiffe/spire/cmd/spire-agent/cli"
	_ "github.com/spiffe/spire/cmd/spire-server/cli"
)
