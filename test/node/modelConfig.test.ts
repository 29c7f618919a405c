import { describe, expect, test } from 'vitest';

import {
  DEFAULT_TEXTURE_VAE_CONFIG,
  decoderFlopsPerPixel,
  resolveTextureVaeConfig,
  textureVaeParameterCount,
  textureVaeWeightShapes,
} from '../../src/model/textureVaeConfig.js';

describe('resolveTextureVaeConfig', () => {
  test('fills the documented defaults into a frozen copy', () => {
    const config = resolveTextureVaeConfig();
    expect(config).toEqual({
      latentChannels: 8,
      stride: 8,
      encoderWidths: [32, 64, 128, 192],
      decoderWidths: [64, 48, 24, 16],
      tileable: true,
      upsample: 'bilinear',
      outputChannels: 3,
      beta: 0.005,
      name: 'default',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.encoderWidths)).toBe(true);
  });

  test('never changes the caller object', () => {
    const widths = [8, 8, 8];
    const input = { stride: 4, encoderWidths: widths, decoderWidths: [8, 8, 8] };
    const config = resolveTextureVaeConfig(input);
    expect(config.encoderWidths).not.toBe(widths);
    expect(input).toEqual({ stride: 4, encoderWidths: [8, 8, 8], decoderWidths: [8, 8, 8] });
  });

  test('rejects bad values naming what is allowed', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ stride: 6 }, 'stride must be a power of two from 2 to 32, got 6'],
      [{ latentChannels: 0 }, 'latentChannels must be an integer from 1 to 64, got 0'],
      [
        { stride: 4 },
        'encoderWidths must be an array of log2(stride) + 1 = 3 widths for stride 4, got [32,64,128,192]',
      ],
      [
        { decoderWidths: [64, 48, 0, 16] },
        'decoderWidths entries must be integers from 1 to 1024, got [64,48,0,16]',
      ],
      [{ tileable: 'yes' }, 'tileable must be true or false, got yes'],
      [{ outputChannels: 1 }, 'outputChannels must be 3 (RGB) or 4 (RGBA), got 1'],
      [{ beta: -0.1 }, 'beta must be a finite number >= 0, got -0.1'],
      [{ name: '' }, 'name must be a string of 1 to 64 characters, got ""'],
      [{ strides: 8 }, "unknown TextureVae config key 'strides'; allowed: latentChannels, stride"],
    ];
    for (const [input, message] of cases) expect(() => resolveTextureVaeConfig(input)).toThrow(message);
  });
});

describe('decoderFlopsPerPixel', () => {
  test('the default decoder costs 16,858 FLOP per output pixel, under the 20 kFLOP budget', () => {
    // multiply-adds x 2 per output pixel: 3x3 convs 8->64 at 1/64 px, 64->48 at 1/16, 48->24 at 1/4,
    // 24->16 and 16->3 at full resolution; plus bias and activation per output value.
    const macs = (9 * 8 * 64) / 64 + (9 * 64 * 48) / 16 + (9 * 48 * 24) / 4 + 9 * 24 * 16 + 9 * 16 * 3;
    const biasAndActivation = (2 * 64) / 64 + (2 * 48) / 16 + (2 * 24) / 4 + 2 * 16 + 2 * 3;
    // Bilinear 2x upsamples: 6 FLOP per value at their output resolution (64 ch at 1/16 px, 48 at 1/4, 24 at 1).
    const upsamples = (6 * 64) / 16 + (6 * 48) / 4 + 6 * 24;
    expect(decoderFlopsPerPixel()).toBe(2 * macs + biasAndActivation + upsamples);
    expect(decoderFlopsPerPixel()).toBe(16858);
    expect(decoderFlopsPerPixel({ upsample: 'nearest' })).toBe(16618);
    expect(decoderFlopsPerPixel()).toBeLessThanOrEqual(20_000);
  });

  test('grows with the decoder widths and accepts partial configs', () => {
    expect(decoderFlopsPerPixel({ decoderWidths: [64, 48, 32, 32] })).toBeGreaterThan(20_000);
    expect(
      decoderFlopsPerPixel({
        stride: 4,
        encoderWidths: [8, 8, 8],
        decoderWidths: [8, 8, 8],
        upsample: 'nearest',
      }),
    ).toBe((2 * 9 * 8 + 2) * 8 * (1 / 16 + 1 / 4 + 1) + (2 * 9 * 8 + 2) * 3);
  });
});

test('the default model is small: a few hundred k parameters, weights file under 4 MB', () => {
  const params = textureVaeParameterCount();
  expect(params).toBe(388_955);
  expect(params * 4).toBeLessThanOrEqual(4 * 1024 * 1024);
  const shapes = textureVaeWeightShapes(resolveTextureVaeConfig(DEFAULT_TEXTURE_VAE_CONFIG));
  expect(shapes.map((s) => s.name)).toContain('decoder_output/kernel');
  expect(shapes.find((s) => s.name === 'encoder_moments/kernel')?.shape).toEqual([3, 3, 192, 16]);
});
