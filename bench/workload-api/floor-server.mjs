// The floor for the Workload API figures: a bare grpc-js server in its own
// process on a Unix socket, identity serializers, no header check, no
// attestation, no cache. Connections are accepted by a node:net server and
// injected into grpc-js (the transport the agent uses) so that they can be
// counted: every sample must be a new connection.
//   /floor.Floor/Stream  server stream: one canned message of argv[2] bytes, then open until cancelled
//   /floor.Floor/Unary   unary: a canned answer of argv[3] bytes
// Forked with IPC: sends {socket} once listening, answers {type:"count"}.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";

const streamMessage = Buffer.alloc(Number(process.argv[2]), 0x5a);
const unaryMessage = Buffer.alloc(Number(process.argv[3]), 0x5a);
const socket = join(mkdtempSync(join(tmpdir(), "signet-floor-")), "floor.sock");
const id = (b) => b;
const method = (path, responseStream) => ({ path, requestStream: false, responseStream, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id });
const server = new Server();
server.addService(
  { stream: method("/floor.Floor/Stream", true), unary: method("/floor.Floor/Unary", false) },
  {
    stream: (call) => {
      call.write(streamMessage);
      call.on("cancelled", () => call.end());
    },
    unary: (_call, cb) => cb(null, unaryMessage),
  },
);
const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
let connections = 0;
const listener = createServer((s) => {
  connections++;
  s.on("error", () => {});
  injector.injectConnection(s);
});
listener.listen(socket, () => process.send({ socket }));
process.on("message", (m) => {
  if (m.type === "count") process.send({ type: "count", connections });
});
