// The Babylon side effects a procedural texture of this package relies on. The package imports Babylon module by
// module (its root index is side-effectful and would pull all of Babylon into every app), so what the root used to
// register is imported here, once, by the modules that make procedural textures:
// - the GLSL vertex shader every ProceduralTexture draws with (else fetched by a dynamic import at first use);
// - ThinEngine.createRenderTargetTexture (the texture's render target) and setAlphaMode (the write pass).
// Engine and NullEngine import these extensions themselves and WebGPUEngine has its own; a bare ThinEngine does not.
import '@babylonjs/core/Shaders/procedural.vertex.js';
import '@babylonjs/core/Engines/Extensions/engine.alpha.js';
import '@babylonjs/core/Engines/Extensions/engine.renderTarget.js';
