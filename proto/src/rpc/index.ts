export * from "./errors.js";
export * from "./types.js";
export * from "./server.js";
export * from "./client.js";
export * from "./h2/client.js";
export * from "./h2/server.js";
