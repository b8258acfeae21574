// Tier 5: the `canon` command as one JavaScript file (`deno bundle`), run
// against the virtual camera, in-process and through libusb and umockdev:
// the entry point has static imports only and reads no file beside itself.
import assert from "node:assert/strict";
import { hasCommand, skipWithout } from "./_support.ts";

const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();
const dir = await Deno.makeTempDir({ prefix: "canon-bundle-" });
const bundle = `${dir}/canon.js`;

async function run(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: dir, // nothing of the project beside the bundle
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  return {
    code: output.code,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
  };
}

Deno.test("deno bundle makes one file that runs canon against the virtual camera", async (t) => {
  try {
    const built = await run(["bundle", "--platform", "deno", "-o", bundle, MAIN]);
    assert.equal(built.code, 0, built.err);
    const size = (await Deno.stat(bundle)).size;
    assert.ok(size > 100_000 && size < 5_000_000, `bundle of ${size} bytes`);

    await t.step("info, in-process", async () => {
      const info = await run(["run", "--allow-all", bundle, "--emulate", "info"]);
      assert.equal(info.code, 0, info.err);
      assert.match(info.out, /^Model:\s+Canon PowerShot G3$/m);
    });
    await t.step("--version and --help need nothing beside the file", async () => {
      const version = await run(["run", bundle, "--version"]);
      assert.match(version.out, /^canon \d+\.\d+\.\d+ /);
      const help = await run(["run", bundle, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.out, /^Usage: canon /m);
    });
    await t.step({
      name: "ls through libusb and umockdev (the bundle restarts itself with the preload)",
      ignore: skipWithout(await hasCommand("umockdev-run", ["--version"]), "umockdev"),
      fn: async () => {
        const ls = await run([
          "run",
          "--allow-all",
          bundle,
          "--emulate-usb",
          "ls",
          "/DCIM/100CANON",
        ], {
          LD_PRELOAD: "",
        });
        assert.equal(ls.code, 0, ls.err);
        assert.match(ls.out, /^#2\s+IMG_0001\.JPG\s+29380 /m);
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
