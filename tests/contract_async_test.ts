// Contract: async methods reject, never throw (issue 13, point 3).
//
// Every public method of Camera, Storage and Capture (and the stay in remote
// mode that cam.capture.start() hands out) is called
// with bad input, on a live camera where it takes input and on a closed one,
// and must hand back a promise (or an async iterable) that rejects: a caller
// using `.catch()` or `Promise.allSettled` sees the error. A method added to
// one of the classes without an entry below fails the coverage test.
import assert from "node:assert/strict";
import { Camera, Capture, Storage } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";

type Call = (target: never) => unknown;

/** Bad input for each method; `null` for a method that has no input to get wrong. */
const CAMERA: Record<string, Call | null> = {
  identify: null,
  setOwner: (c: Camera) => c.setOwner("x".repeat(200)),
  powerStatus: null,
  time: null,
  setTime: (c: Camera) => c.setTime(new Date(Number.NaN)),
  syncClock: null,
  bodyId: null,
  lockKeys: null,
  unlockKeys: null,
  customFunctions: null,
  pictureAbilities: null,
  close: null,
};
const STORAGE: Record<string, Call | null> = {
  info: null,
  list: (s: Storage) => s.list("/A*B"),
  walk: (s: Storage) => s.walk("/A*B"),
  download: (s: Storage) => s.download("/", "/nonexistent-dir/x"),
  read: (s: Storage) => s.read("/A*B"),
  thumbnail: (s: Storage) => s.thumbnail("/"),
  delete: (s: Storage) => s.delete("/"),
  setProtected: (s: Storage) => s.setProtected("/A*B", true),
  markDownloaded: (s: Storage) => s.markDownloaded("/"),
  mkdir: (s: Storage) => s.mkdir("/"),
  rmdir: (s: Storage) => s.rmdir("/"),
  stat: (s: Storage) => s.stat("/A*B"),
  open: (s: Storage) => s.open("/A*B"),
  upload: (s: Storage) => s.upload(new Uint8Array(4), "/A*B", { name: "A*B.JPG" }),
};
const CAPTURE: Record<string, Call | null> = {
  start: null,
  stop: null,
  settings: null,
  choices: null,
  set: (c: Capture) => c.set({ iso: 7 as never }),
  shoot: null,
  preview: null,
  previews: null,
  remainingShots: null,
};

function publicMethods(type: { prototype: object }): string[] {
  return Object.getOwnPropertyNames(type.prototype).filter((name) =>
    name !== "constructor" &&
    typeof Object.getOwnPropertyDescriptor(type.prototype, name)?.value === "function"
  ).sort();
}

/** Call `body` and see how it failed: "threw" synchronously, or "rejected", or "resolved". */
async function outcome(body: () => unknown): Promise<"threw" | "rejected" | "resolved"> {
  let result: unknown;
  try {
    result = body();
  } catch {
    return "threw";
  }
  try {
    if (result && typeof result === "object" && Symbol.asyncIterator in result) {
      const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      await iterator.next();
      await iterator.return?.();
    } else {
      assert.ok(result instanceof Promise, "returns a promise");
      await result;
    }
    return "resolved";
  } catch {
    return "rejected";
  }
}

function call(table: Record<string, Call | null>, name: string, target: object): () => unknown {
  const bad = table[name];
  const method = (target as Record<string, (...a: unknown[]) => unknown>)[name];
  return bad ? () => bad(target as never) : () => method.call(target);
}

Deno.test("contract: every public method of Camera, Storage, Capture is listed", () => {
  assert.deepEqual(publicMethods(Camera), Object.keys(CAMERA).sort());
  assert.deepEqual(publicMethods(Storage), Object.keys(STORAGE).sort());
  assert.deepEqual(publicMethods(Capture), Object.keys(CAPTURE).sort());
});

Deno.test("contract: bad input to a live camera rejects, it never throws", async () => {
  await using cam = await Camera.connect(new VirtualCamera());
  const tables: [Record<string, Call | null>, object][] = [
    [CAMERA, cam],
    [STORAGE, cam.storage],
    [CAPTURE, cam.capture],
  ];
  for (const [table, target] of tables) {
    for (const [name, bad] of Object.entries(table)) {
      if (!bad) continue;
      assert.equal(await outcome(call(table, name, target)), "rejected", name);
    }
  }
  await using _remote = await cam.capture.start();
  assert.equal(
    await outcome(() => cam.capture.set({ shutterSpeed: "1/3333" as never })),
    "rejected",
    "set in remote mode",
  );
  // The camera is still usable after all that.
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
});

Deno.test("contract: every method of a closed camera rejects, none throws", async () => {
  const cam = await Camera.connect(new VirtualCamera());
  const remote = await cam.capture.start();
  const storage = cam.storage;
  const capture = cam.capture;
  await cam.close();
  const tables: [string, Record<string, Call | null>, object][] = [
    ["camera", CAMERA, cam],
    ["storage", STORAGE, storage],
    ["capture", CAPTURE, capture],
  ];
  for (const [label, table, target] of tables) {
    for (const name of Object.keys(table)) {
      const got = await outcome(call(table, name, target));
      // Closing twice and leaving remote mode twice are allowed to succeed.
      const expected = name === "close" || name === "stop" ? ["resolved", "rejected"] : [
        "rejected",
      ];
      assert.ok(expected.includes(got), `${label}.${name}: ${got}`);
    }
  }
  // Leaving remote mode on a closed camera (close already left it) resolves or rejects, never throws.
  for (const leave of [() => remote.stop(), () => remote[Symbol.asyncDispose]()]) {
    assert.ok(["resolved", "rejected"].includes(await outcome(leave)));
  }
});
