// The floor for host->plugin calls: a bare grpc-js server in its own process
// on a Unix socket, answering one unary method with identity serializers.
// It prints its socket path once listening, like a plugin's handshake.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";

const socket = join(mkdtempSync(join(tmpdir(), "signet-floor-")), "floor.sock");
const identity = (b) => b;
const server = new Server();
server.addService(
  { call: { path: "/floor.Floor/Call", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
  { call: (call, cb) => cb(null, call.request) },
);
server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  process.stdout.write(`${socket}\n`);
});
