// Tier 2 fault matrix: every fault of the virtual camera × identify, power,
// list, download and upload, in-process (Camera over the VirtualCamera
// device). See tests/_fault_matrix.ts for what each cell asserts.
import { Camera } from "../mod.ts";
import { cells, type MatrixTier, runCell, saveResults } from "./_fault_matrix.ts";

const tier: MatrixTier = {
  name: "tier 2",
  timeout: 100,
  open: (vc) => Camera.connect(vc, { timeout: 100 }),
  reopen: (vc) => {
    vc.replug();
    return Camera.connect(vc, { timeout: 100 });
  },
};

for (const [fault, op] of cells()) {
  Deno.test(`tier 2 fault: ${fault.name} × ${op.name}`, async () => {
    await runCell(tier, fault, op);
  });
}

Deno.test("tier 2 fault matrix: results saved when FAULT_MATRIX_OUT is set", async () => {
  await saveResults();
});
