// Browser tier, the build: the web app's bundles (deno bundle --platform
// browser) carry the public API and the app without libusb, FFI, the
// emulator's host side or any Deno API on their paths.
import assert from "node:assert/strict";
import { buildWeb } from "../web/build.ts";

/** The modules a bundle is made of, from deno bundle's `// path` section comments. */
function modulesOf(bundle: string): Map<string, string> {
  const sections = new Map<string, string>();
  const marks = [...bundle.matchAll(/^\/\/ ((?:src|web|ffi|npm)[^\n]*\.ts)$/gm)];
  marks.forEach((mark, i) => {
    const end = i + 1 < marks.length ? marks[i + 1].index : bundle.length;
    const text = bundle.slice(mark.index, end);
    sections.set(mark[1], (sections.get(mark[1]) ?? "") + text);
  });
  return sections;
}

/** Every `Deno.x` reference, as "module: Deno.x". */
function denoReferences(bundle: string): string[] {
  const found = new Set<string>();
  for (const [module, text] of modulesOf(bundle)) {
    for (const m of text.matchAll(/\bDeno\.[A-Za-z]+(?:\.[A-Za-z]+)?/g)) {
      found.add(`${module}: ${m[0]}`);
    }
  }
  return [...found].sort();
}

// Deno references left in code a page never runs, each for a reason:
// - log.ts reads CANON_LOG inside try/catch (a page has no Deno: the catch keeps "warn");
// - storage.ts/capture.ts name Deno.errors.AlreadyExists only after a host-path check,
//   which the browser build's pending_file.ts refuses first; storage.upload reads a host
//   file only when given a path string instead of bytes;
// - session.ts and pipeline.ts ref/unref timers in the pipelined read, taken only for a
//   device with readBulkChunks, which neither a browser's USBDevice nor WebUsbView has.
const GUARDED = [
  "src/camera/capture/shot.ts: Deno.errors.AlreadyExists",
  // relative() of a relative path: only the emulator's card folder asks, never a page.
  "src/camera/host_path.ts: Deno.cwd",
  "src/camera/storage.ts: Deno.errors.AlreadyExists",
  // download(path, "dir/") makes the directory: a path destination, never a browser's.
  "src/camera/storage.ts: Deno.mkdir",
  "src/protocol/log.ts: Deno.env.get",
  // Asked only where Deno exists, before reading CANON_LOG quietly.
  "src/protocol/log.ts: Deno.permissions.querySync",
  "src/usb/watchdog.ts: Deno.refTimer",
  "src/usb/watchdog.ts: Deno.unrefTimer",
];

const HOST_ONLY =
  /^(ffi\/|src\/usb\/(libusb|discovery|hotplug)|src\/camera\/(discovery|pending_file|udev|wait_for_camera)\.ts|src\/emulator\/|src\/trace\/|src\/cli\/)/;

Deno.test("the browser build: one API module and the app, without FFI, libusb, the emulator or Deno", async () => {
  const dir = await Deno.makeTempDir({ prefix: "canon-web-build-" });
  try {
    const built = await buildWeb(dir);
    assert.deepEqual(built.files.sort(), [
      "app.js",
      "canon-remote.js",
      "emulator.js",
      "index.html",
      "style.css",
    ]);
    for (const name of ["canon-remote.js", "app.js"]) {
      const bundle = await Deno.readTextFile(`${dir}/${name}`);
      assert.doesNotMatch(bundle, /^import\b/m, `${name} imports something`);
      assert.doesNotMatch(
        bundle,
        /dlopen|UnsafePointer|UnsafeCallback|libusb_init|umockdev/i,
        name,
      );
      const modules = [...modulesOf(bundle).keys()];
      assert.ok(
        modules.includes("src/camera/camera.ts") && modules.includes("src/protocol/session.ts"),
        name,
      );
      assert.ok(modules.includes("web/platform/discovery.ts"), `${name}: ${modules}`);
      const hostOnly = modules.filter((m) => HOST_ONLY.test(m));
      assert.deepEqual(hostOnly, [], `${name} bundles host-only modules`);
      assert.deepEqual(denoReferences(bundle), GUARDED, `${name}: Deno references`);
    }
    // The in-page virtual camera: the emulator's in-process side only.
    const emulator = await Deno.readTextFile(`${dir}/emulator.js`);
    assert.doesNotMatch(emulator, /^import\b/m);
    assert.doesNotMatch(emulator, /dlopen|UnsafePointer|umockdev_testbed|usbdevfs/i);
    assert.ok(modulesOf(emulator).has("src/emulator/host/virtual_camera.ts"));
    assert.deepEqual(denoReferences(emulator), [
      // A card file read from the host's disk (`--card DIR`); the page's card has none.
      "src/emulator/card/memory_card.ts: Deno.SeekMode.Start",
      "src/emulator/card/memory_card.ts: Deno.openSync",
      "src/emulator/card/memory_card.ts: Deno.statSync",
      "src/usb/watchdog.ts: Deno.refTimer",
      "src/usb/watchdog.ts: Deno.unrefTimer",
    ]);
    const page = await Deno.readTextFile(`${dir}/index.html`);
    assert.match(page, /<script type="module" src="app.js">/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
