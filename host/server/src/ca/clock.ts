/** The hosts share one Clock (host-common); the CA code imports it from here. */
export { type Clock, systemClock } from "@signet/host-common";
