import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { generateKey } from "/work/main/host/agent/dist/keys/keys.js";
const rss = () => (process.memoryUsage().rss / 1e6).toFixed(0);
globalThis.gc();
console.log("start rss", rss());
const keep = [];
for (let i = 0; i < 10000; i++) { const k = generateKey("ec-p256"); keep.push({ k: k.privateKey, der: k.privateKey.export({ type: "pkcs8", format: "der" }) }); }
globalThis.gc();
console.log("10k KeyObjects + pkcs8 rss", rss(), "heap", (process.memoryUsage().heapUsed/1e6).toFixed(0), "ext", (process.memoryUsage().external/1e6).toFixed(0));
