// The import graph may only get better (issue 13, point 10, measured by
// scripts/import_graph.ts): no import may run upward and no files may import
// each other in a cycle, except the ones listed here, which are waiting for
// the file moves of issue 13. Remove an entry when its import is gone; the
// test also fails when a listed entry no longer exists, so the list stays true.
import assert from "node:assert/strict";
import { analyse, defaultEntries, readGraph } from "../scripts/import_graph.ts";

const KNOWN_UPWARD = [
  "ffi/libusb.ts -> src/usb/errors.ts",
  // ./protocol re-exports the model table and traits, which still live in src/camera/.
  "src/protocol/mod.ts -> src/camera/capture.ts",
  "src/protocol/mod.ts -> src/camera/models.ts",
  "src/protocol/mod.ts -> src/camera/storage.ts",
  "src/protocol/mod.ts -> src/camera/traits.ts",
];
const KNOWN_CYCLES = [
  "src/usb/discovery.ts <-> src/usb/libusb_context.ts <-> src/usb/libusb_device.ts",
];

Deno.test("import graph: no new upward import, no new file cycle", async () => {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const report = analyse(await readGraph(root, await defaultEntries(root)));
  assert.ok(report.files > 50, `the graph was read (${report.files} files)`);
  assert.deepEqual(report.upward.map(({ from, to }) => `${from} -> ${to}`).sort(), KNOWN_UPWARD);
  assert.deepEqual(report.cycles.map((group) => group.join(" <-> ")), KNOWN_CYCLES);
});

Deno.test("import graph: the analysis finds a cycle and an upward import", () => {
  const report = analyse([
    { from: "src/usb/a.ts", to: "src/usb/b.ts" },
    { from: "src/usb/b.ts", to: "src/usb/a.ts" },
    { from: "src/usb/b.ts", to: "src/camera/c.ts" },
    { from: "src/camera/c.ts", to: "src/protocol/d.ts" },
  ]);
  assert.deepEqual(report.cycles, [["src/usb/a.ts", "src/usb/b.ts"]]);
  assert.deepEqual(report.upward, [{ from: "src/usb/b.ts", to: "src/camera/c.ts" }]);
});
