/// <reference types="vite/client" />

declare module 'virtual:drivekit-webgpu' {
  /** Whether the build bundled @tensorflow/tfjs-backend-webgpu (see vite.config.ts). */
  export const available: boolean;
  /** Why not, when it is not. */
  export const reason: string;
}
