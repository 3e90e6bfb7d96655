export { metricsHostService } from "./metrics.js";
