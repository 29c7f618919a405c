import {
  Camera,
  Color3,
  Color4,
  Engine,
  FreeCamera,
  Scene,
  StandardMaterial,
  Vector3,
} from '@babylonjs/core';

/** A Babylon scene on its own canvas, for pixel tests. */
export interface OrthoScene {
  readonly canvas: HTMLCanvasElement;
  readonly engine: Engine;
  readonly scene: Scene;
  readonly gl: WebGL2RenderingContext;
}

/**
 * A `width` x `height` canvas (CSS and device pixels alike) with a black background and an orthographic
 * camera looking down +z that shows x in [-width/height, width/height] and y in [-1, 1]: a 2x2 plane fills a
 * `height`-pixel square.
 */
export function createOrthoScene(width: number, height: number): OrthoScene {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  document.body.appendChild(canvas);
  const engine = new Engine(canvas, false, { preserveDrawingBuffer: true, stencil: true }, false);
  engine.setHardwareScalingLevel(1);
  const scene = new Scene(engine);
  scene.clearColor = new Color4(0, 0, 0, 1);
  const camera = new FreeCamera('camera', new Vector3(0, 0, -5), scene);
  camera.setTarget(Vector3.Zero());
  camera.mode = Camera.ORTHOGRAPHIC_CAMERA;
  camera.orthoLeft = -width / height;
  camera.orthoRight = width / height;
  camera.orthoTop = 1;
  camera.orthoBottom = -1;
  const gl = (engine as unknown as { _gl: WebGL2RenderingContext })._gl;
  return { canvas, engine, scene, gl };
}

/** A StandardMaterial that shows exactly `emissive` (lighting off, no diffuse or specular). */
export function unlitMaterial(
  scene: Scene,
  name: string,
  emissive: Color3 = Color3.Black(),
): StandardMaterial {
  const material = new StandardMaterial(name, scene);
  material.disableLighting = true;
  material.diffuseColor = Color3.Black();
  material.specularColor = Color3.Black();
  material.emissiveColor = emissive;
  return material;
}

/** RGB bytes of the canvas columns [x0, x0 + width), all rows, row 0 at the top. */
export function readRgb(ortho: OrthoScene, x0: number, width: number): Uint8Array {
  const { gl, canvas } = ortho;
  const height = canvas.height;
  const rgba = new Uint8Array(width * height * 4);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.readPixels(x0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = ((height - 1 - y) * width + x) * 4;
      out.set(rgba.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return out;
}

/** Waits until the scene is ready, then renders `frames` frames, yielding between them. */
export async function renderReady(scene: Scene, frames = 4): Promise<void> {
  await scene.whenReadyAsync();
  for (let i = 0; i < frames; i++) {
    scene.render();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Largest absolute difference of two byte arrays of one length. */
export function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Standard deviation of bytes. */
export function stdDev(values: Uint8Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return Math.sqrt(sq / values.length);
}
