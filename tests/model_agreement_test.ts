// The model table (src/protocol/models.ts), the virtual camera's models and
// gphoto2's camera list agree on names and ids.
//
// gphoto2 --list-cameras prints names but no ids, so ids are checked the way
// gphoto2 itself matches them: every product id of the table is plugged in at
// once (a virtual camera presenting that id, through umockdev) and
// `gphoto2 --auto-detect` must name each port with one of that model's names.
import assert from "node:assert/strict";
import { modelByName, MODELS, OTHER_MODE_IDS } from "../src/protocol/mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { EMULATED_MODELS } from "../src/emulator/engine/emulated_models.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { hasCommand, skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const noGphoto2 = skipWithout(await hasCommand("gphoto2"), "gphoto2");
const noUmockdev = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

/** gphoto2's names of a table entry: "Canon NAME", plus " (normal mode)" when it has a PTP mode. */
function gphoto2Names(model: (typeof MODELS)[number]): string[] {
  return [model.name, ...model.aliases].map((n) =>
    `Canon ${n}${model.hasPtpMode ? " (normal mode)" : ""}`
  );
}

async function gphoto2(args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command("gphoto2", {
    args,
    env: { ...env, LANG: "C" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** Plug one virtual camera per product id into a testbed and run `gphoto2 --auto-detect`. */
async function autoDetect(productIds: number[]): Promise<Map<number, string[]>> {
  using testbed = UmockdevTestbed.open();
  productIds.forEach((productId, i) => {
    testbed.attach(new VirtualCamera({ productId, card: false }).usbFunction, { address: 2 + i });
  });
  const out = await gphoto2(["--auto-detect"], testbed.env());
  const names = new Map<number, string[]>();
  productIds.forEach((productId, i) => {
    const port = `usb:001,${String(2 + i).padStart(3, "0")}`;
    names.set(
      productId,
      out.split("\n").filter((l) => l.includes(port)).map((l) => l.replace(port, "").trim()),
    );
  });
  return names;
}

Deno.test("every emulated model is in the model table with the same id, class and names", () => {
  for (const name of VirtualCamera.models) {
    const profile = EMULATED_MODELS[name];
    const entry = modelByName(name);
    assert.ok(entry, `${name} is not in the model table`);
    assert.equal(entry.name, profile.name);
    assert.deepEqual(entry.aliases, profile.aliases, name);
    assert.equal(entry.productId, profile.productId, name);
    assert.equal(entry.cameraClass, profile.cameraClass, name);
    assert.equal(new VirtualCamera({ model: name, card: false }).productId, entry.productId);
  }
});

Deno.test({
  name: "gphoto2 --list-cameras has every name and alias of the model table",
  ignore: noGphoto2,
  fn: async () => {
    const list = await gphoto2(["--list-cameras"]);
    const names = new Set([...list.matchAll(/^\t"(.*)"/gm)].map((m) => m[1]));
    const missing = MODELS.flatMap(gphoto2Names).filter((n) => !names.has(n));
    assert.deepEqual(missing, []);
  },
});

tier3Test({
  name: "gphoto2 --auto-detect names every product id of the table as the table does",
  ignore: noGphoto2 || noUmockdev,
  fn: async () => {
    const detected = await autoDetect(MODELS.map((m) => m.productId));
    for (const model of MODELS) {
      const got = detected.get(model.productId)!;
      assert.ok(
        got.some((name) => gphoto2Names(model).includes(name)),
        `0x${model.productId.toString(16)} ${model.name}: gphoto2 says ${JSON.stringify(got)}`,
      );
    }
  },
});

tier3Test({
  name: "gphoto2 takes none of the PTP-mode ids of supported cameras for a normal-mode camera",
  ignore: noGphoto2 || noUmockdev,
  fn: async () => {
    // The PTP twins of cameras in the table (the rest of OTHER_MODE_IDS are their successors).
    const twins = Object.entries(OTHER_MODE_IDS).filter(([, info]) =>
      info.mode === "ptp" && modelByName(info.name) !== undefined
    ).map(([id]) => Number(id));
    assert.ok(twins.length >= 8, `${twins.length} PTP twins`);
    const detected = await autoDetect(twins);
    const normalNames = new Set(MODELS.flatMap(gphoto2Names));
    let known = 0;
    for (const id of twins) {
      const got = detected.get(id)!;
      if (got.length > 0) known++;
      for (const name of got) {
        assert.ok(!normalNames.has(name), `0x${id.toString(16)} is ${name} to gphoto2`);
        assert.doesNotMatch(name, /\(normal mode\)/);
      }
    }
    // gphoto2's PTP driver does not know every camcorder id (MV630i, MV650i, Optura 300).
    assert.ok(known >= twins.length - 3, `${known} of ${twins.length} known to gphoto2`);
  },
});
