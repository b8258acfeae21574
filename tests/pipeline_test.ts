// The backend-independent pipeline (src/usb/pipeline.ts) with a scripted
// backend: order, short transfers, failures, aborts and transfers that never end.
import assert from "node:assert/strict";
import { inResultBytes, type UsbInResult } from "../src/usb/device.ts";
import { UsbError } from "../src/usb/errors.ts";
import {
  type PendingTransfer,
  pipelineReads,
  type TransferEnd,
  type TransferSubmitter,
} from "../src/usb/pipeline.ts";

/** A transfer the test ends by hand. */
interface Scripted {
  length: number;
  cancelled: boolean;
  end(end: TransferEnd): void;
}

/** A backend whose transfers end only when the test says so (or on cancel, when `cancellable`). */
class ScriptedBackend implements TransferSubmitter {
  readonly submitted: Scripted[] = [];
  maxInFlight = 0;
  closed: boolean | undefined;
  #open = 0;

  /** Transfers given up on through `abandon` (tracking backends only). */
  abandoned = 0;

  /**
   * @param cancellable a cancel ends the transfer
   * @param tracking submit at once and offer `ended` and `abandon`, as the
   *   libusb backend does (the pipeline then makes no promise of its own)
   */
  constructor(readonly cancellable = true, readonly tracking = false) {}

