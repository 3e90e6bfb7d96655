export { readPeer, PeerCredentialsError, type PeerCredentials, type PeerProcess, type PeerBinding, type ReadPeerOptions } from "./read-peer.js";
export { attestCaller } from "./attest-caller.js";
