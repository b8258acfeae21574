// Replies wanted whole (the drive name, a listing, a thumbnail, a small
// file) are joined without a web stream: the first stream a process makes
// cost `canon info` about 2.5 ms before its first card command, and a
// thumbnail made one per picture. What a user would notice: the same bytes,
// the same errors, and no stream made on the way.
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { replyBytes } from "../src/protocol/mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";

Deno.test("replyBytes copies each lent chunk and joins them in order", async () => {
  const lent = new Uint8Array(3);
  const bytes = await replyBytes(async (sink) => {
    for (const part of [[1, 2, 3], [4, 5, 6], [7]]) {
      lent.set(part);
      await sink(lent.subarray(0, part.length));
    }
  });
  assert.deepEqual([...bytes], [1, 2, 3, 4, 5, 6, 7]);
  lent.fill(0);
  assert.deepEqual([...bytes], [1, 2, 3, 4, 5, 6, 7], "the result is not the producer's buffer");
});

Deno.test("replyBytes rejects with the producer's error", async () => {
  const failure = new Error("the camera stopped sending");
  await assert.rejects(
    replyBytes(async (sink) => {
      await sink(Uint8Array.of(1));
      throw failure;
    }),
    (error) => error === failure,
  );
});

Deno.test("info, a listing, a thumbnail and a small file make no web stream", async () => {
  await using vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  const Original = globalThis.ReadableStream;
  let made = 0;
  globalThis.ReadableStream = class extends Original<unknown> {
    constructor(...args: ConstructorParameters<typeof Original<unknown>>) {
      super(...args);
      made++;
    }
  } as typeof ReadableStream;
  try {
    const card = await cam.storage.info();
    assert.ok(card.capacity > 0 && card.drive.length > 0);
    const files = (await cam.storage.list("/", { recursive: true })).filter((e) =>
      !e.isDirectory && /\.JPG$/i.test(e.name)
    );
    assert.ok(files.length > 0, "the virtual card has pictures");
    const thumb = await cam.storage.thumbnail(files[0].path);
    assert.deepEqual([...thumb.subarray(0, 2)], [0xff, 0xd8], "a JPEG");
    const whole = await cam.storage.read(files[0].path);
    assert.equal(whole.length, files[0].size);
    assert.equal(made, 0, `${made} ReadableStream(s) made`);
    // The streaming call still streams.
    const stream = cam.storage.open(files[0].path);
    let streamed = 0;
    for await (const chunk of stream) streamed += chunk.length;
    assert.equal(streamed, files[0].size);
    assert.ok(made > 0, "the count sees streams");
  } finally {
    globalThis.ReadableStream = Original;
  }
});