  submit(length: number): PendingTransfer | Promise<PendingTransfer> {
    let resolve!: (end: TransferEnd) => void;
    const done = new Promise<TransferEnd>((r) => resolve = r);
    let ended = false;
    const scripted: Scripted = {
      length,
      cancelled: false,
      end: (end) => {
        if (ended) return;
        ended = true;
        this.#open--;
        resolve(end);
      },
    };
    this.submitted.push(scripted);
    this.#open++;
    this.maxInFlight = Math.max(this.maxInFlight, this.#open);
    const pending: PendingTransfer = {
      done,
      cancel: () => {
        scripted.cancelled = true;
        if (this.cancellable) scripted.end({ status: "cancelled", data: bytes(0) });
        return Promise.resolve();
      },
    };
    if (!this.tracking) return Promise.resolve(pending);
    return {
      ...pending,
      get ended() {
        return ended;
      },
      abandon: (end) => {
        this.abandoned++;
        scripted.end(end);
      },
    };
  }

  close(leaked: boolean): void {
    this.closed = leaked;
  }
}

function bytes(n: number, fill = 1): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/**
 * Register a test twice: with a backend the pipeline wraps (a promise per
 * transfer) and with one that tracks its transfers itself.
 */
function bothBackends(
  name: string,
  body: (make: (cancellable?: boolean) => ScriptedBackend, tracking: boolean) => Promise<void>,
): void {
  for (const tracking of [false, true]) {
    Deno.test(
      `pipeline${tracking ? " (tracking backend)" : ""}: ${name}`,
      () => body((cancellable = true) => new ScriptedBackend(cancellable, tracking), tracking),
    );
  }
}

/** Collect results while a script ends the transfers. */
async function run(
  reads: AsyncIterable<UsbInResult>,
): Promise<{ results: UsbInResult[]; error?: unknown }> {
  const results: UsbInResult[] = [];
  try {
    for await (const r of reads) results.push(r);
    return { results };
  } catch (error) {
    return { results, error };
  }
}

bothBackends("results come in submission order, whatever order transfers end in", async (make) => {
  const backend = make();
  const running = run(pipelineReads(backend, [10, 10, 10, 10], { inFlight: 3, bound: 5000 }));
  await tick();
  assert.equal(backend.submitted.length, 3, "three in flight at once");
  backend.submitted[2].end({ status: "ok", data: bytes(10, 3) });
  backend.submitted[1].end({ status: "ok", data: bytes(10, 2) });
  backend.submitted[0].end({ status: "ok", data: bytes(10, 1) });
  await tick();
  backend.submitted[3].end({ status: "ok", data: bytes(10, 4) });
  const { results, error } = await running;
  assert.equal(error, undefined);
  assert.deepEqual(results.map((r) => inResultBytes(r)[0]), [1, 2, 3, 4]);
  assert.equal(backend.maxInFlight, 3);
  assert.equal(backend.closed, false, "closed once, nothing leaked");
});

bothBackends(
  "after a short transfer the rest is cancelled; what they got is still yielded",
  async (make) => {
    const backend = make(false);
    const running = run(pipelineReads(backend, [10, 10, 10, 10, 10], { inFlight: 3, bound: 5000 }));
    await tick();
    backend.submitted[0].end({ status: "ok", data: bytes(4) }); // short
    await tick();
    assert.ok(backend.submitted[1].cancelled && backend.submitted[2].cancelled);
    backend.submitted[1].end({ status: "cancelled", data: bytes(6) });
    backend.submitted[2].end({ status: "cancelled", data: bytes(0) });
    const { results, error } = await running;
    assert.equal(error, undefined);
    assert.deepEqual(results.map((r) => r.data?.byteLength), [4, 6]);
    assert.equal(backend.submitted.length, 3, "nothing submitted after the short one");
  },
);

bothBackends(
  "a failed transfer cancels the rest and is thrown once all have ended",
  async (make) => {
    const backend = make(false);
    const running = run(pipelineReads(backend, [10, 10, 10], { inFlight: 3, bound: 5000 }));
    await tick();
    backend.submitted[0].end({ status: "ok", data: bytes(10) });
    backend.submitted[1].end({
      status: "error",
      error: new UsbError("NO_DEVICE", "gone"),
      data: bytes(0),
    });
    await tick();
    assert.ok(backend.submitted[2].cancelled);
    assert.equal(backend.closed, undefined, "not closed while a transfer is still out");
    backend.submitted[2].end({ status: "cancelled", data: bytes(10) });
    const { results, error } = await running;
    assert.equal(results.length, 1, "data after the failure is not handed out");
    assert.ok(error instanceof UsbError && error.code === "NO_DEVICE");
    assert.equal(backend.closed, false);
  },
);

bothBackends("a stall ends the iteration after cancelling the rest", async (make) => {
  const backend = make();
  const running = run(pipelineReads(backend, [10, 10, 10], { inFlight: 3, bound: 5000 }));
  await tick();
  backend.submitted[0].end({ status: "stall", data: bytes(0) });
  const { results, error } = await running;
  assert.equal(error, undefined);
  assert.deepEqual(results.map((r) => r.status), ["stall"]);
  assert.ok(backend.submitted[1].cancelled && backend.submitted[2].cancelled);
});

bothBackends("an abort yields what had arrived, then throws the reason", async (make) => {
  const backend = make(false);
  const stop = new AbortController();
  const running = run(
    pipelineReads(backend, [10, 10, 10, 10], { inFlight: 2, bound: 5000, signal: stop.signal }),
  );
  await tick();
  backend.submitted[0].end({ status: "ok", data: bytes(10) });
  await tick();
  stop.abort(new Error("enough"));
  await tick();
  backend.submitted[1].end({ status: "cancelled", data: bytes(3) });
  backend.submitted[2]?.end({ status: "cancelled", data: bytes(0) });
  const { results, error } = await running;
  assert.deepEqual(results.map((r) => r.data?.byteLength), [10, 3]);
  assert.equal((error as Error).message, "enough");
  assert.equal(backend.closed, false);
});

bothBackends(
  "a transfer that never ends fails the read within its bound and is given up on",
  async (make, tracking) => {
    const backend = make(false); // ignores cancellation
    const start = performance.now();
    const { error } = await run(pipelineReads(backend, [10], { inFlight: 1, bound: 100 }));
    const ms = performance.now() - start;
    assert.ok(error instanceof UsbError && error.code === "TIMEOUT", String(error));
    assert.ok(ms < 2000, `${ms} ms`);
    assert.equal(backend.closed, true, "told that a transfer was left behind");
    assert.equal(backend.abandoned, tracking ? 1 : 0, "a tracking backend is told to give it up");
  },
);

Deno.test("pipeline: the backend is closed only after every cancel call has returned", async () => {
  // libusb's cancel runs on a worker thread: the transfer may end (and the
  // loop go on) before the call returns. Freeing the transfers then crashed
  // the process in libusb (usbi_mutex_lock) about one abort in ten.
  let running = 0;
  let closedWhileCancelling = -1;
  const backend: TransferSubmitter = {
    submit(length) {
      let resolve!: (end: TransferEnd) => void;
      const done = new Promise<TransferEnd>((r) => resolve = r);
      let ended = false;
      if (length === 1) {
        ended = true;
        resolve({ status: "ok", data: new Uint8Array(1) });
      }
      return Promise.resolve({
        done,
        cancel: async () => {
          running++;
          if (!ended) {
            ended = true;
            resolve({ status: "cancelled", data: new Uint8Array(0) });
          }
          await new Promise((r) => setTimeout(r, 30)); // the call returns late
          running--;
        },
      });
    },
    close() {
      closedWhileCancelling = running;
    },
  };
  const stop = new AbortController();
  const got: number[] = [];
  await assert.rejects(async () => {
    for await (
      const result of pipelineReads(backend, [1, 64, 64, 64], {
        inFlight: 4,
        signal: stop.signal,
        bound: 5000,
      })
    ) {
      got.push(inResultBytes(result).length);
      stop.abort(new Error("stop"));
    }
  }, /stop/);
  assert.deepEqual(got, [1]);
  assert.equal(closedWhileCancelling, 0, "no cancel call was still running at close");
});
