// Tier 2 through the command: `canon clock` refuses dates that do not exist
// instead of rolling them over, and prints offsets as people read them.
import assert from "node:assert/strict";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { clockOffset, describeOffset } from "../src/cli/camera_commands.ts";
import { connectVirtual } from "../src/cli/connect.ts";
import { main } from "../src/cli/main.ts";

async function canon(vc: VirtualCamera, ...args: string[]) {
  let out = "";
  let err = "";
  const code = await main(args, {
    io: { write: (t) => out += t, writeError: (t) => err += t, errorIsTerminal: false },
    connect: (selection) => connectVirtual(selection, vc),
  });
  return { code, out, err };
}

Deno.test("clock --set refuses impossible dates and leaves the clock alone", async () => {
  await using vc = new VirtualCamera({ clockOffsetSeconds: 0 });
  for (
    const [text, why] of [
      ["2024-13-01 10:00", /no month 13/],
      ["2024-02-30 10:00", /February 2024 has no day 30 \(it has 29\)/],
      ["2023-02-29 10:00", /February 2023 has no day 29 \(it has 28\)/],
      ["2024-04-31 10:00", /April 2024 has no day 31/],
      ["2024-00-10 10:00", /no month 0/],
      ["2024-05-00 10:00", /has no day 0/],
      ["2024-05-10 24:00", /24:00 is not a time of day/],
      ["2024-05-10 12:60:00", /12:60:00 is not a time of day/],
    ] as const
  ) {
    const run = await canon(vc, "clock", "--set", text);
    assert.equal(run.code, 2, `${text}: ${run.err}`);
    assert.match(run.err, why, text);
    assert.ok(
      Math.abs(vc.cameraTime() - (Date.now() / 1000 - new Date().getTimezoneOffset() * 60)) < 3,
    );
  }
  const leap = await canon(vc, "clock", "--set", "2024-02-29 23:59:59", "--json");
  assert.equal(leap.code, 0, leap.err);
  assert.equal(JSON.parse(leap.out).time.slice(0, 16), "2024-02-29 23:59");
});

Deno.test("clock prints the offset as people read it", async () => {
  for (
    const [offset, text] of [
      [3600, "1 h ahead of this computer"],
      [-3600, "1 h behind this computer"],
      [5400, "1 h 30 min ahead"],
      [90, "1 min 30 s ahead"],
      [20, "20 s ahead"],
      [0, "in step with this computer"],
      [400_000_000, "12 years 247 days ahead"],
      [3 * 86400 + 4 * 3600, "3 days 4 h ahead"],
    ] as const
  ) {
    await using vc = new VirtualCamera({ clockOffsetSeconds: offset });
    // Read in the middle of the host's second: a reading on a second's very
    // first millisecond is a tie (see clockOffset) and could say 21 s for 20.
    await new Promise((r) => setTimeout(r, (1500 - Date.now() % 1000) % 1000));
    const run = await canon(vc, "clock");
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, new RegExp(`\\(${text}`), `offset ${offset}: ${run.out}`);
    assert.doesNotMatch(run.out, /59 min 59 s|\d{4,}\.\d h/);
  }
  assert.equal(describeOffset(86400), "1 day ahead of this computer");
  assert.equal(describeOffset(-2 * 365.25 * 86400), "2 years behind this computer");
});

Deno.test("clock offset: a whole-second reading taken at any point of the host's second", () => {
  const second = Date.UTC(2026, 11, 2, 18, 19, 22);
  for (const into of [1, 250, 500, 750, 999]) {
    const now = second + into; // the host's clock just after the reply
    // The camera's reading, cut down to its second, 1 ms before that.
    const read = (offset: number) => new Date(Math.floor((now - 1 + offset * 1000) / 1000) * 1000);
    assert.equal(clockOffset(read(20), now), 20, `${into} ms into the second`);
    assert.equal(clockOffset(read(-3600), now), -3600, `${into} ms into the second`);
    assert.equal(clockOffset(read(0), now), 0, `${into} ms into the second`);
  }
});
