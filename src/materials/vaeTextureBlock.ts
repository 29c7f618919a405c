import type { Effect } from '@babylonjs/core/Materials/effect.js';
import { NodeMaterialBlockConnectionPointTypes } from '@babylonjs/core/Materials/Node/Enums/nodeMaterialBlockConnectionPointTypes.js';
import { NodeMaterialBlockTargets } from '@babylonjs/core/Materials/Node/Enums/nodeMaterialBlockTargets.js';
import type { NodeMaterial } from '@babylonjs/core/Materials/Node/nodeMaterial.js';
import { NodeMaterialBlock } from '@babylonjs/core/Materials/Node/nodeMaterialBlock.js';
import type { NodeMaterialConnectionPoint } from '@babylonjs/core/Materials/Node/nodeMaterialBlockConnectionPoint.js';
import type { NodeMaterialBuildState } from '@babylonjs/core/Materials/Node/nodeMaterialBuildState.js';
import { ShaderLanguage } from '@babylonjs/core/Materials/shaderLanguage.js';
import type { BaseTexture } from '@babylonjs/core/Materials/Textures/baseTexture.js';
import { GetClass, RegisterClass } from '@babylonjs/core/Misc/typeStore.js';
import type { Scene } from '@babylonjs/core/scene.js';
import type { Nullable } from '@babylonjs/core/types.js';

const CLASS_NAME = 'VaeTextureBlock';

// The derived normal is the Sobel filter of HeightNormalTexture (luminance as height), computed where the
// fragment samples, so no second texture is drawn. It is a normal-map colour (0..1), as PerturbNormalBlock's
// normalMapColor input expects.
const GLSL_FUNCTIONS = `
float vaeBlockHeight(sampler2D s, vec2 uv) {
  return dot(texture2D(s, uv).rgb, vec3(0.2126, 0.7152, 0.0722));
}
vec3 vaeBlockNormal(sampler2D s, vec2 uv, vec3 texelStrength) {
  vec2 dx = vec2(texelStrength.x, 0.0);
  vec2 dy = vec2(0.0, texelStrength.y);
  float tl = vaeBlockHeight(s, uv - dx + dy), t = vaeBlockHeight(s, uv + dy), tr = vaeBlockHeight(s, uv + dx + dy);
  float l = vaeBlockHeight(s, uv - dx), r = vaeBlockHeight(s, uv + dx);
  float bl = vaeBlockHeight(s, uv - dx - dy), b = vaeBlockHeight(s, uv - dy), br = vaeBlockHeight(s, uv + dx - dy);
  float gx = (tr + 2.0 * r + br) - (tl + 2.0 * l + bl);
  float gy = (tl + 2.0 * t + tr) - (bl + 2.0 * b + br);
  return normalize(vec3(-gx * texelStrength.z, -gy * texelStrength.z, 1.0)) * 0.5 + 0.5;
}
`;

const WGSL_FUNCTIONS = `
fn vaeBlockHeight(t: texture_2d<f32>, s: sampler, uv: vec2f) -> f32 {
  return dot(textureSample(t, s, uv).rgb, vec3f(0.2126, 0.7152, 0.0722));
}
fn vaeBlockNormal(t: texture_2d<f32>, s: sampler, uv: vec2f, texelStrength: vec3f) -> vec3f {
  let dx = vec2f(texelStrength.x, 0.0);
  let dy = vec2f(0.0, texelStrength.y);
  let tl = vaeBlockHeight(t, s, uv - dx + dy);
  let tc = vaeBlockHeight(t, s, uv + dy);
  let tr = vaeBlockHeight(t, s, uv + dx + dy);
  let l = vaeBlockHeight(t, s, uv - dx);
  let r = vaeBlockHeight(t, s, uv + dx);
  let bl = vaeBlockHeight(t, s, uv - dx - dy);
  let b = vaeBlockHeight(t, s, uv - dy);
  let br = vaeBlockHeight(t, s, uv + dx - dy);
  let gx = (tr + 2.0 * r + br) - (tl + 2.0 * l + bl);
  let gy = (tl + 2.0 * tc + tr) - (bl + 2.0 * b + br);
  return normalize(vec3f(-gx * texelStrength.z, -gy * texelStrength.z, 1.0)) * 0.5 + 0.5;
}
`;

