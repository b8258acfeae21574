// The soak in its quick form (bench/soak.ts --quick: 300 mixed commands and
// 16 MiB of downloads through libusb + umockdev), in a child process of its
// own so that its memory and file-descriptor figures are its alone (the soak
// gives itself a private $TMPDIR, so that the count of umockdev directories
// is its own too).
import assert from "node:assert/strict";
import type { SoakReport } from "../bench/soak.ts";
import { skipWithout, underUmockdev } from "./_support.ts";

Deno.test({
  name: "soak --quick: no growth in memory, descriptors, libusb holds or testbed directories",
  ignore: skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0"),
  async fn() {
    const start = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-check",
        "--v8-flags=--expose-gc",
        new URL("../bench/soak.ts", import.meta.url).pathname,
        "--quick",
      ],
      env: { LD_PRELOAD: "libumockdev-preload.so.0", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - start) / 1000;
    const stderr = new TextDecoder().decode(out.stderr);
    const stdout = new TextDecoder().decode(out.stdout);
    assert.ok(stdout.startsWith("{"), `the soak printed no report: ${stderr}`);
    const report: SoakReport = JSON.parse(stdout);
    assert.deepEqual(report.problems, [], stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(report.commands, 300);
    assert.ok(report.downloadedBytes >= 16 * 1024 * 1024);
    assert.equal(report.end.libusbHolds, 1);
    assert.equal(report.after.libusbHolds, 0);
    assert.equal(report.after.testbedDirs, 0, "the soak's private $TMPDIR holds no testbed");
    assert.ok(seconds < 30, `the quick soak took ${seconds.toFixed(1)} s`);
  },
});
