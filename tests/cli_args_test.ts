// The `canon` command line as users write it: long options with `=` or a
// separate value, one-letter options alone, grouped or with the value
// attached, `--` before a path that starts with a dash, and one clear usage
// error (exit code 2) for each way of getting it wrong.
import assert from "node:assert/strict";
import { join } from "node:path";
import { withCamera } from "./_cli_features.ts";
import { opensCameraAtOnce } from "../src/cli/main.ts";

async function filesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("options: --name=VALUE, --name VALUE, -oVALUE, -o VALUE and grouped flags", async () => {
  await withCamera(async (canon, _vc, dir) => {
    const forms = [
      ["get", "--all", `--output=${join(dir, "a")}`],
      ["get", "--all", "--output", join(dir, "b")],
      ["get", "-a", `-o${join(dir, "c")}`],
      ["get", "-a", "-o", join(dir, "d")],
    ];
    for (const [i, args] of forms.entries()) {
      const target = join(dir, "abcd"[i]);
      await Deno.mkdir(target);
      const run = await canon(...args);
      assert.equal(run.code, 0, `${args.join(" ")}: ${run.err}`);
      assert.ok((await filesIn(target)).includes("IMG_0001.JPG"), args.join(" "));
    }
    const first = await filesIn(join(dir, "a"));
    for (const other of ["b", "c", "d"]) assert.deepEqual(await filesIn(join(dir, other)), first);
    // -Ry: two flags in one group (rm -R without asking)
    const rm = await canon("rm", "-Ry", "/DCIM/101CANON");
    assert.equal(rm.code, 0, rm.err);
    const ls = await canon("ls", "-R", "/DCIM");
    assert.match(ls.out, /100CANON/);
    assert.doesNotMatch(ls.out, /101CANON/);
  });
});

Deno.test("options: each mistake is a usage error that names the option", async () => {
  await withCamera(async (canon) => {
    const cases: [string[], RegExp][] = [
      [["ls", "--colour"], /^canon ls: Unknown option '--colour'\nUsage: canon ls /],
      [["ls", "-x"], /^canon ls: Unknown option '-x'\n/],
      [["get", "--all", "-o"], /^canon get: Option '-o, --output <value>' argument missing\n/],
      [
        ["get", "--output", "-a"],
        /^canon get: Option '--output' argument is ambiguous: a value starting with "-" is written --output=VALUE\n/,
      ],
      [
        ["ls", "--recursive=yes"],
        /^canon ls: Option '-R, --recursive' does not take an argument\n/,
      ],
      [["info", "--timeout"], /^canon info: Option '--timeout <value>' argument missing\n/],
    ];
    for (const [args, expected] of cases) {
      const run = await canon(...args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.err}`);
      assert.match(run.err, expected, args.join(" "));
      assert.equal(run.out, "");
    }
  });
});

Deno.test("options: after --, an argument that starts with a dash is a path", async () => {
  await withCamera(async (canon) => {
    const run = await canon("ls", "--", "-R");
    assert.equal(run.code, 1, run.err);
    assert.match(run.err, /^canon ls: no file or directory \/-R on the camera's card$/m);
  });
});

Deno.test("libusb starts ahead of the command's modules only for a command that opens a real camera", () => {
  const early = [
    ["info"],
    ["--port", "usb:001,005", "ls", "-R"],
    ["--camera", "G3", "get", "--all"],
  ];
  for (const line of early) assert.equal(opensCameraAtOnce(line), true, line.join(" "));
  const notEarly = [
    ["--emulate", "info"],
    ["--emulate-usb", "G2", "info"],
    ["--emulate=G3", "ls"],
    ["info", "--help"],
    ["-h"],
    ["help", "info"],
    ["watch"],
    ["web"],
    ["udev-rules"],
    ["decode", "x.pcapng"],
    ["no-such-command"],
    ["--version"],
    [],
  ];
  for (const line of notEarly) assert.equal(opensCameraAtOnce(line), false, line.join(" "));
});