/**
 * A Node Material block that samples a VAE texture (a `VaeProceduralTexture`, or any 2D texture) at `uv`:
 * `rgb` and `a` as stored, and `normal`, a tangent-space normal-map colour derived from the texture's
 * luminance (the filter `HeightNormalTexture` applies), computed only when connected. GLSL and WGSL.
 *
 * The block samples `texture` as it is now: a texture regenerated in place (`setLatent`, `regenerate`) shows
 * its new content without a rebuild. Call `registerVaeTextureBlock()` before `NodeMaterial.Parse` or the Node
 * Material Editor loads a graph holding this block.
 */
export class VaeTextureBlock extends NodeMaterialBlock {
  private _texture: Nullable<BaseTexture> = null;
  private _normalStrength = 2;
  private _samplerName = '';
  private _texelName = '';
  private readonly _texel = [0, 0, 0];

  constructor(name: string) {
    super(name, NodeMaterialBlockTargets.Fragment);
    this.registerInput('uv', NodeMaterialBlockConnectionPointTypes.AutoDetect, false);
    this.registerOutput('rgb', NodeMaterialBlockConnectionPointTypes.Color3);
    this.registerOutput('a', NodeMaterialBlockConnectionPointTypes.Float);
    this.registerOutput('normal', NodeMaterialBlockConnectionPointTypes.Color3);
    this.uv.addExcludedConnectionPointFromAllowedTypes(
      NodeMaterialBlockConnectionPointTypes.Vector2 |
        NodeMaterialBlockConnectionPointTypes.Vector3 |
        NodeMaterialBlockConnectionPointTypes.Vector4,
    );
  }

  /** The texture sampled (default: none; the material is not ready until one is set). */
  get texture(): Nullable<BaseTexture> {
    return this._texture;
  }
  set texture(value: Nullable<BaseTexture>) {
    this._texture = value;
  }

  /** Slope scale of the derived normal, from 0 (flat) to 100 (default: 2). */
  get normalStrength(): number {
    return this._normalStrength;
  }
  set normalStrength(value: number) {
    if (!Number.isFinite(value) || value < 0 || value > 100) {
      throw new Error(`normalStrength must be a number from 0 to 100, got ${value}`);
    }
    this._normalStrength = value;
  }

  get uv(): NodeMaterialConnectionPoint {
    return this._inputs[0];
  }
  get rgb(): NodeMaterialConnectionPoint {
    return this._outputs[0];
  }
  get a(): NodeMaterialConnectionPoint {
    return this._outputs[1];
  }
  get normal(): NodeMaterialConnectionPoint {
    return this._outputs[2];
  }

  override getClassName(): string {
    return CLASS_NAME;
  }

  /** Connects the mesh's `uv` attribute when the graph already has it and `uv` is not connected. */
  override autoConfigure(material: NodeMaterial): void {
    if (this.uv.isConnected) return;
    const uv = material.getInputBlockByPredicate((b) => b.isAttribute && b.name === 'uv');
    uv?.output.connectTo(this.uv);
  }

  override isReady(): boolean {
    return !!this._texture && this._texture.isReady();
  }

  override bind(effect: Effect): void {
    const texture = this._texture;
    if (!texture) return;
    effect.setTexture(this._samplerName, texture);
    if (this.normal.hasEndpoints) {
      const size = texture.getSize();
      this._texel[0] = 1 / Math.max(1, size.width);
      this._texel[1] = 1 / Math.max(1, size.height);
      this._texel[2] = this._normalStrength;
      effect.setFloat3(this._texelName, this._texel[0], this._texel[1], this._texel[2]);
    }
  }

