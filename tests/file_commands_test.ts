// Class-6 set-attributes and delete as real bodies answer them: the EOS 20D
// answers set-attributes with status 0 and changes nothing (Protocol.xml); the
// 350D refuses delete and set-attributes with 0x00000086 (gphoto2 issue #92,
// pibooth issue #613). The library never reports success for a file that did
// not change, and says what the body does not support.
import assert from "node:assert/strict";
import { Camera, UnsupportedByCameraError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import type { MemoryCard } from "../src/emulator/card/memory_card.ts";

const FILE = "/DCIM/100CANON/IMG_0004.JPG";
const segments = FILE.split("/").filter(Boolean);

Deno.test("20D: set-attributes answers 'done' and nothing changes: UnsupportedByCameraError", async () => {
  const vc = new VirtualCamera({ model: "EOS 20D" });
  await using cam = await Camera.connect(vc);
  const before = (vc.card as MemoryCard).find(segments)!.attributes;
  const error = await cam.storage.setProtected(FILE, true).catch((e) => e);
  assert.ok(error instanceof UnsupportedByCameraError, String(error));
  assert.match(error.message, /EOS 20D does not support changing file attributes/);
  assert.match(error.message, /did not change/);
  assert.doesNotMatch(error.message, /keys/);
  assert.equal((vc.card as MemoryCard).find(segments)!.attributes, before);
  // Marking downloaded is best effort: false, and the file stays new.
  const listed = (await cam.storage.list("/DCIM/100CANON")).find((e) => e.path === FILE)!;
  if (!listed.downloaded) assert.equal(await cam.storage.markDownloaded(FILE), false);
  // Delete works on the 20D (Protocol.xml's delete reply: status 0), and is checked.
  await cam.storage.delete(FILE);
  assert.equal((vc.card as MemoryCard).find(segments), undefined);
});

Deno.test("350D: delete and set-attributes refused with 0x00000086: said plainly, nothing lost", async () => {
  const vc = new VirtualCamera({ model: "EOS 350D" });
  await using cam = await Camera.connect(vc);
  const del = await cam.storage.delete(FILE).catch((e) => e);
  assert.ok(del instanceof UnsupportedByCameraError, String(del));
  assert.equal(del.status, 0x00000086);
  assert.match(del.message, /EOS 350D does not support deleting files over USB/);
  assert.doesNotMatch(del.message, /keys were not locked/);
  assert.ok((vc.card as MemoryCard).find(segments));
  const attr = await cam.storage.setProtected(FILE, true).catch((e) => e);
  assert.ok(attr instanceof UnsupportedByCameraError);
  assert.match(attr.message, /changing file attributes/);
});

Deno.test("quirk off: the 350D deletes and the 20D sets attributes, each checked", async () => {
  for (const model of ["EOS 20D", "EOS 350D"]) {
    const vc = new VirtualCamera({ model, quirks: { fileCommandLimits: false } });
    await using cam = await Camera.connect(vc);
    await cam.storage.setProtected(FILE, true);
    assert.equal(
      (await cam.storage.list("/DCIM/100CANON")).find((e) => e.path === FILE)!.protected,
      true,
    );
    await cam.storage.setProtected(FILE, false);
    await cam.storage.delete(FILE);
    assert.equal((vc.card as MemoryCard).find(segments), undefined, model);
  }
});

Deno.test("a delete answered 'done' that leaves the file is not reported as done", async () => {
  // A G3 whose delete command is answered with status 0 but not carried out.
  const vc = new VirtualCamera({ model: "PowerShot G3" });
  await using cam = await Camera.connect(vc);
  vc.faults.inject({ kind: "status", status: 0 }, { command: { cmd1: 0x0d, cmd2: 0x11 } });
  const error = await cam.storage.delete(FILE).catch((e) => e);
  assert.ok(error instanceof UnsupportedByCameraError, String(error));
  assert.match(error.message, /still there/);
});
