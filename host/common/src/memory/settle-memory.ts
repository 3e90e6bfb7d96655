/**
 * Handing load-time garbage back to the operating system after a host's big
 * one-off loads (the server's entry cache cold start): a full V8 collection,
 * then glibc's malloc_trim, which returns the free pages of every malloc
 * arena. Without it the process keeps the high-water mark of the load: the
 * young generation grown to its cap, and tens of MB of freed message buffers
 * parked in malloc's free lists.
 *
 * Both steps are best effort: off glibc (musl, macOS) there is no
 * malloc_trim, and the collection only runs where V8 lets us ask for one.
 */
import { createRequire } from "node:module";
import v8 from "node:v8";
import vm from "node:vm";

export interface SettleResult {
  /** A full garbage collection ran. */
  readonly collected: boolean;
  /** malloc_trim ran (it reports whether it released anything). */
  readonly trimmed: boolean;
}

let collect: (() => void) | null | undefined;
let trim: (() => number) | null | undefined;

export function settleMemory(): SettleResult {
  const gc = fullCollection();
  gc?.();
  const t = mallocTrim();
  if (t) t();
  return { collected: gc !== null, trimmed: t !== null };
}

/**
 * V8's gc(), reached from a fresh context while --expose-gc is set (the main
 * context keeps none). The flag is process-wide: left on, every later vm
 * context and every Worker thread would get a global `gc` (code that looks
 * for one, e.g. to collect after each task, would start collecting), so it is
 * cleared again at once; the function keeps working. Its context stays alive
 * with it (about 150 KB of heap).
 */
function fullCollection(): (() => void) | null {
  if (collect !== undefined) return collect;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return (collect = exposed);
  try {
    v8.setFlagsFromString("--expose-gc");
    try {
      const fn: unknown = vm.runInNewContext("gc");
      collect = typeof fn === "function" ? (fn as () => void) : null;
    } finally {
      v8.setFlagsFromString("--no-expose-gc");
    }
  } catch {
    collect = null;
  }
  return collect;
}

function mallocTrim(): (() => number) | null {
  if (trim !== undefined) return trim;
  trim = null;
  if (process.platform !== "linux") return trim;
  try {
    // koffi is a native module: loaded lazily, and only here.
    const koffi = createRequire(import.meta.url)("koffi") as {
      load(path: string): { func(signature: string): (pad: number) => number };
    };
    const fn = koffi.load("libc.so.6").func("int malloc_trim(size_t pad)");
    trim = () => fn(0);
  } catch {
    trim = null;
  }
  return trim;
}
