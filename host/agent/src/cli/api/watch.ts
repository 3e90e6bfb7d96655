/**
 * `api watch` [Workload API FetchX509SVID stream]: prints every X.509
 * update until interrupted, reconnecting as go-spiffe's WatchX509Context
 * does (linear backoff 1s, 2s, … capped at 30s, reset by any message;
 * InvalidArgument and cancellation end the watch). As with spire-agent,
 * an interrupt ends it with "context canceled" and exit 1.
 */
import { Code, isRpcError, RpcError } from "@signet/proto";
import { type CliEnv, type Command, errorText, FlagSet } from "@signet/host-common";
import { addSocketFlags, resolveSocketPath } from "../socket.js";
import { type AgentClient, connectAgent } from "../workload-client.js";
import { parseAdapterFlags } from "./adapter.js";
import { formatX509SvidResponse } from "./print-x509.js";
import { parseX509Context } from "./x509-svids.js";

export interface WatchOptions {
  /** Ends the watch; by default SIGINT. */
  readonly interrupt?: () => AbortSignal;
  /** Waits between attempts; by default real time. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const synopsis = "Attaches to the Workload API and prints updates as they're received";

export function watchCommand(options: WatchOptions = {}): Command {
  const build = () => {
    const fs = new FlagSet("watch");
    return { fs, socket: addSocketFlags(fs) };
  };
  return {
    name: "api watch",
    synopsis,
    help: () => `${build().fs.usage()}flag: help requested\n`,
    async run(args, env) {
      const { fs, socket } = build();
      if (!parseAdapterFlags(fs, args, env)) return 1;
      let socketPath: string;
      try {
        socketPath = resolveSocketPath(socket, env);
      } catch (e) {
        env.stderr(`${errorText(e)}\n`);
        return 1;
      }
      const signal = (options.interrupt ?? sigint)();
      const client = connectAgent(socketPath);
      try {
        await watchX509Context(client, env, signal, options.sleep ?? sleep);
        return 0;
      } catch (e) {
        env.stderr(`${errorText(e)}\n`);
        return 1;
      } finally {
        client.close();
      }
    },
  };
}

export const watch = watchCommand();

async function watchX509Context(
  client: AgentClient,
  env: CliEnv,
  signal: AbortSignal,
  wait: (ms: number, signal: AbortSignal) => Promise<void>,
): Promise<never> {
  let attempt = 0;
  let updateTime = process.hrtime.bigint();
  for (;;) {
    let err: unknown;
    try {
      for await (const resp of client.workload.fetchX509Svid({}, client.callOptions(signal))) {
        attempt = 0;
        let svids;
        try {
          svids = parseX509Context(resp);
        } catch (e) {
          env.stderr(`${errorText(e)}\n`);
          continue;
        }
        const now = process.hrtime.bigint();
        env.stdout(formatX509SvidResponse(svids, now - updateTime));
        updateTime = process.hrtime.bigint();
      }
      // The agent ended the stream with OK: grpc-go's Recv returns io.EOF, and the watch reconnects.
      err = new Error("EOF");
    } catch (e) {
      err = signal.aborted ? canceled() : client.goError(e);
    }
    env.stderr(`${errorText(err)}\n`);
    if (isRpcError(err) && (err.code === Code.CANCELLED || err.code === Code.INVALID_ARGUMENT)) throw err;
    const delayMs = Math.min(1000 * (attempt + 1), 30_000);
    attempt++;
    try {
      await wait(delayMs, signal);
    } catch {
      throw new Error("context canceled");
    }
    if (signal.aborted) throw new Error("context canceled");
  }
}

function canceled(): RpcError {
  return new RpcError(Code.CANCELLED, "context canceled");
}

function sigint(): AbortSignal {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  return controller.signal;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error("aborted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
