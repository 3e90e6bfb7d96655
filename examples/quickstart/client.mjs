// A workload that connects to the quickstart server over mutual TLS with its
// own X509-SVID and accepts only the server's SPIFFE ID.
import { connect } from "node:tls";
import { X509Source, authorizeId, mtlsClientOptions, peerSpiffeId } from "@signet/spiffe";

const port = Number(process.env.QUICKSTART_PORT ?? 8443);
const serverId = process.env.QUICKSTART_SERVER_ID ?? "spiffe://example.org/quickstart/server";

const source = await X509Source.create({ picker: (svids) => svids.find((s) => s.hint === "client") ?? svids[0] });
console.log(`client: my identity is ${source.getX509Svid().spiffeId}`);
const socket = connect({ host: "127.0.0.1", port, ...mtlsClientOptions(source, authorizeId(serverId)) });
socket.once("secureConnect", () => {
  console.log(`client: connected over mTLS to ${peerSpiffeId(socket)}`);
  socket.write("ping from the client\n");
});
let reply = "";
socket.on("data", (d) => (reply += d));
socket.on("end", async () => {
  console.log(`client: server replied: ${reply.trim()}`);
  await source.close();
});
socket.on("error", async (err) => {
  console.error(`client: ${err.message}`);
  process.exitCode = 1;
  await source.close();
});
