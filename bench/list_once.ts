// One recursive listing of the whole card in a fresh process, as a user's
// script would do it; prints a JSON line with the time, the entry count and
// this process's memory (RSS at start and its peak, and where the growth is:
// see bench/download_once.ts).
//   deno run --allow-all bench/list_once.ts
import { Camera } from "../src/camera/camera.ts";
import { memorySnapshot, status } from "./_memory.ts";

const idle = status("VmRSS");
const atIdle = memorySnapshot();
const start = performance.now();
await using cam = await Camera.open();
const opened = performance.now();
const atOpen = memorySnapshot();
const entries = await cam.storage.list("/", { recursive: true });
const done = performance.now();
console.log(JSON.stringify({
  entries: entries.length,
  files: entries.filter((e) => !e.isDirectory).length,
  openMs: opened - start,
  listMs: done - opened,
  idleRss: idle,
  peakRss: status("VmHWM"),
  memory: { idle: atIdle, opened: atOpen, end: memorySnapshot() },
}));
