// The errors a user meets first, each with the exact words that tell them
// what to do: libusb not installed, --allow-ffi missing, no permission on the
// device node (the udev rule), the camera held by another program (gvfs,
// gphoto2), the camera in PTP mode, and the camera switched off mid-session.
// Child processes do what needs a process of its own (another library
// loader, another user, a second program holding the camera).
import assert from "node:assert/strict";
import { chmod } from "node:fs/promises";
import { Camera, CameraClosedError, CameraNotFoundError, UsbError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { ACCESS_HINT, BUSY_HINT } from "../src/usb/errors.ts";
import { hasCommand, skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const ignoreTier3 = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const CAMERA_MODULE = import.meta.resolve("../src/camera/camera.ts");
const DEVICE_MODULE = import.meta.resolve("../src/usb/discovery.ts");

/** A script that opens the camera and prints what happened as JSON. */
const OPEN_AND_REPORT = `
import { Camera } from "${CAMERA_MODULE}";
try {
  await using cam = await Camera.open({ timeout: 1000 });
  console.log(JSON.stringify({ ok: true, model: cam.modelName }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e.name, code: e.code, message: e.message, hint: e.hint }));
}
`;

interface Report {
  ok: boolean;
  model?: string;
  name?: string;
  code?: string;
  message?: string;
  hint?: string;
}

async function runScript(
  script: string,
  flags: string[],
  env: Record<string, string>,
  wrap: string[] = [],
): Promise<Report> {
  const deno = Deno.execPath();
  const [command, ...prefix] = wrap.length ? [...wrap, deno] : [deno];
  const child = new Deno.Command(command, {
    args: [...prefix, "run", "--no-prompt", "--no-check", ...flags, "-"],
    env: { NO_COLOR: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  assert.ok(stdout, `no output; stderr: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(stdout.split("\n").at(-1)!);
}

const NO_UMOCKDEV = { LD_PRELOAD: "", UMOCKDEV_DIR: "" };

Deno.test("libusb not installed: the error names what was tried and the package to install", async () => {
  // Every candidate fails to load, as on a system without libusb-1.0.
  const script = `
Deno.dlopen = (name) => {
  throw new Error(\`Could not open library: \${name}: cannot open shared object file: No such file or directory\`);
};
${OPEN_AND_REPORT}`;
  const report = await runScript(script, ["--allow-ffi"], NO_UMOCKDEV);
  assert.equal(report.ok, false);
  assert.equal(report.name, "LibusbNotFoundError");
  assert.equal(
    report.message,
    "libusb-1.0 could not be loaded (tried: libusb-1.0.so.0, libusb-1.0.so). " +
      "Install libusb-1.0: Debian/Ubuntu `sudo apt-get install libusb-1.0-0`, " +
      "Fedora `sudo dnf install libusb1`, Arch `sudo pacman -S libusb`; " +
      "or set CANON_LIBUSB_PATH to the library's path.",
  );
});

Deno.test("--allow-ffi missing: Camera.open says which flag to add", async () => {
  const report = await runScript(OPEN_AND_REPORT, [], NO_UMOCKDEV);
  assert.equal(report.ok, false);
  assert.equal(report.name, "FfiPermissionError");
  assert.equal(
    report.message,
    "canon-remote drives USB through libusb-1.0 and needs FFI access: run with --allow-ffi " +
      "(and --allow-env=CANON_LIBUSB_PATH,CANON_LIBUSB_DEBUG to use those variables)",
  );
});

const canSwitchUser = (await hasCommand("setpriv", ["--version"])) && Deno.uid() === 0;

tier3Test({
  name: "no permission on the device node: LIBUSB_ERROR_ACCESS with the udev-rule hint",
  ignore: ignoreTier3 || !canSwitchUser,
  async fn() {
    // A non-root client (user nobody) and a device node only root may open,
    // as on a desktop without the udev rule.
    const denoDir = await Deno.makeTempDir({ prefix: "canon-nobody-deno-" });
    await chmod(denoDir, 0o777);
    try {
      using testbed = UmockdevTestbed.open();
      const device = testbed.attach(new VirtualCamera().usbFunction);
      // The testbed is private to root: let the client see sysfs, make its udev
      // monitor socket, and reach umockdev's ioctl socket; only the node is root's.
      await chmod(testbed.root, 0o1777);
      for (const dir of ["/dev", "/dev/bus", "/dev/bus/usb", "/dev/bus/usb/001"]) {
        await chmod(testbed.root + dir, 0o755);
      }
      await chmod(`${testbed.root}/ioctl${device.devnode}`, 0o777);
      await chmod(testbed.root + device.devnode, 0o600);
      const report = await runScript(
        OPEN_AND_REPORT,
        ["--allow-ffi"],
        { ...testbed.env(), DENO_DIR: denoDir, HOME: denoDir },
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"],
      );
      assert.equal(report.ok, false, JSON.stringify(report));
      assert.equal(report.name, "UsbError");
      assert.equal(report.code, "ACCESS", report.message);
      assert.equal(
        report.message,
        "opening the device failed on USB device 001/002 (04a9:306e) (LIBUSB_ERROR_ACCESS). " +
          ACCESS_HINT,
      );
      assert.match(report.hint!, /udev rule/);
    } finally {
      await Deno.remove(denoDir, { recursive: true });
    }
  },
});

tier3Test({
  name: "the camera held by another program: LIBUSB_ERROR_BUSY naming gvfs and gphoto2",
  ignore: ignoreTier3,
  async fn() {
    const vc = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    const device = testbed.attach(vc.usbFunction);
    // Another program: opens the camera, claims its interface, and holds it until killed.
    const holder = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--no-check", "--allow-ffi", "-"],
      env: { NO_COLOR: "1", ...testbed.env() },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const input = holder.stdin.getWriter();
    await input.write(new TextEncoder().encode(`
import { openUsbDevice } from "${DEVICE_MODULE}";
const device = await openUsbDevice({ bus: ${device.bus}, address: ${device.address} });
await device.open();
await device.claimInterface(0);
console.log("claimed");
await new Promise((resolve) => setTimeout(resolve, 20_000));
await device.close();
`));
    await input.close(); // deno reads the whole script before running it
    const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      const first = await reader.read();
      assert.equal(first.value?.trim(), "claimed");
      await assert.rejects(() => Camera.open({ timeout: 1000 }), (e: Error) => {
        assert.ok(e instanceof UsbError, String(e));
        assert.equal(e.code, "BUSY");
        assert.equal(
          e.message,
          "claiming interface 0 failed on USB device 001/002 (04a9:306e) (LIBUSB_ERROR_BUSY). " +
            BUSY_HINT,
        );
        assert.match(e.message, /gvfs-gphoto2-volume-monitor/);
        assert.match(e.message, /a running gphoto2/);
        return true;
      });
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
      await reader.cancel();
      await holder.stderr.cancel();
    }
    // Once the other program is gone, the camera opens.
    await using cam = await Camera.open({ timeout: 1000 });
    assert.equal(cam.modelName, "Canon PowerShot G3");
  },
});

const PTP_MESSAGE =
  /the PowerShot G3 \(0x4a9:0x306f\) is in PTP mode, which this library does not speak/;

Deno.test("a camera in PTP mode is refused with how to switch its USB mode", async () => {
  const vc = new VirtualCamera({ productId: 0x306f });
  await assert.rejects(() => Camera.connect(vc), (e: Error) => {
    assert.ok(e instanceof CameraNotFoundError, String(e));
    assert.match(e.message, PTP_MESSAGE);
    assert.match(e.message, /Switch the camera's USB mode to normal/);
    return true;
  });
  assert.equal(vc.commandLog.length, 0, "nothing was sent to it");
});

tier3Test({
  name: "tier 3: a camera in PTP mode is found, named, and refused with the hint",
  ignore: ignoreTier3,
  async fn() {
    using testbed = UmockdevTestbed.open();
    testbed.attach(new VirtualCamera({ productId: 0x306f }).usbFunction);
    await assert.rejects(() => Camera.open(), (e: Error) => {
      assert.ok(e instanceof CameraNotFoundError, String(e));
      assert.match(e.message, /PowerShot G3 \(0x306f\) at bus 1 address 2, ptp mode/);
      assert.match(e.message, /The PowerShot G3 is in PTP mode: switch its USB mode to normal/);
      return true;
    });
  },
});

tier3Test({
  name: "tier 3: the camera switched off mid-session: CameraClosedError, then it opens again",
  ignore: ignoreTier3,
  async fn() {
    const vc = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const cam = await Camera.open({ timeout: 500 });
    assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
    vc.unplug(); // switched off
    const start = performance.now();
    await assert.rejects(() => cam.powerStatus(), (e: Error) => {
      assert.ok(e instanceof CameraClosedError, String(e));
      assert.match(
        e.message,
        /^control_write \(0x4, 0x10, 80 b\): the camera was disconnected \(unplugged or switched off\)\. Reconnect it and open it again$/,
      );
      return true;
    });
    assert.ok(performance.now() - start < 1000);
    assert.equal(cam.closed, true);
    await assert.rejects(() => cam.identify(), CameraClosedError);
    await cam.close();
    // Switched on again: it enumerates anew, and a new session wakes it up.
    vc.replug();
    testbed.attach(vc.usbFunction);
    await using again = await Camera.open({ timeout: 500 });
    assert.equal(again.wokenUp, true);
    assert.equal((await again.identify()).modelName, "Canon PowerShot G3");
  },
});
