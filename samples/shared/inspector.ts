import type { Scene } from '@babylonjs/core';
import type GUI from 'lil-gui';

type InspectorToken = Awaited<ReturnType<typeof import('@babylonjs/inspector').ShowInspector>>;

/**
 * Babylon's Inspector on a sample's scene, toggled with the "i" key or a GUI button. It comes from the npm
 * package `@babylonjs/inspector` (a dev dependency of the samples, never of the library), not from
 * `scene.debugLayer`, which would load it from a CDN. The module is imported on first use, so React and
 * Fluent UI reach the page only when someone opens the Inspector.
 */
export function addInspector(scene: Scene, gui?: GUI): { toggle(): Promise<void> } {
  let token: InspectorToken | null = null;
  let busy: Promise<void> | null = null;

  async function flip(): Promise<void> {
    if (token && !token.isDisposed) {
      await token.dispose();
      token = null;
      return;
    }
    const { ShowInspector } = await import('@babylonjs/inspector');
    token = ShowInspector(scene, { layoutMode: 'overlay' });
  }

  function toggle(): Promise<void> {
    busy ??= flip().finally(() => {
      busy = null;
    });
    return busy;
  }

  window.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement | null;
    const typing = target?.closest('input, textarea, select, [contenteditable="true"]');
    if (event.key !== 'i' || event.ctrlKey || event.metaKey || event.altKey || typing) return;
    toggle().catch((error: unknown) => console.error(error));
  });
  gui
    ?.add({ inspector: () => toggle().catch((error: unknown) => console.error(error)) }, 'inspector')
    .name('inspector (i)');
  return { toggle };
}
