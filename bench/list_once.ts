// One recursive listing of the whole card in a fresh process, as a user's
// script would do it; prints a JSON line with the time, the entry count and
// this process's memory (RSS at start and peak).
//   deno run --allow-all bench/list_once.ts
import { Camera } from "../src/camera/camera.ts";

function status(field: string): number {
  const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) =>
    l.startsWith(field + ":")
  );
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

const idle = status("VmRSS");
const start = performance.now();
await using cam = await Camera.open();
const opened = performance.now();
const entries = await cam.storage.list("/", { recursive: true });
const done = performance.now();
console.log(JSON.stringify({
  entries: entries.length,
  files: entries.filter((e) => !e.isDirectory).length,
  openMs: opened - start,
  listMs: done - opened,
  idleRss: idle,
  peakRss: status("VmHWM"),
}));
