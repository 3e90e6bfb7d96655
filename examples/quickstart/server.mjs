// A workload that serves mutual TLS with its X509-SVID from the Workload API
// (SPIFFE_ENDPOINT_SOCKET) and accepts only the client's SPIFFE ID. The
// certificate follows rotation: the source swaps it before it expires.
import { X509Source, authorizeId, createMtlsServer, peerSpiffeId } from "@signet/spiffe";

const port = Number(process.env.QUICKSTART_PORT ?? 8443);
const clientId = process.env.QUICKSTART_CLIENT_ID ?? "spiffe://example.org/quickstart/client";

const source = await X509Source.create({ picker: (svids) => svids.find((s) => s.hint === "server") ?? svids[0] });
console.log(`server: my identity is ${source.getX509Svid().spiffeId}`);
const server = createMtlsServer(source, authorizeId(clientId), {}, (socket) => {
  socket.once("data", (data) => {
    socket.end(`hello ${peerSpiffeId(socket)}, you said "${data.toString().trim()}"\n`);
  });
});
server.on("tlsClientError", (err) => console.log(`server: refused a client: ${err.message}`));
server.listen(port, "127.0.0.1", () => console.log(`server: listening on 127.0.0.1:${port}, accepting only ${clientId}`));

const stop = async () => {
  server.close();
  await source.close();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
