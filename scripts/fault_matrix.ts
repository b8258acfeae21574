// Runs the fault matrix (tests/_fault_matrix.ts) and writes one JSON line per
// cell: the fault, the operation, the outcome, the error a user saw, how long
// it took and how the camera recovered. Tier 2 always; tier 3 (libusb and
// umockdev) when run under libumockdev-preload.
//   deno run --allow-all scripts/fault_matrix.ts [OUT.jsonl]
//   LD_PRELOAD=libumockdev-preload.so.0 deno run --allow-all scripts/fault_matrix.ts OUT.jsonl
// Without OUT the lines go to standard output. The exit code is 1 when a cell failed.
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import {
  cells,
  inProcessTier,
  libusbTier,
  type MatrixTier,
  runCell,
} from "../tests/_fault_matrix.ts";

const out = Deno.args[0];
const lines: string[] = [];
let failed = 0;

async function runTier(tierOf: () => { tier: MatrixTier; close(): void }): Promise<void> {
  for (const [fault, op] of cells()) {
    const { tier, close } = tierOf();
    try {
      lines.push(JSON.stringify(await runCell(tier, fault, op)));
    } catch (error) {
      failed++;
      lines.push(JSON.stringify({
        tier: tier.name,
        fault: fault.name,
        operation: op.name,
        failed: error instanceof Error ? error.message : String(error),
      }));
    } finally {
      close();
    }
  }
}

await runTier(() => ({ tier: inProcessTier(100), close: () => {} }));
if ((Deno.env.get("LD_PRELOAD") ?? "").includes("libumockdev-preload")) {
  await runTier(() => {
    const testbed = UmockdevTestbed.open();
    return { tier: libusbTier(testbed, 250), close: () => testbed.close() };
  });
} else {
  console.error("tier 3 skipped: run with LD_PRELOAD=libumockdev-preload.so.0 to include it");
}
const text = lines.join("\n") + "\n";
if (out) await Deno.writeTextFile(out, text);
else await Deno.stdout.write(new TextEncoder().encode(text));
console.error(`${lines.length} cells, ${failed} failed${out ? `, written to ${out}` : ""}`);
if (failed > 0) Deno.exit(1);
