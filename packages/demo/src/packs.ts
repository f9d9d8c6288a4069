/** One entry of `<assetBase>packs/index.json` (written by scripts/make-base-pack.mjs at set-up). */
export interface PackEntry {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Pack directory, relative to the index. */
  readonly path: string;
  /** Preview image, relative to the index. */
  readonly preview: string;
}

export interface PackIndex {
  readonly packs: PackEntry[];
  /** The pack to load when none is chosen (models/packs/DEFAULT). */
  readonly default?: string;
}

/** The packs the server lists; none when there is no index (the base generator still runs). */
export async function listPacks(indexUrl: string): Promise<PackIndex> {
  try {
    const response = await fetch(indexUrl, { cache: 'no-cache' });
    if (!response.ok) return { packs: [] };
    const index = (await response.json()) as { packs?: PackEntry[]; default?: string };
    const packs = Array.isArray(index.packs) ? index.packs : [];
    return { packs, default: packs.some((p) => p.id === index.default) ? index.default : packs[0]?.id };
  } catch {
    return { packs: [] };
  }
}
