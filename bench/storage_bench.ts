// Storage benchmarks, measured side by side in one run:
//  - download of one 64 MiB file: in-process virtual camera; libusb + umockdev
//    (in this process); a fresh process of this library vs `gphoto2 --get-file`
//    on the same emulated camera (whole command, wall time), as a ratio;
//  - peak memory of a fresh process downloading a 512 MiB file.
//
//   deno task bench [--quick]        (results: bench/results/storage.json)
//  (bench/compare.ts puts these side by side with gphoto2 and node-usb.)
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { benchCard, mbps, median, MIB, nullSink as sink, timeIt } from "./_lib.ts";

const quick = Deno.args.includes("--quick");
const SIZE = (quick ? 16 : 64) * MIB;
const BIG = (quick ? 128 : 512) * MIB;
const ROUNDS = quick ? 1 : 3;
const FILE = "/DCIM/100CANON/MVI_0001.AVI";
const HUGE = "/DCIM/100CANON/MVI_0002.AVI";

const card = () => benchCard([{ path: FILE, size: SIZE }, { path: HUGE, size: BIG }]);

const results: Record<string, number | string> = { date: new Date().toISOString(), size: SIZE };
const dir = await Deno.makeTempDir({ prefix: "canon-bench-" });
try {
  // In-process: the protocol stack alone.
  {
    await using cam = await Camera.connect(new VirtualCamera({ card: card() }));
    const times = [];
    for (let i = 0; i < ROUNDS; i++) {
      times.push(await timeIt(() => cam.storage.download(FILE, sink())));
    }
    results.inProcessMBps = mbps(SIZE, median(times));
  }

  const vc = new VirtualCamera({ card: card() });
  using testbed = UmockdevTestbed.open();
  testbed.attach(vc.usbFunction);

  // libusb + umockdev, in this process (needs LD_PRELOAD, set by the task).
  if (testbed.preloaded) {
    await using cam = await Camera.open();
    const times = [];
    for (let i = 0; i < ROUNDS; i++) {
      times.push(await timeIt(() => cam.storage.download(FILE, sink())));
    }
    results.libusbMBps = mbps(SIZE, median(times));
  }

  // Whole commands in fresh processes, alternating, same emulated camera.
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ours.push(
      await timeIt(() =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", "bench/download_once.ts", FILE, dir],
          env: testbed.env(),
          stdout: "null",
        }).output().then((o) => {
          if (!o.success) throw new Error("download_once failed");
        })
      ),
    );
    theirs.push(
      await timeIt(() =>
        new Deno.Command("gphoto2", {
          args: ["--get-file", FILE, "--force-overwrite"],
          env: { ...testbed.env(), LANG: "C" },
          cwd: dir,
          stdout: "null",
          stderr: "null",
        }).output().then((o) => {
          if (!o.success) throw new Error("gphoto2 --get-file failed");
        })
      ),
    );
  }
  results.oursCommandMs = median(ours);
  results.gphoto2CommandMs = median(theirs);
  results.oursCommandMBps = mbps(SIZE, median(ours));
  results.gphoto2CommandMBps = mbps(SIZE, median(theirs));
  results.speedupVsGphoto2 = median(theirs) / median(ours);

  // Peak memory of a fresh process downloading the big file.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "bench/download_once.ts", HUGE, dir],
    env: testbed.env(),
    stdout: "piped",
  }).output();
  const mem = JSON.parse(new TextDecoder().decode(out.stdout));
  results.bigFileBytes = mem.bytes;
  results.bigFileMBps = mbps(mem.bytes, mem.downloadMs);
  results.peakRssAboveIdleMiB = (mem.peakRss - mem.idleRss) / MIB;
} finally {
  await Deno.remove(dir, { recursive: true });
}

const f = (n: unknown) => typeof n === "number" ? n.toFixed(1) : String(n);
console.log(`download of one ${SIZE / MIB} MiB file (median of ${ROUNDS})`);
console.log(`  in-process virtual camera         ${f(results.inProcessMBps)} MB/s`);
console.log(`  libusb + umockdev (this process)  ${f(results.libusbMBps ?? "n/a")} MB/s`);
console.log(
  `  whole command, fresh process:     canon-remote ${f(results.oursCommandMs)} ms, ` +
    `gphoto2 --get-file ${f(results.gphoto2CommandMs)} ms -> ${
      f(results.speedupVsGphoto2)
    }x gphoto2's speed`,
);
console.log(
  `peak memory downloading ${BIG / MIB} MiB: ${f(results.peakRssAboveIdleMiB)} MiB above idle ` +
    `(${f(results.bigFileMBps)} MB/s)`,
);
await Deno.mkdir("bench/results", { recursive: true });
await Deno.writeTextFile(
  `bench/results/storage${quick ? "-quick" : ""}.json`,
  JSON.stringify(results, null, 2) + "\n",
);
