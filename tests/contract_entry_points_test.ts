// Contract: the package's entry points by layer (issue 13, point 7). `.` is
// the camera API and loads no emulator code; plumbing lives in the layer
// entry points.
import assert from "node:assert/strict";
import * as root from "../mod.ts";
import * as usb from "../src/usb/mod.ts";
import * as protocol from "../src/protocol/mod.ts";
import * as trace from "../src/trace/mod.ts";
import * as emulator from "../src/emulator/mod.ts";

const ROOT = new URL("..", import.meta.url);

async function denoJson(args: string[]): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("entry points: deno.json exports one per layer", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    exports: Record<string, string>;
  };
  assert.deepEqual(config.exports, {
    ".": "./mod.ts",
    "./usb": "./src/usb/mod.ts",
    "./protocol": "./src/protocol/mod.ts",
    "./trace": "./src/trace/mod.ts",
    "./emulator": "./src/emulator/mod.ts",
  });
});

Deno.test("entry points: importing `.` loads no emulator and no trace module", async () => {
  const info = await denoJson(["info", "--json", "mod.ts"]) as {
    modules: { specifier: string }[];
  };
  const local = info.modules.map((m) => m.specifier).filter((s) => s.startsWith(ROOT.href));
  assert.ok(local.some((s) => s.endsWith("/src/camera/camera.ts")), "the graph was read");
  assert.deepEqual(local.filter((s) => s.includes("/src/emulator/")), []);
  assert.deepEqual(local.filter((s) => s.includes("/src/trace/")), []);
});

Deno.test("entry points: plumbing is not in `.`, each layer has its own", async () => {
  const doc = await denoJson(["doc", "--json", "mod.ts"]) as {
    nodes: Record<string, { symbols: { name: string }[] }>;
  };
  const names = new Set(Object.values(doc.nodes)[0].symbols.map((s) => s.name));
  for (
    const plumbing of [
      "StorageHost",
      "CaptureHost",
      "CLASS_TRAITS",
      "hexdump",
      "Session",
      "VirtualCamera",
      "FaultInjector",
      "UsbFunction",
      "LibusbDevice",
      "readTrace",
    ]
  ) {
    assert.ok(!names.has(plumbing), `${plumbing} is not exported from mod.ts`);
  }
  for (const user of ["Camera", "Storage", "Capture", "CanonError", "listCameras", "setLogLevel"]) {
    assert.ok(names.has(user), `${user} is exported from mod.ts`);
  }
  // 68 after the split, plus the errors a user meets since (desync, card file exists,
  // unsupported), storage.open's and powerStatus's options, and RemoteMode (for CaptureSession).
  assert.ok(names.size <= 73, `mod.ts exports ${names.size} symbols`);
  // The values are where the layers say.
  assert.equal(typeof root.Camera.connect, "function");
  assert.equal(typeof usb.LibusbDevice, "function");
  assert.equal(typeof usb.listUsbDevices, "function");
  assert.equal(typeof protocol.Session, "function");
  assert.equal(typeof protocol.traitsOf, "function");
  assert.equal(typeof protocol.hexdump, "function");
  assert.equal(typeof trace.readTrace, "function");
  assert.equal(typeof emulator.VirtualCamera, "function");
  // One error class, whichever entry point it is imported from.
  assert.equal(usb.CanonError, root.CanonError);
  assert.equal(protocol.CanonError, root.CanonError);
});

Deno.test("entry points: the package publishes, with its own protocol document", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /docs\/protocol\.md/, "docs/protocol.md is in the package");
  assert.match(text, /src\/usb\/mod\.ts/);
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  assert.ok(readme.includes("(docs/protocol.md)"), "the README links docs/protocol.md");
  assert.ok(!readme.includes("../shared/docs"), "the README points to nothing outside the package");
});
