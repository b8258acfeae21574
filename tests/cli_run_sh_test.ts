// Tier 5: run.sh as typed, with the system commands it calls replaced by
// stand-ins on PATH: a library that is in the linker cache is never taken
// for missing (no SIGPIPE-prone `ldconfig -p | grep -q` under pipefail), so
// no apt-get and no sudo prompt; a library that is missing is installed.
import assert from "node:assert/strict";
import { join } from "node:path";

const RUN_SH = new URL("../run.sh", import.meta.url).pathname;

/** A directory of stand-in commands; apt-get and sudo log their calls to `calls`. */
async function fakeSystem(libraries: string[]): Promise<{ bin: string; calls: string }> {
  const bin = await Deno.makeTempDir({ prefix: "canon-runsh-" });
  const calls = join(bin, "calls.log");
  // A real cache is ~1-2k lines; make it long enough that ldconfig is still
  // writing when a `grep -q` would have found the first library and quit.
  const filler = Array.from(
    { length: 40000 },
    (_, i) => `\tlibfiller${i}.so.1 (libc6,x86-64) => /usr/lib/libfiller${i}.so.1`,
  ).join("\n");
  const cache = [
    `${libraries.length + 40000} libs found in cache \`/etc/ld.so.cache'`,
    ...libraries.map((l) => `\t${l} (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/${l}`),
    filler,
  ].join("\n");
  await Deno.writeTextFile(join(bin, "ld.so.cache.txt"), cache + "\n");
  const script = (body: string) => `#!/usr/bin/env bash\n${body}\n`;
  const files: Record<string, string> = {
    ldconfig: script(`cat "${join(bin, "ld.so.cache.txt")}"`),
    "apt-get": script(`echo "apt-get $*" >> "${calls}"`),
    sudo: script(`echo "sudo $*" >> "${calls}"; "$@"`),
    gphoto2: script("exit 0"),
    tshark: script("exit 0"),
    deno: script('echo "deno $*"'),
  };
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(bin, name), text, { mode: 0o755 });
  }
  return { bin, calls };
}

async function runSh(bin: string, args: string[]) {
  const out = await new Deno.Command("bash", {
    args: [RUN_SH, ...args],
    // Only the stand-ins and the basics (bash, cat, id, dirname).
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin },
    clearEnv: true,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, out: text.decode(out.stdout), err: text.decode(out.stderr) };
}

Deno.test("run.sh: libraries in the linker cache are never taken for missing", async () => {
  const { bin, calls } = await fakeSystem([
    "libusb-1.0.so.0",
    "libumockdev.so.0",
    "libumockdev-preload.so.0",
  ]);
  try {
    for (let i = 0; i < 25; i++) {
      const run = await runSh(bin, ["check"]);
      assert.equal(run.code, 0, run.err);
      assert.equal(run.out, "deno task check\n");
      assert.doesNotMatch(run.err, /installing/, `run ${i}: ${run.err}`);
    }
    const called = await Deno.readTextFile(calls).catch(() => "");
    assert.equal(called, "", "neither apt-get nor sudo ran");
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("run.sh: a missing library is installed with apt-get, then the task runs", async () => {
  const { bin, calls } = await fakeSystem(["libusb-1.0.so.0", "libumockdev.so.0"]);
  try {
    const run = await runSh(bin, ["demo"]);
    assert.equal(run.code, 0, run.err);
    assert.match(run.err, /run\.sh: installing umockdev with apt-get/);
    assert.equal(run.out, "deno task demo\n");
    const called = await Deno.readTextFile(calls);
    assert.match(called, /apt-get install -y -qq umockdev$/m);
    assert.doesNotMatch(called, /libusb|libumockdev0/);
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});