  protected override _buildBlock(state: NodeMaterialBuildState): this {
    super._buildBlock(state);
    if (state.target !== NodeMaterialBlockTargets.Fragment) return this;
    this._samplerName = `${state._getFreeVariableName(this.name)}Texture`;
    state._emit2DSampler(this._samplerName);
    // Declared with the texture blocks: the material waits for the texture and binds it every frame.
    state.sharedData.blockingBlocks.push(this);
    state.sharedData.bindableBlocks.push(this);
    (state.sharedData.textureBlocks as unknown[]).push(this);

    const wgsl = state.shaderLanguage === ShaderLanguage.WGSL;
    const uv = this.uv.associatedVariableName;
    const read = state._getFreeVariableName('vaeTextureRead');
    const sample = wgsl
      ? `textureSample(${this._samplerName}, ${this._samplerName}Sampler, ${uv}.xy)`
      : `texture2D(${this._samplerName}, ${uv}.xy)`;
    state.compilationString += `${state._declareLocalVar(read, NodeMaterialBlockConnectionPointTypes.Vector4)} = ${sample};\n`;
    if (this.rgb.hasEndpoints)
      state.compilationString += `${state._declareOutput(this.rgb)} = ${read}.rgb;\n`;
    if (this.a.hasEndpoints) state.compilationString += `${state._declareOutput(this.a)} = ${read}.a;\n`;
    if (this.normal.hasEndpoints) {
      this._texelName = state._getFreeVariableName(`${this.name}TexelStrength`);
      state._emitUniformFromString(this._texelName, NodeMaterialBlockConnectionPointTypes.Vector3);
      state._emitFunction('vaeBlockNormal', wgsl ? WGSL_FUNCTIONS : GLSL_FUNCTIONS, `//${this.name}`);
      const texel = wgsl ? `uniforms.${this._texelName}` : this._texelName;
      const args = wgsl ? `${this._samplerName}, ${this._samplerName}Sampler` : this._samplerName;
      state.compilationString += `${state._declareOutput(this.normal)} = vaeBlockNormal(${args}, ${uv}.xy, ${texel});\n`;
    }
    return this;
  }

  // biome-ignore lint/suspicious/noExplicitAny: Babylon's serialization objects are untyped.
  override serialize(): any {
    const o = super.serialize();
    o.normalStrength = this._normalStrength;
    if (this._texture) o.texture = this._texture.serialize();
    return o;
  }

  /**
   * Rebuilds the block; a stored texture is rebuilt by its class's `Parse` (for a VaeProceduralTexture:
   * `registerVaeProceduralTexture()` and the model registered under its id, see `registerVaeModel`).
   */
  // biome-ignore lint/suspicious/noExplicitAny: Babylon's serialization objects are untyped.
  override _deserialize(serializationObject: any, scene: Scene, rootUrl: string): void {
    super._deserialize(serializationObject, scene, rootUrl);
    if (serializationObject.normalStrength !== undefined) {
      this.normalStrength = Number(serializationObject.normalStrength);
    }
    const texture = serializationObject.texture;
    if (texture === undefined || texture === null) return;
    const type = typeof texture.customType === 'string' ? texture.customType : 'BABYLON.Texture';
    const textureClass = GetClass(type) as
      | { Parse?: (source: unknown, scene: Scene, rootUrl: string) => Nullable<BaseTexture> }
      | undefined;
    if (typeof textureClass?.Parse !== 'function') {
      throw new Error(
        `VaeTextureBlock: the stored texture's class '${type}' is not registered; call registerVaeProceduralTexture() (and registerVaeModel for its model) first`,
      );
    }
    this._texture = textureClass.Parse(texture, scene, rootUrl);
  }

  override dispose(): void {
    this._texture = null;
    super.dispose();
  }
}

/** Lets NodeMaterial.Parse and the Node Material Editor rebuild VaeTextureBlocks (RegisterClass). Idempotent. */
export function registerVaeTextureBlock(): void {
  RegisterClass(`BABYLON.${CLASS_NAME}`, VaeTextureBlock);
}
