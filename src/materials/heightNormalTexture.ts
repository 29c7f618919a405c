// Side effects a ProceduralTexture needs, imported here because the package never imports Babylon's root: the
// GLSL vertex shader it draws with (else a dynamic import at first use) and ThinEngine.createRenderTargetTexture
// (Engine and NullEngine import it themselves; WebGPUEngine has its own).
import '@babylonjs/core/Engines/Extensions/engine.renderTarget.js';
import '@babylonjs/core/Shaders/procedural.vertex.js';
import type { BaseTexture } from '@babylonjs/core/Materials/Textures/baseTexture.js';
import { ProceduralTexture } from '@babylonjs/core/Materials/Textures/Procedurals/proceduralTexture.js';
import { Texture } from '@babylonjs/core/Materials/Textures/texture.js';
import { Vector2 } from '@babylonjs/core/Maths/math.vector.js';
import type { Scene } from '@babylonjs/core/scene.js';

// Sobel filter on luminance as height, wrapping at the edges so tileable textures stay seamless.
const FRAGMENT = `
precision highp float;
varying vec2 vUV;
uniform sampler2D heightSampler;
uniform vec2 texelSize;
uniform float strength;
float h(vec2 uv) {
  return dot(texture2D(heightSampler, fract(uv)).rgb, vec3(0.2126, 0.7152, 0.0722));
}
void main(void) {
  vec2 dx = vec2(texelSize.x, 0.0);
  vec2 dy = vec2(0.0, texelSize.y);
  float tl = h(vUV - dx + dy), t = h(vUV + dy), tr = h(vUV + dx + dy);
  float l = h(vUV - dx), r = h(vUV + dx);
  float bl = h(vUV - dx - dy), b = h(vUV - dy), br = h(vUV + dx - dy);
  float gx = (tr + 2.0 * r + br) - (tl + 2.0 * l + bl);
  float gy = (tl + 2.0 * t + tr) - (bl + 2.0 * b + br);
  vec3 n = normalize(vec3(-gx * strength, -gy * strength, 1.0));
  gl_FragColor = vec4(n * 0.5 + 0.5, 1.0);
}
`;

/**
 * A tangent-space normal map derived from another texture's luminance read as height, drawn on the GPU
 * whenever `update()` is called (not every frame).
 */
export class HeightNormalTexture extends ProceduralTexture {
  private _source: BaseTexture;
  private _strength: number;
  private readonly _texelSize = new Vector2();

  /**
   * @param source the texture whose luminance is the height
   * @param strength slope scale; 0 gives a flat normal map (default: 2)
   */
  constructor(name: string, size: number, scene: Scene, source: BaseTexture, strength = 2) {
    // Checked before super() creates the render target, so a refused strength leaves nothing behind.
    HeightNormalTexture._checkStrength(strength);
    super(name, size, { fragmentSource: FRAGMENT }, scene, null, true);
    this.refreshRate = 0;
    this.wrapU = Texture.WRAP_ADDRESSMODE;
    this.wrapV = Texture.WRAP_ADDRESSMODE;
    this._source = source;
    this._strength = HeightNormalTexture._checkStrength(strength);
    this._texelSize.set(1 / size, 1 / size);
    this._bind();
  }

  private static _checkStrength(strength: number): number {
    if (!Number.isFinite(strength) || strength < 0 || strength > 100) {
      throw new Error(`normal map strength must be a number from 0 to 100, got ${strength}`);
    }
    return strength;
  }

  private _bind(): void {
    this.setTexture('heightSampler', this._source);
    this.setVector2('texelSize', this._texelSize);
    this.setFloat('strength', this._strength);
  }

  /** Slope scale of the derived normals. */
  get strength(): number {
    return this._strength;
  }
  set strength(value: number) {
    this._strength = HeightNormalTexture._checkStrength(value);
    this.update();
  }

  /** Derives the normals again, from `source` when given. */
  update(source?: BaseTexture): void {
    if (source) this._source = source;
    this._bind();
    this.resetRefreshCounter();
  }

  override getClassName(): string {
    return 'HeightNormalTexture';
  }
}
