// Tier 2 fault matrix: every fault of the virtual camera × identify, power,
// list, download and upload, in-process (Camera over the VirtualCamera
// device). See tests/_fault_matrix.ts for what each cell asserts, and
// scripts/fault_matrix.ts to write the measured cells to a file.
import { cells, inProcessTier, runCell } from "./_fault_matrix.ts";

const tier = inProcessTier(100);

for (const [fault, op] of cells()) {
  Deno.test(`tier 2 fault: ${fault.name} × ${op.name}`, async () => {
    await runCell(tier, fault, op);
  });
}
