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
