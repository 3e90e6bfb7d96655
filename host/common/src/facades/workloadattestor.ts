import type { AsyncClient } from "@signet/proto";
import type { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";

/** A selector as SPIRE writes it: `unix:uid:1000` is type "unix", value "uid:1000". */
export interface Selector {
  readonly type: string;
  readonly value: string;
}

/** The host's view of a WorkloadAttestor: selectors for a PID, typed with the plugin's name. */
export class WorkloadAttestorFacade {
  constructor(
    private readonly client: AsyncClient<typeof WorkloadAttestorService>,
    readonly name: string,
  ) {}

  async attest(pid: number, options: { signal?: AbortSignal; deadline?: number | Date } = {}): Promise<Selector[]> {
    const res = await this.client.attest({ pid }, options);
    return res.selectorValues.map((value) => ({ type: this.name, value }));
  }
}
