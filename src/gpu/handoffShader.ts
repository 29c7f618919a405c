/** Name of the sampler the hand-off pass reads the decoded image from. */
export const handoffSamplerName = 'decodedImage';

/** Define that makes the hand-off pass convert sRGB-encoded decoder output to linear values. */
export const handoffLinearDefine = 'VAE_LINEAR_OUTPUT';

/** Define, set on engines with texelFetch (WebGL2, WebGPU), that lets the pass read packed RGB images. */
export const handoffTexelFetchDefine = 'VAE_TEXEL_FETCH';

/**
 * Define that keeps image rows in texture-row order (no flip): the pass then writes a tile of a decoded image
 * into a tile buffer, which has the same layout as a decoded image (see tileBuffer.ts).
 */
export const handoffImageRowsDefine = 'VAE_IMAGE_ROWS';

/**
 * The one shader pass between a decoded image and the Babylon-owned render target (GLSL; Babylon converts it
 * for WebGPU). Output (the viewport) and input have the same size, so each output texel reads exactly one image pixel;
 * `imageOrigin` is the viewport's corner in the target, in pixels ((0, 0) for a whole texture).
 *
 * Two input layouts, chosen per draw by `packedRgb`:
 * - RGBA: texel (x, y) is pixel (x, y), sampled NEAREST.
 * - packed RGB (packedRgb = 1): the image's flat row-major RGB floats, four to a texel, `imageSize.x * 3 / 4`
 *   texels per row. It saves the extra GPU pass that would pad 3 channels to 4 before tfjs's repack.
 * Decoded images arrive with row 0 (the image top) at texture row 0; Babylon textures keep the top at v = 1,
 * so the pass flips rows.
 */
export const handoffFragmentSource = `precision highp float;
#ifdef ${handoffTexelFetchDefine}
precision highp int;
#endif
varying vec2 vUV;
uniform sampler2D ${handoffSamplerName};
uniform float packedRgb;
uniform vec2 imageSize;
uniform vec2 imageOrigin;

vec4 readImage() {
#ifdef ${handoffTexelFetchDefine}
  if (packedRgb > 0.5) {
    int x = int(gl_FragCoord.x - imageOrigin.x);
    int y = int(gl_FragCoord.y - imageOrigin.y);
#ifndef ${handoffImageRowsDefine}
    y = int(imageSize.y) - 1 - y;
#endif
    int start = x * 3;
    int t = start / 4;
    int c = start - t * 4;
    vec4 a = texelFetch(${handoffSamplerName}, ivec2(t, y), 0);
    if (c == 0) return vec4(a.rgb, 1.0);
    if (c == 1) return vec4(a.gba, 1.0);
    vec4 b = texelFetch(${handoffSamplerName}, ivec2(t + 1, y), 0);
    if (c == 2) return vec4(a.ba, b.r, 1.0);
    return vec4(a.a, b.rg, 1.0);
  }
#endif
#ifdef ${handoffImageRowsDefine}
  return texture2D(${handoffSamplerName}, vUV);
#else
  return texture2D(${handoffSamplerName}, vec2(vUV.x, 1.0 - vUV.y));
#endif
}

void main(void) {
  vec4 c = clamp(readImage(), 0.0, 1.0);
#ifdef ${handoffLinearDefine}
  vec3 lo = c.rgb / 12.92;
  vec3 hi = pow((c.rgb + 0.055) / 1.055, vec3(2.4));
  c.rgb = mix(lo, hi, step(vec3(0.04045), c.rgb));
#endif
  gl_FragColor = c;
}
`;
