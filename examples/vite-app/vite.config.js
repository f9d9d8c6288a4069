import { faceStylizer } from '@face-stylizer/sdk/vite';

// Serves (dev) and emits (build) the landmarker, onnxruntime-web's WASM, the SDK's workers, the
// base model and the default style pack where the SDK looks for them: beside its own module.
export default {
  plugins: [faceStylizer()],
};
