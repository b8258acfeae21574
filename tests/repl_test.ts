// Tier 5: `deno task repl` as a user starts it, typing into the Deno REPL:
// `cam` is connected (the virtual camera when none is on USB, saying so),
// and the helpers work.
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("deno task repl connects cam and offers ls, get, shoot, trace and help", async () => {
  const dir = await Deno.makeTempDir({ prefix: "canon-repl-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "repl"],
      cwd: ROOT,
      env: { NO_COLOR: "1", CANON_EMULATE: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const typed = [
      "help()",
      'await ls("/DCIM/100CANON")',
      "cam.modelName",
      `(await get("/DCIM/100CANON/IMG_0001.JPG", ${JSON.stringify(dir)})).size`,
      "(await shoot()).path",
      "trace()",
      "(await cam.identify()).owner",
      "trace(false)",
      "await disconnect()",
      "close()",
    ];
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(typed.join("\n") + "\n"));
    await writer.close();
    const timer = setTimeout(() => child.kill(), 30_000);
    const output = await child.output();
    clearTimeout(timer);
    const out = new TextDecoder().decode(output.stdout);
    const err = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, err);
    assert.match(out, /^cam: Canon PowerShot G3, the virtual camera \(CANON_EMULATE is set\)$/m);
    assert.match(out, /^trace\(on = true\)\s+wire trace/m); // help()
    assert.match(out, /^IMG_0002\.JPG\s+30357\s+\S+ \S+\s+protected$/m); // ls()
    assert.match(out, /^"Canon PowerShot G3"$/m);
    assert.match(out, /^29380$/m); // get() returned the size
    assert.equal((await Deno.stat(`${dir}/IMG_0001.JPG`)).size, 29380);
    assert.match(out, /^"\/DCIM\/\d{3}CANON\/IMG_\d{4}\.JPG"$/m); // shoot()
    assert.match(out, /^"info"$/m);
    assert.match(err + out, /canon INFO --> IdentifyCamera \(0x1, 0x12, 0x201\) #\d+/); // the trace
    assert.match(out, /^"Kiril"$/m);
    assert.doesNotMatch(err, /Uncaught|error/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the REPL's helpers print a hostile file name with its control characters escaped", async () => {
  const { startRepl } = await import("../src/cli/repl.ts");
  const { VirtualCamera } = await import("../src/emulator/host/virtual_camera.ts");
  const lines: string[] = [];
  const repl = await startRepl({}, (line) => lines.push(line), {
    virtualCamera: new VirtualCamera(),
  });
  try {
    // A name that would clear the screen and retitle the terminal if printed as is, as a
    // hostile camera could list it (the virtual card itself takes 8.3 names only).
    const hostile = "\x1b[2J\x1b]0;owned\x07.JPG";
    const storage = repl.cam.storage;
    const list = storage.list.bind(storage);
    storage.list = async (path, options) =>
      (await list(path, options)).map((e, i) => i === 0 ? { ...e, name: hostile } : e);
    await repl.ls("/DCIM/100CANON");
    const listed = lines.find((line) => line.includes("owned"));
    assert.ok(listed, lines.join("\n"));
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(lines.join("\n"), /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    assert.match(listed, /^\\u001b\[2J\\u001b\]0;owned\\u0007\.JPG\s/);
    assert.match(lines[0], /^cam: Canon PowerShot G3, the virtual camera given to startRepl$/);
  } finally {
    await repl.disconnect();
  }
});
