/** Name of the sampler the hand-off pass reads the decoded image from. */
export const handoffSamplerName = 'decodedImage';

/** Define that makes the hand-off pass convert sRGB-encoded decoder output to linear values. */
export const handoffLinearDefine = 'VAE_LINEAR_OUTPUT';

/** Define, set on engines with texelFetch (WebGL2, WebGPU), that lets the pass read packed RGB images. */
export const handoffTexelFetchDefine = 'VAE_TEXEL_FETCH';

/**
 * The one shader pass between a decoded image and the Babylon-owned render target (GLSL; Babylon converts it
 * for WebGPU). Output and input have the same size, so each output texel reads exactly one image pixel.
 *
 * Input layouts, chosen per draw by `tensorLayout` and `packedRgb`:
 * - RGBA: texel (x, y) is pixel (x, y), sampled NEAREST.
 * - packed RGB (packedRgb = 1): the image's flat row-major RGB floats, four to a texel, `imageSize.x * 3 / 4`
 *   texels per row. It saves the extra GPU pass that would pad 3 channels to 4 before tfjs's repack.
 * - a tfjs WebGL tensor [1, H, W, C] read in the texture tfjs wrote it to, so no repack pass runs at all
 *   (`tensorLayout` = (kind, C, texture columns)). Kind 1, unpacked: one value per texel (red), value i of
 *   the row-major tensor at texel i. Kind 2, packed: 2x2 blocks of (W, C) in RGBA, texel index
 *   y * ceil(C/2) * ceil(W/2) + (x/2) * ceil(C/2) + c/2, channel (x % 2) * 2 + c % 2 (tfjs's
 *   getOutputPackedNDCoords). Texel index i is at (i % columns, i / columns).
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
uniform vec3 tensorLayout;

#ifdef ${handoffTexelFetchDefine}
/** Channel c of pixel (x, y) of a tfjs tensor [1, H, W, C] read in its own texture layout. */
float tensorValue(int x, int y, int c) {
  int channels = int(tensorLayout.y);
  int columns = int(tensorLayout.z);
  int width = int(imageSize.x);
  if (tensorLayout.x < 1.5) {
    int i = (y * width + x) * channels + c;
    int row = i / columns;
    return texelFetch(${handoffSamplerName}, ivec2(i - row * columns, row), 0).r;
  }
  int texelsInRow = (channels + 1) / 2;
  int i = y * texelsInRow * ((width + 1) / 2) + (x / 2) * texelsInRow + c / 2;
  int row = i / columns;
  vec4 t = texelFetch(${handoffSamplerName}, ivec2(i - row * columns, row), 0);
  int k = (x - (x / 2) * 2) * 2 + (c - (c / 2) * 2);
  if (k == 0) return t.r;
  if (k == 1) return t.g;
  if (k == 2) return t.b;
  return t.a;
}
#endif

vec4 readImage() {
#ifdef ${handoffTexelFetchDefine}
  if (tensorLayout.x > 0.5) {
    int x = int(gl_FragCoord.x);
    int y = int(imageSize.y) - 1 - int(gl_FragCoord.y);
    float alpha = int(tensorLayout.y) == 4 ? tensorValue(x, y, 3) : 1.0;
    return vec4(tensorValue(x, y, 0), tensorValue(x, y, 1), tensorValue(x, y, 2), alpha);
  }
  if (packedRgb > 0.5) {
    int x = int(gl_FragCoord.x);
    int y = int(imageSize.y) - 1 - int(gl_FragCoord.y);
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
  return texture2D(${handoffSamplerName}, vec2(vUV.x, 1.0 - vUV.y));
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
