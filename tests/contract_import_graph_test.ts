// Dependencies run one way (issue 13, point 10, measured by
// scripts/import_graph.ts): no file imports from a layer above its own, and
// no files import each other in a cycle.
import assert from "node:assert/strict";
import { analyse, defaultEntries, readGraph } from "../scripts/import_graph.ts";

Deno.test("import graph: no upward import, no file cycle", async () => {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const report = analyse(await readGraph(root, await defaultEntries(root)));
  assert.ok(report.files > 50, `the graph was read (${report.files} files)`);
  assert.deepEqual(report.upward.map(({ from, to }) => `${from} -> ${to}`).sort(), []);
  assert.deepEqual(report.cycles.map((group) => group.join(" <-> ")), []);
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
