// One download in a fresh process, as a user's script would do it; prints a
// JSON line with the time and this process's memory: RSS at start and its
// peak, and where the growth is (anonymous memory, which holds the V8 heap
// and malloc's, vs pages of mapped files, mostly the deno binary's code as it
// is first run) at start, after opening the camera and at the end.
//   deno run --allow-all bench/download_once.ts CAMERA_PATH DEST_DIR
import { Camera } from "../src/camera/camera.ts";
import { memorySnapshot, status } from "./_memory.ts";

const [path, dest] = Deno.args;
const idle = status("VmRSS");
const atIdle = memorySnapshot();
const start = performance.now();
await using cam = await Camera.open();
const opened = performance.now();
const atOpen = memorySnapshot();
const result = await cam.storage.download(path, dest, { overwrite: true });
const done = performance.now();
console.log(JSON.stringify({
  bytes: result.size,
  openMs: opened - start,
  downloadMs: done - opened,
  idleRss: idle,
  peakRss: status("VmHWM"),
  memory: { idle: atIdle, opened: atOpen, end: memorySnapshot() },
}));
