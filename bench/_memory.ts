// This process's memory, for the fresh-process benchmarks
// (bench/download_once.ts, bench/list_once.ts): /proc/self/status fields and
// the V8 heap's size.

/**
 * A field of /proc/self/status in bytes (VmRSS, VmHWM, RssAnon, RssFile).
 *
 * @param field the field's name
 * @returns its value, bytes (0 when absent)
 */
export function status(field: string): number {
  const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) =>
    l.startsWith(field + ":")
  );
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

/** Where the resident memory is at one moment, bytes. */
export interface MemorySnapshot {
  /** Anonymous pages: the V8 heap, malloc's arenas, thread stacks. */
  anon: number;
  /** Pages of mapped files: the deno binary's code and data, libraries, V8's code cache. */
  file: number;
  /** The V8 heap's committed size (Deno.memoryUsage().heapTotal). */
  heapTotal: number;
  /** Bytes held by ArrayBuffers outside the heap (Deno.memoryUsage().external). */
  external: number;
}

/**
 * Take a {@link MemorySnapshot}.
 *
 * @returns the figures
 */
export function memorySnapshot(): MemorySnapshot {
  const usage = Deno.memoryUsage();
  return {
    anon: status("RssAnon"),
    file: status("RssFile"),
    heapTotal: usage.heapTotal,
    external: usage.external,
  };
}
