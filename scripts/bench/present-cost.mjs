#!/usr/bin/env node
// What showing camera frames costs Chromium's processes, by canvas kind: a 640×480 fake camera
// drawn every frame into nothing, a WebGL2 canvas (texture upload + draw) and a 2D canvas
// (drawImage), 8 s each, twice; CPU cores by role from /proc. On a machine without a GPU (WebGL
// on SwiftShader) this is what made the 2D-canvas renderer the default there (docs/benchmarks.md).
// Usage: node scripts/bench/present-cost.mjs   (after npm run setup: uses .cache/media/sample-face.mjpeg)
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { chromiumArgs } from '../lib/chromium.mjs';
import { chromiumThreadTimes, cpuByRole } from '../lib/process-cpu.mjs';
import { startStaticServer } from '../lib/static-server.mjs';

const page0 = `<html><body><canvas id=c width=640 height=480></canvas><script>
window.run = async (mode, seconds) => {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  const video = document.createElement('video'); video.muted = true; video.srcObject = stream; await video.play();
  const old = document.getElementById('c'); const c = document.createElement('canvas'); c.width = 640; c.height = 480; old.replaceWith(c); c.id = 'c';
  let draw = () => {};
  if (mode === '2d') { const ctx = c.getContext('2d'); draw = () => ctx.drawImage(video, 0, 0); }
  if (mode === 'webgl') {
    const gl = c.getContext('webgl2'); const tex = gl.createTexture(); gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    const vs = gl.createShader(gl.VERTEX_SHADER); gl.shaderSource(vs, '#version 300 es\\nout vec2 uv; void main(){ vec2 p = vec2((gl_VertexID<<1)&2, gl_VertexID&2); uv = p; gl_Position = vec4(p*2.0-1.0,0,1);}'); gl.compileShader(vs);
    const fs = gl.createShader(gl.FRAGMENT_SHADER); gl.shaderSource(fs, '#version 300 es\\nprecision mediump float; in vec2 uv; uniform sampler2D t; out vec4 o; void main(){ o = texture(t, vec2(uv.x, 1.0-uv.y)); }'); gl.compileShader(fs);
    const p = gl.createProgram(); gl.attachShader(p, vs); gl.attachShader(p, fs); gl.linkProgram(p); gl.useProgram(p);
    draw = () => { gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, video); gl.drawArrays(gl.TRIANGLES, 0, 3); };
  }
  let frames = 0; const end = performance.now() + seconds * 1000;
  await new Promise((resolve) => { const f = () => { draw(); frames++; if (performance.now() < end) video.requestVideoFrameCallback(f); else resolve(); }; video.requestVideoFrameCallback(f); });
  stream.getTracks().forEach(t => t.stop());
  return frames / seconds;
};
</script></body></html>`;
const server = await startStaticServer({
  mounts: {},
  handlers: { '/': (req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(page0) },
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs({ fakeCameraFile: `${fileURLToPath(new URL('../../.cache/media/sample-face.mjpeg', import.meta.url))}` }) });
const page = await browser.newPage();
await page.goto(`${server.url}/`);
for (const mode of ['none', 'webgl', '2d', 'none', 'webgl', '2d']) {
  await page.evaluate((m) => window.run(m, 2), mode);
  const before = chromiumThreadTimes();
  const fps = await page.evaluate((m) => window.run(m, 8), mode);
  const roles = cpuByRole(before, chromiumThreadTimes());
  const cores = (seconds) => (seconds / 8).toFixed(2);
  const total = roles.rendererMain + roles.rendererOther + roles.gpuProcess + roles.other;
  console.log(`${mode.padEnd(6)} ${fps.toFixed(1)} fps, ${cores(total)} cores: page main ${cores(roles.rendererMain)}, other page threads ${cores(roles.rendererOther)}, GPU process ${cores(roles.gpuProcess)}, other ${cores(roles.other)}`);
}
await browser.close();
await server.close();
