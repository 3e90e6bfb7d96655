/**
 * The stock SPIRE v1.15.3 commands (test/e2e/go/stock-spire), built together: one `go build` of
 * spire-agent and spire-server, so every test file that needs either waits for the same build
 * (goBuild lets one test file build and the others link its binaries) instead of several cold
 * builds taking turns.
 */
import { join } from "node:path";
import { goBuild, goBuildDir } from "./go-toolchain.js";

/**
 * A cold Go build cache compiles all of SPIRE's agent and server: about ten minutes for the agent
 * alone on two idle cores, far more on a busy machine. Generous, so a cold CI run does not time out.
 */
export const stockSpireColdBuildMs = 40 * 60_000;

export interface StockSpire {
  readonly spireAgent: string;
  readonly spireServer: string;
}

export async function buildStockSpire(): Promise<StockSpire> {
  await goBuild("stock-spire", ["github.com/spiffe/spire/cmd/spire-agent", "github.com/spiffe/spire/cmd/spire-server"], stockSpireColdBuildMs);
  return { spireAgent: join(goBuildDir, "spire-agent"), spireServer: join(goBuildDir, "spire-server") };
}
