import { ShaderLanguage } from '@babylonjs/core/Materials/shaderLanguage.js';

/**
 * The VAE material's shader code. `vaeInfos` is (crossFade, level, uvScale.x, uvScale.y): the current texture
 * is mixed over the previous one by crossFade, and the result replaces the material's colour by level.
 */
const GLSL_DEFINITIONS = `
#ifdef VAE_TEXTURE
uniform sampler2D vaeSampler;
uniform sampler2D vaePrevSampler;
vec3 vaeAlbedo(vec2 uv) {
  vec2 st = uv * vaeInfos.zw;
  vec3 c = mix(texture2D(vaePrevSampler, st).rgb, texture2D(vaeSampler, st).rgb, vaeInfos.x);
#ifdef VAE_GAMMA
  c = toLinearSpace(c);
#endif
  return mix(vec3(1.0), c, vaeInfos.y);
}
#endif
`;

const WGSL_DEFINITIONS = `
#ifdef VAE_TEXTURE
var vaeSamplerSampler: sampler;
var vaeSampler: texture_2d<f32>;
var vaePrevSamplerSampler: sampler;
var vaePrevSampler: texture_2d<f32>;
fn vaeAlbedo(uv: vec2f) -> vec3f {
  let st = uv * uniforms.vaeInfos.zw;
  let current = textureSample(vaeSampler, vaeSamplerSampler, st).rgb;
  let previous = textureSample(vaePrevSampler, vaePrevSamplerSampler, st).rgb;
  var c = mix(previous, current, uniforms.vaeInfos.x);
#ifdef VAE_GAMMA
  c = toLinearSpaceVec3(c);
#endif
  return mix(vec3f(1.0), c, uniforms.vaeInfos.y);
}
#endif
`;

/** The uniform the plugin declares: in the UBO for both languages, and as a plain GLSL uniform. */
export const VAE_UNIFORMS = {
  ubo: [{ name: 'vaeInfos', size: 4, type: 'vec4' }],
  glslFragment: '#ifdef VAE_TEXTURE\nuniform vec4 vaeInfos;\n#endif\n',
};

/** The two samplers: the current texture and the one it cross-fades from. */
export const VAE_SAMPLERS = ['vaeSampler', 'vaePrevSampler'] as const;

/**
 * Fragment code: the definitions, and the line that multiplies the material's albedo (PBR) or diffuse colour
 * (Standard) by the VAE colour at the mesh's first UV set.
 */
export function vaeFragmentCode(isPbr: boolean, shaderLanguage: ShaderLanguage): Record<string, string> {
  const wgsl = shaderLanguage === ShaderLanguage.WGSL;
  const uv = wgsl ? 'fragmentInputs.vMainUV1' : 'vMainUV1';
  const apply = isPbr
    ? `#ifdef VAE_TEXTURE\nsurfaceAlbedo *= vaeAlbedo(${uv});\n#endif\n`
    : `#ifdef VAE_TEXTURE\nbaseColor = vec4${wgsl ? 'f' : ''}(baseColor.rgb * vaeAlbedo(${uv}), baseColor.a);\n#endif\n`;
  return {
    CUSTOM_FRAGMENT_DEFINITIONS: wgsl ? WGSL_DEFINITIONS : GLSL_DEFINITIONS,
    [isPbr ? 'CUSTOM_FRAGMENT_UPDATE_ALBEDO' : 'CUSTOM_FRAGMENT_UPDATE_DIFFUSE']: apply,
  };
}
