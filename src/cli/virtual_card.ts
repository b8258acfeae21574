/**
 * `--card DIR` and `--card-persist`: the virtual camera's card made from a
 * folder (see `src/emulator/card/card_from_dir.ts`).
 *
 * @module
 */

import { DirectoryCard } from "../emulator/card/card_from_dir.ts";
import { emulatedModel } from "../emulator/engine/emulated_models.ts";
import type { MemoryCard } from "../emulator/card/memory_card.ts";
import type { VirtualCamera } from "../emulator/host/virtual_camera.ts";

/** A folder's card for one connection. */
export interface VirtualCard {
  /** The card, for `new VirtualCamera({ card })`. */
  card: MemoryCard;
  /** Give new directories the camera's clock. */
  attach(vc: VirtualCamera): void;
  /** After the camera closed: save the card's changes when `--card-persist` asked for it. */
  close(): Promise<void>;
}

/**
 * The card for `--card DIR`, or undefined without it.
 *
 * @param selection the `card` folder and whether to persist
 * @param model the virtual camera's model (undefined: the default)
 * @returns the card
 */
export async function virtualCard(
  selection: { card?: string; cardPersist?: boolean },
  model: string | undefined,
): Promise<VirtualCard | undefined> {
  if (selection.card === undefined) return undefined;
  const folder = await DirectoryCard.open(selection.card, {
    model: model === undefined ? undefined : emulatedModel(model).identifyName,
  });
  return {
    card: folder.card,
    attach(vc) {
      folder.card.clock = () => vc.cameraTime();
    },
    async close() {
      if (selection.cardPersist) await folder.save();
    },
  };
}
