// What one model does differently from its class lives in the model table
// (issue 13, point 11): `traitsOf(model)` lays the model's quirks over its
// class's traits, and the client decides by those traits alone, never by a
// product id or a model name.
import assert from "node:assert/strict";
import { Camera, type CameraModel } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { modelByName, MODELS, SHARED_ID_MODELS } from "../src/protocol/models.ts";
import { CLASS_TRAITS, traitsOf } from "../src/protocol/traits.ts";

const G3 = modelByName("PowerShot G3")!;
const OTHER_ID = 0x31fe; // no Canon camera uses it

/** What a user sees of the G3's two quirks: its abilities table and its ISO limits. */
async function observe(model: CameraModel, productId: number) {
  const vc = new VirtualCamera({ productId, captureLatencyMs: 5 });
  await using cam = await Camera.connect(vc, { model, timeout: 1000 });
  const abilities = await cam.pictureAbilities().then(
    (table) => table.entries.length,
    (error: Error) => error.message,
  );
  await using _remote = await cam.capture.start();
  const { iso } = await cam.capture.choices();
  return { abilities, iso };
}

Deno.test("a made-up model with the G3's quirks under another id behaves like the G3", async () => {
  const twin: CameraModel = { ...G3, name: "Test twin", productId: OTHER_ID };
  const seen = await observe(twin, OTHER_ID);
  assert.ok(typeof seen.abilities === "number" && seen.abilities > 0, `${seen.abilities}`);
  assert.deepEqual(seen.iso, [50, 100, 200, 400]);
});

Deno.test("the G3's own id without its quirks is driven as a plain class-5 camera", async () => {
  const plain: CameraModel = { ...G3, name: "Test plain", quirks: undefined };
  const seen = await observe(plain, G3.productId);
  assert.equal(seen.abilities, "the Test plain answers no picture-abilities table");
  assert.ok(seen.iso.includes(800) && seen.iso.includes(3200), `${seen.iso}`);
});

Deno.test("traitsOf lays quirks over the class: capture rules merge, the rest replaces", () => {
  const eos300d = modelByName("EOS 300D")!;
  const d60 = modelByName("EOS D60")!;
  assert.deepEqual(traitsOf(d60).captureRules, CLASS_TRAITS[4].captureRules);
  assert.deepEqual(traitsOf(eos300d).captureRules, {
    doneOnFinished: false, // the class's, kept
    doneOnDescriptors: true,
    doneOnCardWrite: true,
    cardWriteAnyStep: false,
  });
  assert.equal(traitsOf(modelByName("EOS 10D")!).captureRules.doneOnCardWrite, true);
  assert.equal(traitsOf(modelByName("EOS 10D")!).captureRules.doneOnDescriptors, false);
  // A model without quirks gets its class's record itself.
  assert.equal(traitsOf(d60), CLASS_TRAITS[4]);
  assert.equal(traitsOf({ ...eos300d, quirks: undefined }), CLASS_TRAITS[4]);
  // The 20D names its custom functions from its own table; the other class-6 bodies by number.
  assert.equal(traitsOf(modelByName("EOS 20D")!).customFunctionNames.length, 18);
  assert.deepEqual(traitsOf(modelByName("EOS 350D")!).customFunctionNames, []);
  assert.equal(traitsOf(modelByName("EOS D30")!).bodyIdFormat, "d30");
  assert.equal(traitsOf(d60).bodyIdFormat, "decimal");
});

Deno.test("gphoto2's name rule for the EOS exposure codes holds for every model of the table", () => {
  for (const model of [...MODELS, ...SHARED_ID_MODELS]) {
    assert.equal(traitsOf(model).eos, /EOS|Rebel/.test(model.name), model.name);
  }
});

// The client side: no file of src/camera/ and no codec decides by a product id
// or a model name. Comments may name models; code may not.
const PRODUCT_ID = /\b0x3[01][0-9a-f]{2}\b/i;
const MODEL_NAME_REGEX =
  /\/[^/\n]*\b(EOS|Rebel|PowerShot|IXUS|IXY|G\d|\d+D)\b[^/\n]*\/[a-z]*\.test\(/;
const NAME_TEST =
  /\b(modelInfo|model)\.(name|productId)\s*(===|!==|==|!=)|\.name\.(includes|match|startsWith|endsWith)\(/;

async function clientFiles(): Promise<string[]> {
  const root = new URL("../src/", import.meta.url);
  const out: string[] = [];
  async function walk(dir: URL, rel: string, keep: (path: string) => boolean) {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${rel}${entry.name}`;
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir), `${path}/`, keep);
      else if (entry.name.endsWith(".ts") && keep(path)) out.push(path);
    }
  }
  await walk(new URL("camera/", root), "camera/", () => true);
  // The protocol layer's tables (models.ts, traits.ts) are where the quirks belong.
  await walk(
    new URL("protocol/", root),
    "protocol/",
    (path) => !/^protocol\/(models|traits)\.ts$/.test(path),
  );
  return out.sort();
}

function code(text: string): string[] {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").split("\n").map((line) =>
    line.replace(/(^|\s)\/\/.*$/, "")
  );
}

Deno.test("no product id or model-name test in src/camera/ or the protocol codecs", async () => {
  const files = await clientFiles();
  assert.ok(files.includes("camera/capture.ts") && files.includes("protocol/session.ts"));
  const found: string[] = [];
  for (const file of files) {
    const lines = code(await Deno.readTextFile(new URL(`../src/${file}`, import.meta.url)));
    for (const line of lines) {
      if (PRODUCT_ID.test(line) || MODEL_NAME_REGEX.test(line) || NAME_TEST.test(line)) {
        found.push(`src/${file}: ${line.trim()}`);
      }
    }
  }
  assert.deepEqual(found, []);
});

Deno.test("the scan sees what it looks for", () => {
  const hits = (text: string) =>
    code(text).filter((l) => PRODUCT_ID.test(l) || MODEL_NAME_REGEX.test(l) || NAME_TEST.test(l));
  assert.equal(hits("const G3_PRODUCT_ID = 0x306e;").length, 1);
  assert.equal(hits("if (/20D/.test(host.modelInfo.name)) x();").length, 1);
  assert.equal(hits("return /EOS|Rebel/.test(modelName);").length, 1);
  assert.equal(hits("if (model.productId === id) x();").length, 1);
  assert.equal(hits("// the G3 (0x306e) answers it").length, 0);
  assert.equal(hits("/**\n * PowerShot G3 (0x306e)\n */").length, 0);
  assert.equal(hits("if (DCF_FOLDER.test(e.name)) x();").length, 0);
});
