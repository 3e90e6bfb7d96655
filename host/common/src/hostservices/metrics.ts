/**
 * spire.hostservice.common.metrics.v1.Metrics, which SPIRE offers to every
 * plugin on both sides. Stock plugins that emit metrics need it to be there;
 * Signet has no metrics sink yet, so samples are accepted and dropped, and the
 * first sample from each plugin says so once in the log.
 */
import { type ServiceRegistration, implement } from "@signet/proto";
import { MetricsService } from "@signet/proto/spire/hostservice/common/metrics/v1/metrics";
import type { Logger } from "../log/logger.js";

export function metricsHostService(plugin: { type: string; name: string }, log: Logger): ServiceRegistration {
  let announced = false;
  const drop = async (req: { key: readonly string[] }): Promise<object> => {
    if (!announced) {
      announced = true;
      log.info("Plugin emits metrics; this host has no metrics sink yet, so they are dropped", {
        plugin_type: plugin.type,
        plugin_name: plugin.name,
        first_key: req.key.join("."),
      });
    }
    return {};
  };
  return implement(MetricsService, { setGauge: drop, emitKey: drop, incrCounter: drop, addSample: drop, measureSince: drop });
}
