import { describe, expect, it } from 'vitest';
import { FaceStylizer } from '../src/outputs/face-stylizer';

describe('FaceStylizer.create: typed errors for bad options', () => {
  it("rejects a relative assetBase with no page URL to resolve it against as 'invalid-asset-base', not a TypeError", async () => {
    expect(globalThis.location).toBeUndefined(); // Node: like a module evaluated where there is no document
    await expect(FaceStylizer.create({ assetBase: 'assets/' })).rejects.toMatchObject({
      name: 'FaceStylizerError',
      code: 'invalid-asset-base',
      message: expect.stringContaining('"assets/"'),
    });
  });
});
