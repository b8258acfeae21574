// Tier 5: the `canon` command run as a user types it (a separate process per
// command), against the virtual camera: output, exit codes, JSON, progress
// on a terminal and not when piped, the wire recording and its decoding,
// the virtual camera behind the real libusb, and `watch` catching a camera
// that is plugged in while it waits.
import assert from "node:assert/strict";
import { join } from "node:path";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { udevRules } from "../src/camera/udev.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { hasCommand, skipWithout } from "./_support.ts";

const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

interface Run {
  code: number;
  out: string;
  err: string;
}

async function canon(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  return {
    code: output.code,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
  };
}

const noUmockdev = skipWithout(await hasCommand("umockdev-run", ["--version"]), "umockdev");
const noScript = skipWithout(await hasCommand("script", ["--version"]), "script (util-linux)");

Deno.test("canon --emulate info prints a summary of the virtual camera", async () => {
  const run = await canon(["--emulate", "info"]);
  assert.equal(run.code, 0, run.err);
  assert.match(run.out, /^Model:\s+Canon PowerShot G3$/m);
  assert.match(run.out, /^Owner:\s+Kiril$/m);
  assert.match(run.out, /^Firmware:\s+1\.0\.2\.0$/m);
  assert.match(run.out, /^Power:\s+AC adapter, power OK$/m);
  assert.match(run.out, /^Drive:\s+D:$/m);
  assert.match(run.out, /^Capacity:\s+128 MB \(128450560 bytes\)$/m);
  assert.match(run.out, /^Camera time:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
  assert.equal(run.err, "canon: using the virtual PowerShot G3 (in-process)\n");
  const json = await canon(["info", "--json", "--emulate", "EOS 20D"]);
  assert.equal(json.code, 0, json.err);
  const info = JSON.parse(json.out);
  assert.equal(info.model, "Canon EOS 20D");
  assert.equal(info.usbId, "04a9:30eb");
  assert.equal(info.cameraClass, 6);
  assert.equal(json.err, "", "nothing but JSON with --json");
});

Deno.test("canon ls and get: listing, download, progress quiet when piped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ls = await canon(["--emulate", "ls", "/DCIM/100CANON"]);
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /^#3\s+IMG_0002\.JPG\s+30357\s+2003-02-07 12:01:35\s+protected$/m);
    assert.match(ls.out, /^#1\s+CRW_0006\.CRW\s+524468\s+\S+ \S+\s+new$/m);
    assert.match(ls.out, /^9 files, 719 kB, 6 new$/m);
    const get = await canon(["--emulate", "get", "/DCIM/100CANON/CRW_0006.CRW", "-o", dir]);
    assert.equal(get.code, 0, get.err);
    assert.match(get.out, /^\/DCIM\/100CANON\/CRW_0006\.CRW -> .*CRW_0006\.CRW \(524 kB\)$/m);
    assert.equal((await Deno.stat(join(dir, "CRW_0006.CRW"))).size, 524468);
    assert.doesNotMatch(get.err, /\r|ETA/, "no progress when stderr is piped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "canon get draws progress on a terminal",
  ignore: noScript,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const command =
      `'${Deno.execPath()}' run --allow-all '${MAIN}' --emulate get --all --all-files -o '${dir}'`;
    const output = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const text = decoder.decode(output.stdout);
    assert.equal(output.code, 0, text);
    assert.match(
      text,
      /\rget \[14\/14\] AUTPRINT\.MRK .*\| total \d+% .*\/776 kB .*\/s ETA \d+:\d\d/,
    );
    assert.match(text, /14 files downloaded \(776 kB\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exit codes: usage 2, no camera 3, camera error 4; one-line messages", async () => {
  const unknown = await canon(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^canon: unknown command "frobnicate"\nRun canon --help/);
  const option = await canon(["--emulate", "ls", "--colour"]);
  assert.equal(option.code, 2);
  assert.match(
    option.err,
    /^canon ls: Unknown option '--colour'\nUsage: canon ls \[-R\] \[PATH\]/m,
  );
  const nowhere = await canon(["--port", "usb:250,127", "info"]);
  assert.equal(nowhere.code, 3, nowhere.err);
  assert.match(
    nowhere.err,
    /^canon info: no supported Canon camera with bus 250, address 127 was found/,
  );
  const refused = await canon(["--emulate", "rm", "/DCIM/100CANON/IMG_0002.JPG"]);
  assert.equal(refused.code, 4);
  const lines = refused.err.trim().split("\n");
  assert.equal(lines.length, 2, refused.err); // the emulator note and the error
  assert.match(lines[1], /^canon rm: DeleteFile failed: file protected/);
  const debug = await canon(["--emulate", "--debug", "rm", "/DCIM/100CANON/IMG_0002.JPG"]);
  assert.equal(debug.code, 4);
  assert.match(
    debug.err,
    /CameraStatusError: DeleteFile failed[^]*\n\s+at /,
    "--debug shows the stack",
  );
  assert.match(debug.err, /canon DEBUG 0000 /, "--debug dumps the wire");
  const json = await canon(["--emulate", "--json", "rm", "/DCIM/100CANON/IMG_0002.JPG"]);
  assert.equal(json.code, 4);
  const error = JSON.parse(json.err);
  assert.equal(error.type, "CameraStatusError");
  assert.equal(error.exitCode, 4);
});

Deno.test("canon --help documents commands, global options and exit codes", async () => {
  const run = await canon(["--help"]);
  assert.equal(run.code, 0);
  for (
    const command of [
      "cameras",
      "info",
      "ls",
      "get",
      "thumbs",
      "rm",
      "put",
      "mkdir",
      "rmdir",
      "protect",
      "owner",
      "clock",
      "capture",
      "settings",
      "preview",
      "watch",
      "decode",
      "udev-rules",
    ]
  ) {
    assert.match(run.out, new RegExp(`^  ${command}\\s`, "m"), command);
  }
  for (
    const option of [
      "--emulate",
      "--emulate-usb",
      "--camera",
      "--port",
      "--record",
      "--trace",
      "--debug",
      "--json",
      "--timeout",
      "--allow-unknown",
    ]
  ) {
    assert.ok(run.out.includes(option), option);
  }
  assert.match(run.out, /^ {2}3 {2}no camera/m);
  assert.match(run.out, /^ {2}4 {2}the camera or USB failed/m);
});

Deno.test("--record writes a capture that canon decode reads back", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "session.pcapng");
  try {
    const run = await canon(["--emulate", "--record", file, "--trace", "owner", "Ada"]);
    assert.equal(run.code, 0, run.err);
    const decoded = await canon(["decode", file]);
    assert.equal(decoded.code, 0, decoded.err);
    assert.match(decoded.err, /^decode: pcapng capture, device 1\.2, \d+ commands$/m);
    const live = run.err.split("\n").filter((l) => l.startsWith("canon INFO -->"))
      .map((l) => l.slice("canon INFO ".length));
    const commands = decoded.out.split("\n").filter((l) => l.startsWith("-->"));
    assert.equal(commands.length, live.length);
    commands.forEach((line, i) => assert.ok(line.startsWith(live[i]), `${line} | ${live[i]}`));
    assert.ok(decoded.out.includes('--> SetOwner (0x5, 0x12, 0x201) #3 "Ada"'), decoded.out);
    const json = JSON.parse((await canon(["decode", file, "--json"])).out);
    // setOwner identifies the camera again to check what it now holds.
    assert.deepEqual(json.commands.map((c: { name: string }) => c.name).slice(-2), [
      "SetOwner",
      "IdentifyCamera",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "--emulate-usb goes through libusb and umockdev, and records there too",
  ignore: noUmockdev,
}, async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "usb.pcapng");
  try {
    // Started without the preload library: the command restarts itself with it.
    const run = await canon(["--emulate-usb", "--record", file, "ls", "/DCIM/101CANON"], {
      LD_PRELOAD: "",
    });
    assert.equal(run.code, 0, run.err);
    assert.match(
      run.err,
      /using the virtual PowerShot G3 at usb:001,002 \(libusb through umockdev\)/,
    );
    assert.match(run.out, /^#8\s+IMG_0101\.JPG\s+27861 /m);
    const decoded = await canon(["decode", file]);
    assert.match(
      decoded.out,
      /^--> GetDirectory \(0xb, 0x11, 0x202\) #\d+ "D:\\DCIM\\101CANON" depth 0$/m,
    );
    // Every transfer is recorded, from the first: the camera's status byte.
    assert.match(decoded.out, /^control_read \(0xc, 0x55\) got 1 \(0x1\) b/m);
    // A camera connection does not read the string descriptors (two round trips saved).
    assert.doesNotMatch(decoded.out, /GET_DESCRIPTOR string/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "canon watch waits for a camera to be plugged in and downloads what is new",
  ignore: noUmockdev,
}, async () => {
  const dir = await Deno.makeTempDir();
  using testbed = UmockdevTestbed.open();
  await using vc = new VirtualCamera();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        MAIN,
        "watch",
        "--once",
        "--interval",
        "100",
        "-o",
        dir,
        "--json",
        // This process answers for the camera: give it time on a loaded machine.
        "--timeout",
        "20000",
      ],
      env: { ...testbed.env(), NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    await new Promise((resolve) => setTimeout(resolve, 700)); // the command is waiting by now
    testbed.attach(vc.usbFunction);
    const result = await output;
    const err = decoder.decode(result.stderr);
    assert.equal(result.code, 0, err);
    // The testbed was empty when the command started: it found the camera plugged in later.
    const lines = decoder.decode(result.stdout).trimEnd().split("\n");
    const report = JSON.parse(lines[lines.length - 1]);
    assert.equal(report.event, "summary");
    assert.equal(report.camera, "Canon PowerShot G3");
    assert.equal(report.downloaded.length, 6, "the new photos, not the housekeeping files");
    assert.equal(lines.length, 7, "a line per file as it completes, then the summary");
    assert.equal((await Deno.stat(join(dir, "IMG_0101.JPG"))).size, 27861);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "canon info and ls through libusb as a process of its own (libusb started ahead of the command)",
  ignore: noUmockdev,
  fn: async () => {
    using testbed = UmockdevTestbed.open();
    await using vc = new VirtualCamera();
    testbed.attach(vc.usbFunction);
    // This process answers for the camera: give it time on a loaded machine.
    const env = { ...testbed.env(), NO_COLOR: "1" };
    const info = await canon(["--timeout", "20000", "info"], env);
    assert.equal(info.code, 0, info.err);
    assert.match(info.out, /^Model:\s+Canon PowerShot G3$/m);
    assert.match(info.out, /^Port:\s+usb:001,\d{3}$/m);
    const port = /^Port:\s+(usb:\S+)$/m.exec(info.out)![1];
    const ls = await canon(["--port", port, "--timeout", "20000", "ls", "/DCIM/100CANON"], env);
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /IMG_0001\.JPG/);
  },
});

Deno.test("udev-rules prints the rules for every model; cameras --all lists the models", async () => {
  const rules = await canon(["udev-rules"]);
  assert.equal(rules.code, 0);
  assert.equal(rules.out, udevRules());
  assert.match(rules.out, /ATTR\{idVendor\}=="04a9", ATTR\{idProduct\}=="306e", MODE="0660"/);
  const models = await canon(["cameras", "--all", "--json"]);
  const list = JSON.parse(models.out);
  assert.ok(
    list.some((m: { name: string; usbId: string }) =>
      m.name === "PowerShot G3" && m.usbId === "04a9:306e"
    ),
  );
  const virtual = await canon(["--emulate", "cameras"]);
  assert.match(virtual.out, /^PowerShot G3\s+virtual\s+04a9:306e\s+normal$/m);
});

Deno.test("capture --download and clock --sync through the command", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const shot = await canon([
      "--emulate",
      "capture",
      "--download",
      "-o",
      dir,
      "--iso",
      "200",
      "--flash",
      "off",
    ]);
    assert.equal(shot.code, 0, shot.err);
    assert.match(shot.out, /^Captured \/DCIM\/\d{3}CANON\/(IMG_\d{4}\.JPG)\n-> .*\1 \(\d+ kB\)$/m);
    const clock = await canon(["--emulate", "clock", "--sync", "--json"]);
    assert.equal(clock.code, 0, clock.err);
    const time = JSON.parse(clock.out);
    assert.ok(Math.abs(time.offsetSeconds) <= 2, clock.out);
    assert.equal(typeof time.driftBeforeSyncSeconds, "number");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
