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

/** V8's gc(), reached from a fresh context once --expose-gc is set (the main context keeps none). */
function fullCollection(): (() => void) | null {
  if (collect !== undefined) return collect;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return (collect = exposed);
  try {
    v8.setFlagsFromString("--expose-gc");
    const fn: unknown = vm.runInNewContext("gc");
    collect = typeof fn === "function" ? (fn as () => void) : null;
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
