import { defineConfig } from 'vite';
import { onDeviceRecs } from 'on-device-recs/vite';

// onDeviceRecs() serves (dev) and copies (build) the package's models and
// onnxruntime wasm to /models/ and /ort/, and lets Vite bundle the engine's worker.
export default defineConfig({
  plugins: [onDeviceRecs()],
});
