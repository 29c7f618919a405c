import type { Connect } from 'vite';

// Node's HTTP request and response types as Vite's own declarations spell them, so the plugin's declarations
// need no more of @types/node than Vite's do.

/** A dev-server request (Node's IncomingMessage). */
export type IncomingMessage = Connect.IncomingMessage;
/** A dev-server response (Node's ServerResponse). */
export type ServerResponse = Parameters<Connect.NextHandleFunction>[1];
