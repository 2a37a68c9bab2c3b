import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { onDeviceRecs } from 'on-device-recs/vite';

export default defineConfig({
  plugins: [
    // <on-device-recs> is a web component, not a Vue component: Vue renders it (on the server too) as a plain element
    vue({ template: { compilerOptions: { isCustomElement: (tag) => tag === 'on-device-recs' } } }),
    // serves (dev) and copies (browser build) the package's models and onnxruntime wasm to /models/ and /ort/
    onDeviceRecs(),
  ],
});
