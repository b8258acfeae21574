// The time-lapse schedule on a clock of its own: shots due at start + n ×
// interval, a late shot taken at once without a burst after it, --until,
// one failure survived, three in a row the end, an abort.
import assert from "node:assert/strict";
import { parseInterval, parseUntil, runTimelapse } from "../src/cli/timelapse.ts";

function fakeClock() {
  let t = 1_000_000;
  return {
    now: () => t,
    sleep: (ms: number) => {
      t += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => t += ms,
  };
}

Deno.test("shots are due at start + n × interval; a slow shot does not cause a burst", async () => {
  const clock = fakeClock();
  const taken: number[] = [];
  const result = await runTimelapse({ interval: 10_000, frames: 4 }, {
    now: clock.now,
    sleep: clock.sleep,
    shoot(frame) {
      taken.push(clock.now() - 1_000_000);
      clock.advance(frame === 2 ? 14_000 : 3_000); // shot 2 takes longer than the interval
      return Promise.resolve();
    },
    failed: () => assert.fail("no failure"),
  });
  assert.deepEqual(taken, [0, 10_000, 24_000, 30_000]);
  assert.deepEqual(result, { saved: 4, failed: 0, stopped: "frames", elapsed: 33_000 });
});

Deno.test("--until ends the series; one failure is survived, three in a row end it", async () => {
  const clock = fakeClock();
  const until = new Date(1_000_000 + 25_000);
  const frames: number[] = [];
  const result = await runTimelapse({ interval: 10_000, until }, {
    now: clock.now,
    sleep: clock.sleep,
    shoot: (frame) => {
      frames.push(frame);
      return frame === 2 ? Promise.reject(new Error("autofocus")) : Promise.resolve();
    },
    failed: (frame, error) => assert.equal(`${frame} ${(error as Error).message}`, "2 autofocus"),
  });
  assert.deepEqual(frames, [1, 2, 3]);
  assert.equal(result.stopped, "until");
  assert.equal(result.saved, 2);
  assert.equal(result.failed, 1);
  const failing = await runTimelapse({ interval: 1000, frames: 10 }, {
    now: clock.now,
    sleep: clock.sleep,
    shoot: () => Promise.reject(new Error("gone")),
    failed: () => {},
  });
  assert.deepEqual([failing.saved, failing.failed, failing.stopped], [0, 3, "failures"]);
  const abort = new AbortController();
  const stopped = await runTimelapse({ interval: 1000, frames: 10 }, {
    now: clock.now,
    sleep: clock.sleep,
    signal: abort.signal,
    shoot: (frame) => {
      if (frame === 2) abort.abort();
      return Promise.resolve();
    },
    failed: () => {},
  });
  assert.deepEqual([stopped.saved, stopped.stopped], [2, "aborted"]);
});

Deno.test("--interval and --until as people write them", () => {
  assert.equal(parseInterval("10s"), 10_000);
  assert.equal(parseInterval("10"), 10_000, "a number: seconds, as gphoto2's --interval");
  assert.equal(parseInterval("500ms"), 500);
  assert.equal(parseInterval("2m"), 120_000);
  assert.equal(parseInterval("1.5h"), 5_400_000);
  assert.throws(() => parseInterval("10 parsecs"), /--interval wants/);
  assert.throws(() => parseInterval("50ms"), /at least 100ms/);
  const now = new Date(2024, 5, 1, 18, 0, 0);
  assert.deepEqual(parseUntil("18:30", now), new Date(2024, 5, 1, 18, 30, 0));
  assert.deepEqual(parseUntil("07:00", now), new Date(2024, 5, 2, 7, 0, 0), "the next 07:00");
  assert.deepEqual(parseUntil("2024-06-03 09:15", now), new Date(2024, 5, 3, 9, 15, 0));
  assert.throws(() => parseUntil("2024-02-30 09:15", now), /not a date and time/);
  assert.throws(() => parseUntil("2024-05-30 09:15", now), /already past/);
  assert.throws(() => parseUntil("25:00", now), /not a date and time/);
});
