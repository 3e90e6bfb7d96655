export { publicSocketMode, startUdsServer, type UdsServer, type UdsServerOptions } from "./uds-server.js";
export { PeerTracker, peerTrackerMissing } from "./peer-tracker.js";
