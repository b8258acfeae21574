// One download in a fresh process, as a user's script would do it; prints a
// JSON line with the time and this process's memory (RSS at start and peak).
//   deno run --allow-all bench/download_once.ts CAMERA_PATH DEST_DIR
import { Camera } from "../src/camera/camera.ts";

function status(field: string): number {
  const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) =>
    l.startsWith(field + ":")
  );
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

const [path, dest] = Deno.args;
const idle = status("VmRSS");
const start = performance.now();
await using cam = await Camera.open();
const opened = performance.now();
const result = await cam.storage.download(path, dest, { overwrite: true });
const done = performance.now();
console.log(JSON.stringify({
  bytes: result.size,
  openMs: opened - start,
  downloadMs: done - opened,
  idleRss: idle,
  peakRss: status("VmHWM"),
}));
