// Flags for Debian's Chromium in this sandbox: headless as root, no background network traffic
// (the machine has no network), optional fake camera and SwiftShader WebGPU.
export function chromiumArgs({ fakeCameraFile, webgpu = false } = {}) {
  const args = [
    '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-quic', '--no-first-run', '--disable-default-apps', '--mute-audio',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  ];
  if (fakeCameraFile) args.push(`--use-file-for-fake-video-capture=${fakeCameraFile}`);
  if (webgpu) {
    args.push('--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader');
  }
  return args;
}

// Chromium's console warning for a VideoFrame collected without close(). It comes from a periodic
// audit, so one line stands for one or more frames since the last audit.
export const UNCLOSED_VIDEOFRAME_WARNING = /A VideoFrame was garbage collected without being closed/;
